/**
 * The memory CommandTopic's hand-off of awaited commands to the sender's own fiber: taken only
 * when the shard has nothing outstanding, and never at the expense of per-partition order, the
 * one-handler-per-shard bound, or a command (an interrupted sender, a store outage); and the
 * consumer's synchronous lane (`handleNow`), tried first.
 */
import { assert, describe, it } from "@effect/vitest"
import { CommandTopic, Errors, Message } from "@reventless/core"
import { Deferred, Effect, Fiber, Scheduler } from "effect"
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
  it.effect("an awaited command to an idle shard is handled before its publish returns; one not awaited waits for the worker", () =>
    run(Effect.gen(function*() {
      const { log, topic } = yield* consumer()
      yield* topic.publish([message("a", "awaited")], { awaited: true })
      assert.deepStrictEqual(log, ["awaited"], "handled in the sender's fiber")
      yield* topic.publish([message("a", "sent")])
      assert.deepStrictEqual(log, ["awaited"], "queued for the worker")
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

  it.effect("an interrupt that reaches the sender just as its command starts never leaves the shard busy", () => {
    // The run loop yields once right after the synchronous lane declined, and the sender is
    // interrupted during that yield: the shard's bookkeeping must not have begun outside the
    // uninterruptible region.
    let armed = false
    class YieldOnce extends Scheduler.MixedScheduler {
      override shouldYield(fiber: Parameters<Scheduler.MixedScheduler["shouldYield"]>[0]) {
        if (!armed) return super.shouldYield(fiber)
        armed = false
        return true
      }
    }
    return Effect.gen(function*() {
      const topic = yield* CommandTopic.CommandTopic
      const log: Array<string> = []
      yield* topic.consume({
        concurrency: 1,
        handle: (messages) => Effect.sync(() => void log.push(...messages.map(nameOf))),
        handleNow: (message) => {
          if (nameOf(message) === "first") armed = true
          return undefined
        }
      })
      const sender = yield* Effect.forkChild(topic.publish([message("a", "first")], { awaited: true }))
      yield* Effect.yieldNow
      yield* Fiber.interrupt(sender)
      yield* topic.publish([message("a", "second")])
      for (let i = 0; i < 100 && (yield* topic.pending) > 0; i++) yield* Effect.yieldNow
      assert.strictEqual(yield* topic.pending, 0, "nothing left pending")
      assert.include(log, "second", "the shard still works")
    }).pipe(Effect.scoped, Effect.provide(CommandTopic.layerMemory), Effect.provideService(Scheduler.Scheduler, new YieldOnce()))
  })

  it.effect("a consumer's synchronous lane (handleNow) settles an awaited command during its publish; when it declines, handle does", () =>
    run(Effect.gen(function*() {
      const topic = yield* CommandTopic.CommandTopic
      const handled: Array<string> = []
      const now: Array<string> = []
      let settled = 0
      yield* topic.consume({
        concurrency: 2,
        handle: (messages) => Effect.sync(() => void handled.push(...messages.map(nameOf))),
        handleNow: (message) => {
          if (nameOf(message) !== "now") return undefined
          now.push(nameOf(message))
          return Effect.void
        },
        settled: () => void settled++
      })
      yield* topic.publish([message("a", "now")], { awaited: true })
      yield* topic.publish([message("a", "later")], { awaited: true })
      assert.deepStrictEqual([now, handled], [["now"], ["later"]])
      yield* topic.publish([message("b", "now")])
      assert.deepStrictEqual(now, ["now"], "a command nobody awaits goes through the queue")
      while ((yield* topic.pending) > 0) yield* Effect.yieldNow
      assert.deepStrictEqual(handled, ["later", "now"])
      assert.strictEqual(settled, 3)
    })))

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
