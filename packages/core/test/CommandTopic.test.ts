/**
 * The memory CommandTopic: per-partition order, one handler per shard, no command lost to an
 * interrupted sender or a store outage; and its in-process lane (internal/lanes.ts), which
 * settles an awaited command in the sender's call only when its shard has nothing outstanding.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Lanes from "../src/internal/lanes.ts"
import { CommandTopic, Errors, Message } from "@reventless/core"
import { Deferred, Effect, Fiber, Schema } from "effect"
import { TestClock } from "effect/testing"

const message = (id: string, name: string): Message.CommandMessage => {
  const meta = Message.makeMeta({}, "2026-11-23T00:00:00.000Z")
  return { component: "Bank.Account", id, msgId: meta.msgId, meta, command: { name } }
}
const nameOf = (message: Message.CommandMessage) => (message.command as { readonly name: string }).name

/**
 * A consumer on one shard that records what it handles and how many handlers run at once; the
 * message named "slow" waits for `release`, and "flaky" fails its first `failures` handlings.
 */
const consumer = Effect.fnUntraced(function*(options: { readonly failures?: number } = {}) {
  const topic = yield* CommandTopic.CommandTopic
  const release = yield* Deferred.make<void>()
  const started = yield* Deferred.make<void>()
  const log: Array<string> = []
  const running = { now: 0, most: 0 }
  let failures = options.failures ?? 0
  const handleOne = (message: Message.CommandMessage) =>
    Effect.gen(function*() {
      const name = nameOf(message)
      if (name === "flaky" && failures > 0) {
        failures--
        return yield* new Errors.InfrastructureError({ service: "EventStore", operation: "commit", detail: "staged outage", retryable: true })
      }
      if (name === "slow") {
        yield* Deferred.succeed(started, undefined)
        yield* Deferred.await(release)
      }
      log.push(name)
    })
  yield* topic.consume({
    concurrency: 1,
    handle: (messages) =>
      Effect.suspend(() => {
        running.most = Math.max(running.most, ++running.now)
        return Effect.forEach(messages, handleOne, { discard: true })
      }).pipe(Effect.ensuring(Effect.sync(() => void running.now--)))
  })
  return { topic, release, started, log, running }
})

const run = <A, E>(effect: Effect.Effect<A, E, CommandTopic.CommandTopic | import("effect").Scope.Scope>) =>
  effect.pipe(Effect.scoped, Effect.provide(CommandTopic.layerMemory))

