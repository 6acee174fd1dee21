/**
 * What the runtime does when user code or the stores fail: throws and failing queries are retried
 * on the transient schedule, then parked, each command or event on its own; nothing else stops.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  Aggregate,
  BlobStore,
  Errors,
  EventStore,
  MemoryPlatform,
  Message,
  Plugin,
  ReadModel,
  Runtime,
  SideEffect,
  Task
} from "@reventless/core"
import { Faults } from "@reventless/testing"
import { Effect, Layer, Option, Result, Schedule, Schema, SchemaGetter } from "effect"
import { Deposit, Explode, Poison, Deposited, Account, tally, bank, bankWithFaults, amounts } from "./fixtures/bank.ts"

describe("Runtime: failures", () => {
  it.effect("a decide that throws parks its own command only", () =>
    Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      const exploding = yield* runtime.send({ component: "Account", id: "x", command: { _tag: "Explode" } })
      yield* runtime.send({ component: "Account", id: "y", command: { _tag: "Deposit", amount: 3 } })
      yield* runtime.send({ component: "Account", id: "x", command: { _tag: "Deposit", amount: 4 } })
      yield* runtime.awaitIdle
      const letters = yield* runtime.deadLetters.list()
      assert.deepStrictEqual(letters.map((letter) => letter.id), [exploding])
      assert.include(letters[0]!.reason, "boom")
      assert.strictEqual(letters[0]!.attempts, 4, "a throw is retried on the transient schedule before it is parked")
      assert.notInclude(letters[0]!.reason, "\n", "one line: no stack trace")
      assert.notInclude(letters[0]!.reason, "/test/", "no file paths")
      assert.deepStrictEqual(amounts(yield* runtime.readStream("Account", "y")), [3])
      assert.deepStrictEqual(amounts(yield* runtime.readStream("Account", "x")), [4])
      const failed = yield* Effect.flip(Runtime.execute(Account, "z", Explode.make({})))
      assert.strictEqual(failed._tag, "CommandFailed")
    }).pipe(Effect.provide(bank())))

  it.effect("a decide or a projection that throws twice is retried on the transient schedule and goes through: nothing is parked", () => {
    const throws = { decide: 2, project: 2 }
    const Flaky = tally("Flaky", (command) => {
      if (throws.decide-- > 0) throw new Error("decide blip")
      return Result.succeed([Deposited.make({ amount: command.amount })])
    })
    const Totals = ReadModel.make({
      name: "FlakyTotals",
      row: Schema.Struct({ total: Schema.Int }),
      projections: [
        ReadModel.projection(Flaky, ({ event, id }) => {
          if (throws.project-- > 0) throw new Error("projection blip")
          return ReadModel.updateWithDefault<{ readonly total: number }>(id, { total: 0 }, (row) => ({ total: row.total + event.amount }))
        })
      ]
    })
    const layer = Runtime.layer({ plugins: [Plugin.make({ name: "Flakes", heartbeatInterval: 5, aggregates: [Flaky], readModels: [Totals] })], retrySchedule: Schedule.recurs(3) })
      .pipe(Layer.provideMerge(MemoryPlatform.layer))
    return Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      assert.deepStrictEqual(yield* Runtime.execute(Flaky, "f", Deposit.make({ amount: 5 })), [{ _tag: "Deposited", amount: 5 }])
      yield* runtime.awaitIdle
      assert.deepStrictEqual(yield* runtime.query("FlakyTotals", "f"), Option.some({ total: 5 }))
      assert.deepStrictEqual([throws.decide, throws.project], [-1, -1], "each threw twice, then ran again")
      assert.lengthOf(yield* runtime.deadLetters.list(), 0)
    }).pipe(Effect.provide(layer))
  })

  it.effect("a decision whose query fails is tried again on the transient schedule, then parked; its error is never taken for a rejection", () => {
    const outage = { left: 2 }
    const down = (detail: string) => Effect.fail(new Errors.InfrastructureError({ service: "Rates", operation: "get", detail, retryable: true }))
    const Quote = tally("Quote", (command) =>
      Effect.suspend(() =>
        command.amount === 13 ? down("down for good") : outage.left-- > 0 ? down("blip") : Effect.succeed([Deposited.make({ amount: command.amount })])))
    const quotes = Runtime.layer({ plugins: [Plugin.make({ name: "Rates", heartbeatInterval: 5, aggregates: [Quote] })], retrySchedule: Schedule.recurs(3) })
      .pipe(Layer.provideMerge(MemoryPlatform.layer))
    return Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      assert.deepStrictEqual(yield* Runtime.execute(Quote, "q", Deposit.make({ amount: 5 })), [{ _tag: "Deposited", amount: 5 }])
      assert.strictEqual(outage.left, -1, "the outage was not waited out")
      const failed = yield* Effect.flip(Runtime.execute(Quote, "q", Deposit.make({ amount: 13 })))
      assert.strictEqual(failed._tag, "CommandFailed")
      const [letter] = yield* runtime.deadLetters.list()
      assert.include(letter!.reason, "down for good")
      assert.strictEqual(letter!.attempts, 4)
      assert.deepStrictEqual(amounts(yield* runtime.readStream("Rates.Quote", "q")), [5])
    }).pipe(Effect.provide(quotes))
  })

  it.live("a task that cannot even be parked (the dead letters are down) runs again, and its bucket goes on", () =>
    Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      const blobs = yield* BlobStore.BlobStore
      const faults = yield* Faults.Faults
      faults.failParks = 1
      yield* blobs.put("schedules", "broken-1.json", new TextEncoder().encode("not json"))
      yield* runtime.awaitIdle
      assert.strictEqual(faults.failParks, 0, "parking never failed")
      yield* blobs.put("schedules", "broken-2.json", new TextEncoder().encode("not json either"))
      yield* runtime.awaitIdle
      const letters = yield* runtime.deadLetters.list()
      assert.deepStrictEqual(letters.map((letter) => letter._tag === "Task" ? letter.notification.key : letter._tag), ["broken-1.json", "broken-2.json"])
    }).pipe(Effect.provide(bankWithFaults({ retrySchedule: Schedule.recurs(1) }))))

  it.effect("an evolve that throws after a commit stops neither the worker nor other accounts; the account's next command is parked", () =>
    Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      yield* Runtime.execute(Account, "p", Deposit.make({ amount: 1 }))
      yield* Runtime.execute(Account, "p", Poison.make({}))
      assert.deepStrictEqual(yield* Runtime.execute(Account, "q", Deposit.make({ amount: 2 })), [Deposited.make({ amount: 2 })])
      const failed = yield* Effect.flip(Runtime.execute(Account, "p", Deposit.make({ amount: 3 })))
      assert.strictEqual(failed._tag, "CommandFailed")
      assert.include(failed._tag === "CommandFailed" ? failed.reason : "", "cannot fold Poisoned")
      // A sender asking after the parking still hears the failure.
      const store = yield* EventStore.EventStore
      const late = yield* store.awaitOutcome(failed._tag === "CommandFailed" ? failed.msgId : "")
      assert.strictEqual(late._tag, "Failed")
      assert.lengthOf(yield* runtime.deadLetters.list(), 1)
    }).pipe(Effect.provide(bank({ concurrency: 1 }))))

  it.effect("an event codec that throws parks the command (the synchronous lane declines) and the aggregate goes on", () => {
    const Noted = Schema.TaggedStruct("Noted", {
      text: Schema.String.pipe(Schema.decodeTo(Schema.String, {
        decode: SchemaGetter.transform((text: string) => text),
        encode: SchemaGetter.transform((text: string) => {
          if (text === "boom") throw new Error("encoder boom")
          return text
        })
      }))
    })
    const Note = Schema.TaggedStruct("Note", { text: Schema.String })
    const Notes = Aggregate.make({
      name: "Notes",
      command: Note,
      event: Noted,
      rejection: Schema.Never,
      state: Schema.Struct({ count: Schema.Int }),
      initialState: { count: 0 },
      evolve: (state) => ({ count: state.count + 1 }),
      decide: (_state, command) => Result.succeed([Noted.make({ text: command.text })])
    })
    const layer = Runtime.layer({ plugins: [Plugin.make({ name: "Pad", heartbeatInterval: 5, aggregates: [Notes] })], retrySchedule: Schedule.recurs(3) })
      .pipe(Layer.provideMerge(MemoryPlatform.layer))
    return Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      yield* Runtime.execute(Notes, "n", Note.make({ text: "warm" }))
      const failed = yield* Effect.flip(Runtime.execute(Notes, "n", Note.make({ text: "boom" })))
      assert.strictEqual(failed._tag, "CommandFailed")
      assert.include(failed._tag === "CommandFailed" ? failed.reason : "", "encoder boom")
      assert.lengthOf(yield* runtime.deadLetters.list(), 1)
      yield* Runtime.execute(Notes, "n", Note.make({ text: "after" }))
      assert.deepStrictEqual((yield* runtime.readStream("Pad.Notes", "n")).map((event) => event.data), [
        { _tag: "Noted", text: "warm" },
        { _tag: "Noted", text: "after" }
      ])
    }).pipe(Effect.provide(layer))
  })

  it.effect("a consumer whose event decoding throws (an upcaster) parks the event instead of dying", () => {
    const Said = Schema.TaggedStruct("Said", { text: Schema.String })
    const Say = Schema.TaggedStruct("Say", { text: Schema.String })
    const Voice = Aggregate.make({
      name: "Voice",
      command: Say,
      event: Said,
      rejection: Schema.Never,
      state: Schema.Struct({}),
      initialState: {},
      eventVersion: 2,
      upcast: () => {
        throw new Error("upcaster boom")
      },
      evolve: (state) => state,
      decide: (_state, command) => Result.succeed([Said.make({ text: command.text })])
    })
    const heard: Array<string> = []
    const Echo = SideEffect.make({ name: "Echo", source: Voice, execute: ({ event }) => Effect.sync(() => void heard.push(event.text)) })
    const plugin = Plugin.make({ name: "Talk", heartbeatInterval: 5, aggregates: [Voice], tasks: [Task.make({ name: "Echoes", sideEffects: [Echo] })] })
    const layer = Runtime.layer({ plugins: [plugin], retrySchedule: Schedule.recurs(1) }).pipe(Layer.provideMerge(MemoryPlatform.layer))
    return Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      // A version 1 event, which only the (broken) upcaster can read.
      yield* Effect.flatMap(Effect.service(EventStore.EventStore), (store) =>
        store.commit([{
          msgId: "legacy",
          component: "Talk.Voice",
          id: "v",
          boundary: { _tag: "Stream", expectedVersion: 0 },
          decided: { _tag: "Events", events: [{ type: "Talk.Voice.Said", schemaVersion: 1, data: { _tag: "Said", text: "old" } }] },
          meta: Message.makeMeta({ msgId: "legacy" }, new Date(0).toISOString())
        }]))
      yield* Runtime.execute(Voice, "w", Say.make({ text: "new" }))
      yield* runtime.awaitIdle
      const [letter] = yield* runtime.deadLetters.list()
      assert.strictEqual(letter?._tag, "Event")
      assert.include(letter?.reason, "upcaster boom")
      assert.deepStrictEqual(heard, [], "the consumer waits on the parked event")
    }).pipe(Effect.provide(layer))
  })
})
