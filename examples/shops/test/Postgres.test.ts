/** Both shops on PostgreSQL: each story on a fresh database tells what it tells in memory. */
import { Databases, PostgresPlatform } from "@reventless/postgres"
import { Effect, Layer } from "effect"
import { inject } from "vitest"
import { tellTheSame } from "./stories.ts"

tellTheSame("PostgreSQL", (name) =>
  Layer.unwrap(Effect.map(Effect.orDie(Databases.create(inject("databaseUrl"), name)), (url) => PostgresPlatform.layer({ url }))))
