/**
 * What only a real database can show: positions follow commit order even when a slow transaction
 * holds its events while others commit (so a consumer never skips one), a wrong URL fails fast
 * with a clear error, and the platform lives through a server restart.
 */
import { assert, describe, it } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { EventStore, type EventTopic, Faults, type Message } from "@reventless/core"
import { Context, Effect, Fiber, Layer, Redacted } from "effect"
import { Migrations, PgEventStore, PostgresPlatform } from "../src/index.ts"
import { freshDatabase } from "./support.ts"

const meta = (msgId: string): Message.Meta => ({ service: "test", time: "2026-01-01T00:00:00.000Z", ip: "", user: "test", msgId, correlationId: msgId })

/** An EventStore with its own connections and fault switches: another process, as far as the database can tell. */
const storeOn = (url: string, faults: Partial<Faults.FaultSwitches> = {}) =>
  PgEventStore.layer.pipe(
    Layer.provide(Layer.effectDiscard(Effect.flatMap(Effect.service(PgClient.PgClient), (sql) => Migrations.migrate(sql)))),
    Layer.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 4 })),
    Layer.provide(Layer.succeed(Faults.Faults, { ...Faults.none(), ...faults }))
  )

const storeIn = <E>(layer: Layer.Layer<EventStore.EventStore | EventTopic.EventTopic, E>) =>
  Effect.map(Layer.build(layer), (context) => Context.get(context, EventStore.EventStore))

const append = (store: EventStore.EventStore["Service"], streamId: string, msgId: string) =>
  store.commit([{
    _tag: "Append",
    request: { msgId, source: "Test.Thing", streamId, expectedVersion: "any", events: [{ type: "Happened", schemaVersion: 1, data: { msgId } }], meta: meta(msgId) }
  }])

describe("PgEventStore", () => {
  it.live("a slow transaction never leaves a gap a consumer could skip: positions follow commit order", () =>
    Effect.gen(function*() {
      const url = yield* freshDatabase("gaps")
      const slow = yield* storeIn(storeOn(url, { commitDelayMillis: 150 }))
      const fast = yield* storeIn(storeOn(url))
      const reader = yield* storeIn(storeOn(url))
      const writers = yield* Effect.forkChild(Effect.all([
        Effect.forEach([1, 2, 3, 4, 5], (i) => append(slow, "slow", `slow-${i}`), { discard: true }),
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
          _tag: "Append",
          request: {
            msgId: `m-${i}`,
            source: "Test.Thing",
            streamId: `s-${i}`,
            expectedVersion: 0,
            events: [{ type: "Happened", schemaVersion: 1, data: { text: i % 10 === 0 ? "a\u0000b" : "fine" } }],
            meta: meta(`m-${i}`)
          }
        }])), { concurrency: "unbounded" })
      results.forEach((result, i) => {
        if (i % 10 === 0) assert.isTrue(result._tag === "Failure", `batch ${i} should have been refused`)
        else assert.isTrue(result._tag === "Success" && result.success[0]?._tag === "Committed", `batch ${i} failed with a refused neighbour`)
      })
      assert.strictEqual(yield* store.head, 36)
    }).pipe(Effect.scoped))
})
