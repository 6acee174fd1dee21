import { assert, describe, it } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer } from "effect"
import { clientLayer, freshDatabase } from "./support.ts"

describe("the run's PostgreSQL", () => {
  it.effect("answers on a fresh database", () =>
    Effect.gen(function*() {
      const sql = yield* PgClient.PgClient
      const rows = yield* sql<{ n: number }>`SELECT 1 + 1 AS n`
      assert.deepStrictEqual(rows.map((row) => Number(row.n)), [2])
    }).pipe(Effect.provide(Layer.unwrap(Effect.map(freshDatabase("smoke"), clientLayer)))))
})
