/**
 * The runtime's command path on the memory platform: batched decisions equal one-by-one ones, a
 * conflict with another writer is decided again, the registered schema checks a typed command,
 * a client with only the CommandTopic and the EventStore, upcasting and snapshots.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  Aggregate,
  CommandTopic,
  EventStore,
  Message,
  Runtime
} from "@reventless/core"
import { Properties } from "@reventless/testing"
import { Effect, Option, Result, Schema } from "effect"
import { Deposit, Withdraw, Deposited, Withdrawn, InsufficientFunds, Account, bank, newEvent, appendBehindTheRuntime, amounts, Step } from "./fixtures/bank.ts"

describe("Runtime: commands", () => {
  it.effect.prop(
    "a burst of sends is decided in batches, yet each account ends as if its commands ran one by one",
    [Schema.Array(Step)],
    ([steps]) =>
      Effect.gen(function*() {
        const runtime = yield* Runtime.Runtime
        for (const step of steps) yield* runtime.send({ component: "Account", id: step.id, command: step.command })
        yield* runtime.awaitIdle
        for (const id of ["a", "b", "c"]) {
          const expected = Properties.run(Account, steps.filter((step) => step.id === id).map((step) => step.command))
          const stream = yield* runtime.readStream("Account", id)
          assert.deepStrictEqual(stream.map((event) => event.data), [...expected.events])
          assert.deepStrictEqual(stream.map((event) => event.version), expected.events.map((_, i) => i + 1))
          assert.deepStrictEqual(yield* runtime.query("Balances", id), expected.events.length === 0 ? Option.none() : Option.some({
            balance: expected.state.balance,
            tier: expected.state.balance >= 100 ? "gold" : "basic"
          }))
        }
      }).pipe(Effect.provide(bank({ concurrency: 2 }))),
    { arbitrary: { runs: 40 } }
  )

  it.effect("an append by another writer is a version conflict: the command is decided again on fresh state", () =>
    Effect.gen(function*() {
      yield* Runtime.execute(Account, "x", Deposit.make({ amount: 10 }))
      yield* appendBehindTheRuntime("x", 1, [newEvent(5, 2)])
      // The warm state says 10, so this would be rejected; the log says 15.
      const events = yield* Runtime.execute(Account, "x", Withdraw.make({ amount: 15 }))
      assert.deepStrictEqual(events, [Withdrawn.make({ amount: 15 })])
      const runtime = yield* Runtime.Runtime
      assert.deepStrictEqual((yield* runtime.readStream("Account", "x")).map((event) => event.version), [1, 2, 3])
      // A rejection decided on stale state is retried the same way.
      yield* appendBehindTheRuntime("x", 3, [newEvent(1, 2)])
      const rejected = yield* Effect.flip(Runtime.execute(Account, "x", Withdraw.make({ amount: 5 })))
      assert.deepStrictEqual(rejected, new InsufficientFunds({ balance: 1 }))
    }).pipe(Effect.provide(bank())))

  it.effect("events of an older schema version are upcast when read", () =>
    Effect.gen(function*() {
      yield* appendBehindTheRuntime("legacy", 0, [newEvent("7", 1), newEvent("7", 1)])
      const runtime = yield* Runtime.Runtime
      assert.deepStrictEqual(yield* runtime.state("Account", "legacy"), { version: 2, state: { balance: 14 } })
      yield* Runtime.execute(Account, "legacy", Withdraw.make({ amount: 14 }))
      yield* runtime.awaitIdle
      assert.deepStrictEqual(yield* runtime.query("Balances", "legacy"), Option.some({ balance: 0, tier: "basic" }))
    }).pipe(Effect.provide(bank())))

  it.effect("snapshots are taken every snapshotEvery events, and a cold load starts from the latest one", () =>
    Effect.gen(function*() {
      const store = yield* EventStore.EventStore
      for (let i = 0; i < 7; i++) yield* Runtime.execute(Account, "s", Deposit.make({ amount: 1 }))
      assert.deepStrictEqual(yield* store.loadSnapshot("Bank.Account", "s"), Option.some({ version: 6, state: { balance: 6 } }))
      // Doctor the snapshot, push `s` out of the one-entry cache, and watch the next decision use it.
      yield* store.saveSnapshot("Bank.Account", "s", { version: 6, state: { balance: 1000 } })
      yield* Runtime.execute(Account, "other", Deposit.make({ amount: 1 }))
      assert.deepStrictEqual(yield* Runtime.execute(Account, "s", Withdraw.make({ amount: 1001 })), [Withdrawn.make({ amount: 1001 })])
    }).pipe(Effect.provide(bank({ cacheSize: 1 }))))

  it.effect("a typed command is checked by the registered aggregate's schema, even when sent through a look-alike of the same name", () => {
    // Same name, looser schema: its encoding lets 1.5 through, so the registered Int must refuse it.
    const LookAlike = Aggregate.make({
      name: "Account",
      command: Schema.TaggedStruct("Deposit", { amount: Schema.Number }),
      event: Deposited,
      rejection: Schema.Never,
      state: Schema.Struct({ balance: Schema.Int }),
      initialState: { balance: 0 },
      evolve: (state) => state,
      decide: (_state, command) => Result.succeed([{ _tag: "Deposited" as const, amount: command.amount }])
    })
    return Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      const viaLookAlike = yield* Effect.flip(Runtime.execute(LookAlike, "t", { _tag: "Deposit", amount: 1.5 }))
      assert.deepStrictEqual([viaLookAlike._tag, viaLookAlike._tag === "InvalidCommand" ? viaLookAlike.path : ""], ["InvalidCommand", "[\"amount\"]"])
      // Through the registered aggregate itself, encoding runs the same check.
      const direct = yield* Effect.flip(Runtime.execute(Account, "t", { _tag: "Deposit", amount: 1.5 }))
      assert.strictEqual(direct._tag, "InvalidCommand")
      assert.deepStrictEqual(yield* runtime.readStream("Account", "t"), [])
      assert.deepStrictEqual(yield* Runtime.execute(LookAlike, "t", { _tag: "Deposit", amount: 2 }), [{ _tag: "Deposited", amount: 2 }])
      assert.deepStrictEqual(amounts(yield* runtime.readStream("Account", "t")), [2])
    }).pipe(Effect.provide(bank()))
  })

  it.effect("a client holding only the CommandTopic and the EventStore sends and awaits the outcome", () =>
    Effect.gen(function*() {
      const message = (msgId: string, command: unknown): Message.CommandMessage => ({
        component: "Bank.Account",
        id: "remote",
        msgId,
        meta: Message.makeMeta({ msgId, service: "remote-client" }, new Date(0).toISOString()),
        command
      })
      const accepted = yield* CommandTopic.sendAndAwait(message("remote-1", { _tag: "Deposit", amount: 3 }))
      assert.strictEqual(accepted._tag, "Accepted")
      assert.deepStrictEqual(accepted._tag === "Accepted" ? amounts(accepted.events) : [], [3])
      // Past the runtime's validation, a payload that does not decode is parked; the sender hears Failed.
      const failed = yield* CommandTopic.sendAndAwait(message("remote-2", { _tag: "Deposit", amount: "three" }))
      assert.strictEqual(failed._tag, "Failed")
      assert.include(failed._tag === "Failed" ? failed.reason : "", "amount")
    }).pipe(Effect.provide(bank())))
})