describe("CommandTopic.layerMemory", () => {
  it.effect("a published command, awaited or not, is queued for its shard's worker and handled in order", () =>
    run(Effect.gen(function*() {
      const { log, topic } = yield* consumer()
      yield* topic.publish([message("a", "awaited")], { awaited: true })
      yield* topic.publish([message("a", "sent")])
      assert.deepStrictEqual(log, [], "queued for the worker")
      yield* Effect.yieldNow
      assert.deepStrictEqual(log, ["awaited", "sent"])
      assert.strictEqual(yield* topic.pending, 0)
    })))

  it.effect("while a sender handles its command, what is published to the shard waits behind it, in order, and the worker never runs alongside", () =>
    run(Effect.gen(function*() {
      const { log, release, running, started, topic } = yield* consumer()
      const slow = yield* Effect.forkChild(topic.publish([message("a", "slow")], { awaited: true }))
      yield* Deferred.await(started)
      yield* topic.publish([message("a", "second")])
      const third = yield* Effect.forkChild(topic.publish([message("b", "third")], { awaited: true }))
      yield* Effect.yieldNow
      assert.deepStrictEqual(log, [], "nothing overtook the slow command")
      assert.strictEqual(yield* topic.pending, 3)
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(slow)
      yield* Fiber.join(third)
      while ((yield* topic.pending) > 0) yield* Effect.yieldNow
      assert.deepStrictEqual(log, ["slow", "second", "third"])
      assert.strictEqual(running.most, 1, "one handler per shard at a time")
    })))

  it.effect("a sender interrupted while its command runs does not cut the command short", () =>
    run(Effect.gen(function*() {
      const { log, release, started, topic } = yield* consumer()
      const slow = yield* Effect.forkChild(topic.publish([message("a", "slow")], { awaited: true }))
      yield* Deferred.await(started)
      const interrupted = yield* Effect.forkChild(Fiber.interrupt(slow))
      yield* Effect.yieldNow
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(interrupted)
      assert.deepStrictEqual(log, ["slow"])
      assert.strictEqual(yield* topic.pending, 0)
    })))

  it.effect("the in-process lane settles a command in the sender's call, passing on its decoded command, only when the shard is idle and the handler takes it; otherwise it publishes nothing", () =>
    run(Effect.gen(function*() {
      const topic = yield* CommandTopic.CommandTopic
      const lane = Lanes.of(topic)!
      const now: Array<[string, unknown]> = []
      const handled: Array<string> = []
      let settled = 0
      const release = yield* Deferred.make<void>()
      assert.isUndefined(lane.settleNow(message("a", "early")), "nothing is settled before a consumer runs")
      lane.handler = (message, decoded) => {
        if (nameOf(message) === "declined") return undefined
        now.push([nameOf(message), decoded])
        return Effect.void
      }
      yield* topic.consume({
        concurrency: 1,
        handle: (messages) =>
          Effect.andThen(
            Effect.sync(() => void handled.push(...messages.map(nameOf))),
            messages.some((message) => nameOf(message) === "slow") ? Deferred.await(release) : Effect.void
          ),
        settled: () => void settled++
      })
      assert.strictEqual(lane.settleNow(message("a", "first"), { decoded: 1 }), Effect.void)
      assert.deepStrictEqual(now, [["first", { decoded: 1 }]])
      assert.strictEqual(settled, 1, "a command settled in the lane counts as progress")
      assert.isUndefined(lane.settleNow(message("a", "declined")))
      assert.strictEqual(yield* topic.pending, 0, "a declined command is not published")
      // A slow command keeps the shard busy: the lane leaves the next one to publish.
      yield* topic.publish([message("a", "slow")], { awaited: true })
      yield* Effect.yieldNow
      assert.deepStrictEqual(handled, ["slow"], "a published command goes through the queue, awaited or not")
      assert.isUndefined(lane.settleNow(message("b", "behind")))
      assert.strictEqual(yield* topic.pending, 1)
      yield* Deferred.succeed(release, undefined)
      while ((yield* topic.pending) > 0) yield* Effect.yieldNow
      assert.deepStrictEqual(now.map(([name]) => name), ["first"])
    })))

  it.effect.prop(
    "hashKey is FNV-1a over the partition key's UTF-16 code units, component + \"/\" + id, the same in every process",
    { component: Schema.String, id: Schema.String },
    ({ component, id }) =>
      Effect.sync(() => {
        let hash = 0x811c9dc5
        for (const char of `${component}/${id}`.split("")) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193)
        assert.strictEqual(CommandTopic.hashKey({ component, id }), hash >>> 0)
        assert.strictEqual(CommandTopic.hashKey({ component, id }), hash >>> 0, "the same when the component's part is remembered")
      })
  )

  it.effect("a command its sender could not settle (the stores are down) keeps its shard and is tried until it works; what came after waits behind it", () =>
    run(Effect.gen(function*() {
      const { log, topic } = yield* consumer({ failures: 2 })
      yield* topic.publish([message("a", "flaky")], { awaited: true })
      yield* topic.publish([message("a", "after")])
      yield* Effect.yieldNow
      assert.deepStrictEqual(log, [])
      assert.strictEqual(yield* topic.pending, 2, "kept, not acknowledged")
      yield* TestClock.adjust("1 second")
      yield* TestClock.adjust("1 second")
      while ((yield* topic.pending) > 0) yield* Effect.yieldNow
      assert.deepStrictEqual(log, ["flaky", "after"])
    })))
})
