/**
 * The platform guarantees and the DCB store contract, the same suites the memory platform passes,
 * on PostgreSQL: every test gets a fresh database.
 */
import { assert, describe, it } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { DcbEventStore, Plugin, Runtime } from "@reventless/core"
import { Conformance, DcbConformance } from "@reventless/testing"
import { Context, Effect, Layer } from "effect"
import { PostgresPlatform } from "../src/index.ts"
import { clientLayer, freshDatabase } from "./support.ts"

const platform = Layer.unwrap(Effect.map(freshDatabase("conformance"), (url) => PostgresPlatform.layer({ url, maxConnections: 4 })))

Conformance.suite("postgres", platform)

DcbConformance.suite(
  "postgres",
  DcbEventStore.fromEventStore(Plugin.dcbLog({ name: "Contract" })).pipe(Layer.provide(platform))
)

Conformance.scaleOutSuite(
  "postgres",
  Effect.map(freshDatabase("scaleout"), (url) => PostgresPlatform.layer({ url, maxConnections: 4, leases: { ttlSeconds: 2 }, commands: { leaseSeconds: 2 } }))
)

describe("hostile input on PostgreSQL", () => {
  it.live("the malformed-input corpus leaves every table as it was: row counts and the log head", () =>
    Effect.gen(function*() {
      const url = yield* freshDatabase("hostile")
      const context = yield* Layer.build(Layer.merge(
        Runtime.layer({ plugins: [Conformance.plugin, Conformance.subscriber] }).pipe(Layer.provideMerge(PostgresPlatform.layer({ url, maxConnections: 4 }))),
        clientLayer(url)
      ).pipe(Layer.provide(Conformance.outboxLayer)))
      const runtime = Context.get(context, Runtime.Runtime)
      const sql = Context.get(context, PgClient.PgClient)
      // Something in the tables first, so "unchanged" is not "still empty".
      yield* runtime.execute({ component: "Counter", id: "before", command: { _tag: "Increment", by: 3 } })
      yield* runtime.awaitIdle
      const counts = Effect.gen(function*() {
        const tables = yield* sql.unsafe<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'rv\\_%' ORDER BY tablename`)
        const counted: Record<string, number> = {}
        for (const { name } of tables) counted[name] = Number((yield* sql.unsafe<{ n: unknown }>(`SELECT count(*) AS n FROM "${name}"`))[0]!.n)
        return counted
      })
      const before = yield* counts
      assert.isAbove(before.rv_events!, 0)
      yield* Conformance.refusesHostileRequests(runtime)
      yield* runtime.awaitIdle
      assert.deepStrictEqual(yield* counts, before)
    }).pipe(Effect.scoped), 60_000)
})
