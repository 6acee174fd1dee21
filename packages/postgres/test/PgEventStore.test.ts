/**
 * What only a real database can show: positions follow commit order even when a slow transaction
 * holds its events while others commit (so a consumer never skips one), a wrong URL fails fast
 * with a clear error, and the platform lives through a server restart.
 */
import { assert, describe, it } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { EventStore, type EventTopic, type Message } from "@reventless/core"
import { Context, Effect, Fiber, Layer, Redacted } from "effect"
import { Migrations, PgEventStore, PostgresPlatform } from "../src/index.ts"
import { freshDatabase } from "./support.ts"

const meta = (msgId: string): Message.Meta => ({ service: "test", time: "2026-01-01T00:00:00.000Z", ip: "", user: "test", msgId, correlationId: msgId })

/** An EventStore with its own connections: another process, as far as the database can tell. */
const storeOn = (url: string) =>
  PgEventStore.layer.pipe(
    Layer.provide(Layer.effectDiscard(Effect.flatMap(Effect.service(PgClient.PgClient), (sql) => Migrations.migrate(sql)))),
    Layer.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 4 }))
  )

/**
 * A writer whose transactions stay open 150 ms after `rv_commit` wrote their events (a slow
 * process, a long transaction around the append): the store's commit function, called the way the
 * store calls it, in a transaction of the writer's own.
 */
const slowWriterOn = (url: string) =>
  Effect.map(Layer.build(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 })), (context) => {
    const sql = Context.get(context, PgClient.PgClient)
    return (streamId: string, msgId: string) =>
      sql.withTransaction(Effect.andThen(
        sql.unsafe(`SELECT rv_commit($1::jsonb, $2)`, [
          JSON.stringify([{ t: "A", m: msgId, s: "Test.Thing", i: streamId, x: null, meta: meta(msgId), e: [{ y: "Happened", v: 1, d: { msgId } }] }]),
          "2026-01-01T00:00:00.000Z"
        ]),
        Effect.sleep("150 millis")
      ))
  })

const storeIn = <E>(layer: Layer.Layer<EventStore.EventStore | EventTopic.EventTopic, E>) =>
  Effect.map(Layer.build(layer), (context) => Context.get(context, EventStore.EventStore))

const append = (store: EventStore.EventStore["Service"], streamId: string, msgId: string) =>
  store.commit([{
    msgId,
    component: "Test.Thing",
    id: streamId,
    boundary: { _tag: "Stream", expectedVersion: "any" },
    decided: { _tag: "Events", events: [{ type: "Happened", schemaVersion: 1, data: { msgId } }] },
    meta: meta(msgId)
  }])

describe("PgEventStore", () => {
  it.live("a slow transaction never leaves a gap a consumer could skip: positions follow commit order", () =>
    Effect.gen(function*() {
      const url = yield* freshDatabase("gaps")
      const fast = yield* storeIn(storeOn(url))
      const reader = yield* storeIn(storeOn(url))
      const slow = yield* slowWriterOn(url)
      const writers = yield* Effect.forkChild(Effect.all([
        Effect.forEach([1, 2, 3, 4, 5], (i) => slow("slow", `slow-${i}`), { discard: true }),
        Effect.forEach(Array.from({ length: 40 }, (_, i) => i), (i) => append(fast, `fast-${i % 4}`, `fast-${i}`), { concurrency: 8, discard: true })
      ], { concurrency: "unbounded" }))
      // A consumer tailing the log: every page continues exactly where the last one ended.
      let checkpoint = 0
      const seen: Array<string> = []
      while (seen.length < 45) {
        const page = yield* reader.readAll({ after: checkpoint, limit: 7 })
        page.events.forEach((event, i) => assert.strictEqual(event.position, checkpoint + i + 1, "a position was skipped or came late"))
        for (const event of page.events) seen.push(event.meta.msgId)
        checkpoint = page.events.length > 0 ? page.events[page.events.length - 1]!.position : checkpoint
        if (page.events.length === 0) yield* Effect.sleep("5 millis")
      }
      yield* Fiber.join(writers)
      assert.strictEqual(new Set(seen).size, 45)
      assert.strictEqual(yield* reader.head, 45)
    }).pipe(Effect.scoped))

  it.live("a wrong URL fails the platform at start with an error that names the server", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Layer.build(PostgresPlatform.layer({ url: "postgres://nobody:secret@127.0.0.1:1/nowhere", connectTimeout: "2 seconds" })))
      assert.strictEqual(error._tag, "InfrastructureError")
      assert.include(error.message, "cannot reach PostgreSQL at 127.0.0.1:1/nowhere")
      assert.notInclude(error.message, "secret")
    }).pipe(Effect.scoped))

  it.live("a batch the database refuses fails alone, not the batches committed in the same group", () =>
    Effect.gen(function*() {
      const store = yield* storeIn(storeOn(yield* freshDatabase("isolation")))
      // jsonb cannot hold the NUL character: the database refuses that batch as a whole.
      const batches = Array.from({ length: 40 }, (_, i) => i)
      const results = yield* Effect.forEach(batches, (i) =>
        Effect.result(store.commit([{
          msgId: `m-${i}`,
          component: "Test.Thing",
          id: `s-${i}`,
          boundary: { _tag: "Stream", expectedVersion: 0 },
          decided: { _tag: "Events", events: [{ type: "Happened", schemaVersion: 1, data: { text: i % 10 === 0 ? "a\u0000b" : "fine" } }] },
          meta: meta(`m-${i}`)
        }])), { concurrency: "unbounded" })
      results.forEach((result, i) => {
        if (i % 10 === 0) assert.isTrue(result._tag === "Failure", `batch ${i} should have been refused`)
        else assert.isTrue(result._tag === "Success" && result.success[0]?._tag === "Committed", `batch ${i} failed with a refused neighbour`)
      })
      assert.strictEqual(yield* store.head, 36)
    }).pipe(Effect.scoped))
})
