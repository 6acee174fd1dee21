/**
 * Two deployments, each with its own database, one owning an extension point and one extending
 * it: the owner's stored extension-point events reach the subscriber through SNS FIFO and its
 * queue, in order and once; a subscriber added later gets the past by backfill.
 */
import { assert, describe, it } from "@effect/vitest"
import { EventStore, Plugin, Runtime } from "@reventless/core"
import { Conformance } from "@reventless/testing"
import { Context, Effect, Layer } from "effect"
import { Provision, Resources, SnsExtensionPointTopic } from "../src/index.ts"
import { clients, fauxqs, freshDatabase, freshPrefix, platformOn } from "./support.ts"

const server = await fauxqs()

const outbox = Layer.sync(Conformance.Outbox, () => Conformance.Outbox.of({ deliveries: [], failuresLeft: 0, alwaysFailFor: undefined }))

/** A deployment of `plugins` on its own fresh database, on the shared resources of `prefix`. */
const deploy = (prefix: string, name: string, plugins: ReadonlyArray<Plugin.Plugin<Conformance.Outbox>>) =>
  Effect.flatMap(freshDatabase(name), (url) =>
    Effect.map(
      Layer.build(Runtime.layer({ plugins }).pipe(
        Layer.provideMerge(platformOn({ endpoint: server.address, url, resources: { prefix, create: true } })),
        Layer.provideMerge(outbox)
      )),
      (context) => ({ runtime: Context.get(context, Runtime.Runtime), store: Context.get(context, EventStore.EventStore), context })
    ))

const tallies = (store: EventStore.EventStore["Service"], id: string) =>
  Effect.map(store.readStream("Subscriber.Tally", id), (events) => events.map((event) => (event.data as { readonly by: number }).by))

const waitFor = <A>(read: Effect.Effect<A, unknown>, done: (value: A) => boolean, seconds = 15) =>
  Effect.gen(function*() {
    let value = yield* Effect.orDie(read)
    for (let i = 0; i < seconds * 10 && !done(value); i++) {
      yield* Effect.sleep("100 millis")
      value = yield* Effect.orDie(read)
    }
    return value
  })

describe("extension points across deployments", () => {
  it.live("the owner's extension-point events reach the subscriber's deployment in order, once; a later subscriber gets the past by backfill", () =>
    Effect.gen(function*() {
      const prefix = freshPrefix("deploy")
      const resources = Resources.layer({ prefix, create: true, s3Notifications: false }).pipe(Layer.provide(clients(server.address)))
      // Each deployment provisions its own graph: the subscriber's queue is subscribed before anything is published.
      const created = yield* Effect.provide(Provision.provision([Conformance.subscriber]), resources)
      assert.includeMembers([...created], [`subscription ${prefix}-conformance-counters-subscriber-counters.fifo to ${prefix}-conformance-counters-events.fifo`])

      const owner = yield* deploy(prefix, "owner", [Conformance.plugin])
      const subscriber = yield* deploy(prefix, "subscriber", [Conformance.subscriber])
      for (const by of [1, 2, 3]) yield* Runtime.execute(Conformance.Counter, "c1", { _tag: "Increment", by }).pipe(Effect.provide(owner.context))
      yield* Runtime.execute(Conformance.Counter, "c2", { _tag: "Increment", by: 5 }).pipe(Effect.provide(owner.context))
      yield* owner.runtime.awaitIdle

      assert.deepStrictEqual(yield* waitFor(tallies(subscriber.store, "c1"), (by) => by.length >= 3), [1, 2, 3])
      assert.deepStrictEqual(yield* waitFor(tallies(subscriber.store, "c2"), (by) => by.length >= 1), [5])
      assert.deepStrictEqual(yield* Effect.map(owner.store.readAll({ after: 0, limit: 100, sources: new Set(["Subscriber.Tally"]) }), (page) => page.events), [],
        "the owner's log got the subscriber's events")

      // A subscriber deployed after the events were published hears nothing of them...
      const Latecomer = Plugin.make({ name: "Latecomer", heartbeatInterval: 1, aggregates: Conformance.subscriber.aggregates, extensions: Conformance.subscriber.extensions })
      const late = yield* deploy(prefix, "late", [Latecomer])
      const lateTallies = Effect.map(late.store.readStream("Latecomer.Tally", "c1"), (events) => events.length)
      yield* Effect.sleep("1500 millis")
      assert.strictEqual(yield* lateTallies, 0)
      // ...until the owner backfills it; a second backfill and the live subscriber's copy change nothing.
      const sent = yield* SnsExtensionPointTopic.backfill("Conformance.Counters", "Latecomer.Counters").pipe(Effect.provide(owner.context))
      assert.strictEqual(sent, 4)
      assert.strictEqual(yield* waitFor(lateTallies, (n) => n >= 3), 3)
      yield* SnsExtensionPointTopic.backfill("Conformance.Counters", "Subscriber.Counters").pipe(Effect.provide(owner.context))
      yield* SnsExtensionPointTopic.backfill("Conformance.Counters", "Latecomer.Counters").pipe(Effect.provide(owner.context))
      yield* Effect.sleep("2 seconds")
      assert.deepStrictEqual(yield* tallies(subscriber.store, "c1"), [1, 2, 3])
      assert.strictEqual(yield* lateTallies, 3)
      assert.deepStrictEqual(
        yield* Effect.map(late.store.readStream("Latecomer.Tally", "c1"), (events) => events.map((event) => (event.data as { readonly by: number }).by)),
        [1, 2, 3]
      )
    }), 60_000)
})
