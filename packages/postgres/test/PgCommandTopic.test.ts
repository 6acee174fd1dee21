/**
 * The command queue of one worker process: a command whose sender awaits its outcome in the
 * process that owns its shard goes straight to the worker (no row in the queue table), one sent
 * without waiting goes through the table, and a ledger's entries keep their send order across both.
 */
import { assert, describe, it } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { CommandTopic, EventStore, type Message, Runtime } from "@reventless/core"
import { Context, Deferred, Effect, Exit, Layer, Scope } from "effect"
import { Ledger } from "@reventless/testing"
import { Migrations, PgCommandTopic, PostgresPlatform } from "../src/index.ts"
import { clientLayer, freshDatabase } from "./support.ts"

/** The topic alone, two shards, on a fresh database, with a client to look at the tables. */
const topicOn = (prefix: string) =>
  Effect.gen(function*() {
    const url = yield* freshDatabase(prefix)
    const context = yield* Layer.build(PgCommandTopic.layer({ shards: 2, leaseSeconds: 2 }).pipe(
      Layer.provide(Layer.effectDiscard(Effect.flatMap(Effect.service(PgClient.PgClient), (sql) => Migrations.migrate(sql)))),
      Layer.provideMerge(clientLayer(url))
    ))
    return { topic: Context.get(context, CommandTopic.CommandTopic), sql: Context.get(context, PgClient.PgClient) }
  })

const message = (id: string, msgId: string): Message.CommandMessage => ({
  component: "Test.Thing",
  id,
  msgId,
  meta: { service: "test", time: new Date(0).toISOString(), ip: "", user: "test", msgId, correlationId: msgId },
  command: { _tag: "Do" }
})

/** An id whose partition falls on `shard` of 2. */
const idOnShard = (shard: number) => {
  for (let i = 0; ; i++) if (CommandTopic.hashKey({ component: "Test.Thing", id: `p${i}` }) % 2 === shard) return `p${i}`
}

const queued = (sql: PgClient.PgClient) =>
  Effect.map(sql.unsafe<{ msg_id: string }>(`SELECT message->>'msgId' AS msg_id FROM rv_commands ORDER BY seq`), (rows) => rows.map((row) => row.msg_id))

const workerOn = (url: string) =>
  Effect.map(
    Layer.build(Layer.mergeAll(
      Runtime.layer({ plugins: [Ledger.Books] }).pipe(Layer.provideMerge(PostgresPlatform.layer({ url }))),
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

  it.live("hand-overs of a shard this process lost go to the table behind the rows stored before them", () =>
    Effect.gen(function*() {
      const { sql, topic } = yield* topicOn("lost")
      const id = idOnShard(1)
      const handled: Array<string> = []
      const gate = yield* Deferred.make<void>()
      yield* topic.consume({
        concurrency: 4,
        handle: (messages) =>
          Effect.gen(function*() {
            handled.push(...messages.map((m) => m.msgId))
            if (messages.some((m) => m.msgId === "x")) yield* Deferred.await(gate)
          })
      })
      yield* topic.publish([message(id, "x")], { awaited: true })
      yield* Effect.sleep("100 millis")
      yield* topic.publish([message(id, "m1")])
      yield* topic.publish([message(id, "m2")], { awaited: true })
      // Another worker holds the shard now (as after this one's lease expired).
      yield* sql.unsafe(`UPDATE rv_shard_leases SET owner = 'another', expires_at = now() + interval '1 hour' WHERE shard = 1`)
      yield* Effect.sleep("1500 millis")
      yield* Deferred.succeed(gate, undefined)
      yield* Effect.sleep("500 millis")
      assert.deepStrictEqual(handled, ["x"], "a process without the lease handled the partition")
      assert.deepStrictEqual(yield* queued(sql), ["m1", "m2"], "the new owner must find both, in send order")
      assert.strictEqual(yield* topic.pending, 2)
    }).pipe(Effect.scoped))

  it.live("a worker that stops puts its hand-overs, handled or not, in the table for the next", () =>
    Effect.gen(function*() {
      const { sql, topic } = yield* topicOn("stop")
      const scope = yield* Scope.make()
      yield* Scope.provide(
        topic.consume({ concurrency: 4, handle: (messages) => messages.some((m) => m.msgId === "x") ? Effect.never : Effect.void }),
        scope
      )
      yield* topic.publish([message("a", "x")], { awaited: true })
      yield* Effect.sleep("100 millis")
      yield* topic.publish([message("a", "y")], { awaited: true })
      yield* Scope.close(scope, Exit.void)
      assert.deepStrictEqual(yield* queued(sql), ["x", "y"])
      assert.strictEqual(yield* topic.pending, 2)
    }).pipe(Effect.scoped))

  it.live("a command PostgreSQL cannot store (a NUL character) is refused at publish, naming it, with nothing written", () =>
    Effect.gen(function*() {
      const { sql, topic } = yield* topicOn("nul")
      yield* topic.consume({ concurrency: 1, handle: () => Effect.void })
      const bad = { ...message("a", "bad"), command: { _tag: "Do", text: "a\u0000b" } }
      for (const options of [{ awaited: true }, { awaited: false }]) {
        const error = yield* Effect.flip(topic.publish([message("a", "good"), bad], options))
        assert.strictEqual(error._tag, "InfrastructureError")
        assert.isFalse(error.retryable)
        assert.include(error.message, `command for Test.Thing "a" at command.text: contains the NUL character`)
      }
      assert.deepStrictEqual(yield* queued(sql), [])
      assert.strictEqual(yield* topic.pending, 0)
    }).pipe(Effect.scoped))
})
