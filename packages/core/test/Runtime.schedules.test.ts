/**
 * Time-driven work under the TestClock: scheduled commands (and cancelled ones), heartbeats.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  BlobStore,
  Runtime,
  Scheduler
} from "@reventless/core"
import { Effect, Option } from "effect"
import { TestClock } from "effect/testing"
import { Deposit, Account, bank, amounts } from "./fixtures/bank.ts"

describe("Runtime: schedules and heartbeats", () => {
  it.effect("scheduled commands are delivered once due; a cancelled one never is", () =>
    Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      const blobs = yield* BlobStore.BlobStore
      const put = (key: string, body: unknown) => blobs.put("schedules", key, new TextEncoder().encode(JSON.stringify(body)))
      yield* put("one", { key: "later", id: "scheduled", amount: 5, at: 5_000 })
      yield* put("two", { key: "sooner", id: "scheduled", amount: 7, at: 3_000 })
      yield* put("three", { cancel: "sooner" })
      yield* runtime.awaitIdle
      assert.deepStrictEqual((yield* (yield* Scheduler.Scheduler).list).map((entry) => entry.key), ["later"])

      yield* TestClock.adjust("4 seconds")
      yield* runtime.awaitIdle
      assert.deepStrictEqual(yield* runtime.readStream("Account", "scheduled"), [])

      yield* TestClock.adjust("2 seconds")
      yield* runtime.awaitIdle
      const delivered = yield* runtime.readStream("Account", "scheduled")
      assert.deepStrictEqual(amounts(delivered), [5])
      assert.strictEqual(delivered[0]!.meta.msgId, "later")
      assert.deepStrictEqual(yield* (yield* Scheduler.Scheduler).list, [])
    }).pipe(Effect.provide(bank())))

  it.effect("each plugin beats every heartbeatInterval seconds, visible in health", () =>
    Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      const beats = Effect.map(runtime.health, (health) => health.plugins[0]!)
      yield* TestClock.adjust("4 seconds")
      assert.strictEqual((yield* beats).beats, 1) // at start
      yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* beats).beats, 2)
      yield* TestClock.adjust("5 seconds")
      const later = yield* beats
      assert.deepStrictEqual(later, { plugin: "Bank", heartbeatInterval: 5, beats: 3, lastBeatAt: Option.some(new Date(10_000).toISOString()) })
      // Events carry their commit time, on the same clock.
      yield* Runtime.execute(Account, "timed", Deposit.make({ amount: 1 }))
      assert.deepStrictEqual((yield* runtime.readStream("Account", "timed")).map((event) => event.recordedAt), [new Date(10_000).toISOString()])
    }).pipe(Effect.provide(bank())))
})
