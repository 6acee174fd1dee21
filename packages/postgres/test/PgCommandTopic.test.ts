/**
 * The command queue of one worker process: a command whose sender awaits its outcome in the
 * process that owns its shard goes straight to the worker (no row in the queue table), one sent
 * without waiting goes through the table, and a ledger's entries keep their send order across both.
 */
import { assert, describe, it } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { EventStore, Runtime } from "@reventless/core"
import { Context, Effect, Layer } from "effect"
import { PostgresPlatform } from "../src/index.ts"
import { Books } from "./fixtures/Ledger.ts"
import { clientLayer, freshDatabase } from "./support.ts"

const workerOn = (url: string) =>
  Effect.map(
    Layer.build(Layer.mergeAll(
      Runtime.layer({ plugins: [Books] }).pipe(Layer.provideMerge(PostgresPlatform.layer({ url }))),
      clientLayer(url)
    )),
    (context) => ({
      runtime: Context.get(context, Runtime.Runtime),
      store: Context.get(context, EventStore.EventStore),
      sql: Context.get(context, PgClient.PgClient)
    })
  )

/** Whether any row was ever inserted into the queue table (its sequence was used). */
const queueUsed = (sql: PgClient.PgClient) =>
  Effect.map(sql.unsafe<{ is_called: boolean }>(`SELECT is_called FROM rv_commands_seq_seq`), (rows) => rows[0]!.is_called)

describe("PgCommandTopic", () => {
  it.live("an awaited command goes straight to this process's worker; a sent one through the table; send order holds across both", () =>
    Effect.gen(function*() {
      const { runtime, sql, store } = yield* workerOn(yield* freshDatabase("topic"))
      const ledgers = Array.from({ length: 48 }, (_, i) => `ledger-${i}`)

      yield* Effect.forEach(ledgers, (ledger) => runtime.execute({ component: "Books.Ledger", id: ledger, command: { _tag: "Record", seq: 1 } }), { concurrency: "unbounded" })
      assert.isFalse(yield* queueUsed(sql), "an awaited command was stored in the queue table")

      // Per ledger, three times: two entries sent without waiting (through the table), then one
      // awaited, with every ledger at it at once so that the worker is always fetching something.
      yield* Effect.forEach(ledgers, (ledger) =>
        Effect.gen(function*() {
          for (const round of [0, 1, 2]) {
            for (const seq of [2, 3]) yield* runtime.send({ component: "Books.Ledger", id: ledger, command: { _tag: "Record", seq: seq + 3 * round } })
            yield* runtime.execute({ component: "Books.Ledger", id: ledger, command: { _tag: "Record", seq: 4 + 3 * round } })
          }
        }), { concurrency: "unbounded", discard: true })
      assert.isTrue(yield* queueUsed(sql), "sent commands never reached the queue table")

      for (const ledger of ledgers) {
        const entries = (yield* store.readStream("Books.Ledger", ledger)).map((event) => event.data as { seq: number; previous: number })
        assert.deepStrictEqual(entries.map((entry) => entry.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], `ledger ${ledger} out of order`)
        entries.forEach((entry, i) => assert.strictEqual(entry.previous, i, `ledger ${ledger} decided on stale state`))
      }
      yield* Runtime.awaitIdle.pipe(Effect.provideService(Runtime.Runtime, runtime))
      assert.strictEqual(Number((yield* sql.unsafe<{ n: unknown }>(`SELECT count(*) AS n FROM rv_commands`))[0]!.n), 0, "handled rows were left in the queue")
    }).pipe(Effect.scoped))
})
