/** Per test file: a fresh database on the run's server (see globalSetup.ts). */
import { Databases } from "../src/index.ts"
import { Effect, Redacted } from "effect"
import { PgClient } from "@effect/sql-pg"
import { inject } from "vitest"

/** A new, empty database on the run's server; its URL. */
export const freshDatabase = (prefix: string): Effect.Effect<string> => Effect.orDie(Databases.create(inject("databaseUrl"), prefix))

export const clientLayer = (url: string) => PgClient.layer({ url: Redacted.make(url) })
