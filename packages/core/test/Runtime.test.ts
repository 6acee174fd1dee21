/**
 * The runtime's own behavior on the memory platform: batched command processing, conflicts with
 * another writer, throwing decisions, snapshots and upcasting, the scheduler and heartbeats under
 * TestClock, read model queries, the authorization hook and read model streams.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  Aggregate,
  Authorization,
  BlobStore,
  CommandTopic,
  Errors,
  type Event,
  EventStore,
  Faults,
  MemoryPlatform,
  Message,
  Plugin,
  QueryEngine,
  ReadModel,
  Runtime,
  Scheduler,
  SideEffect,
  Task
} from "@reventless/core"
import { Properties } from "@reventless/testing"
import { Effect, Fiber, Layer, Option, Predicate, Result, Schedule, Schema, SchemaGetter, Stream } from "effect"
import { TestClock } from "effect/testing"

const Deposit = Schema.TaggedStruct("Deposit", { amount: Schema.Int })
const Withdraw = Schema.TaggedStruct("Withdraw", { amount: Schema.Int })
const Explode = Schema.TaggedStruct("Explode", {})
const Poison = Schema.TaggedStruct("Poison", {})
const Command = Schema.Union([Deposit, Withdraw, Explode, Poison])
const Deposited = Schema.TaggedStruct("Deposited", { amount: Schema.Int })
const Withdrawn = Schema.TaggedStruct("Withdrawn", { amount: Schema.Int })
/** An event this aggregate's evolve cannot take: stored, then it throws on every fold. */
const Poisoned = Schema.TaggedStruct("Poisoned", {})
class InsufficientFunds extends Schema.TaggedError<InsufficientFunds>()("InsufficientFunds", { balance: Schema.Int }) {}

/** Version 1 of Deposited stored the amount as text. */
const upcast: Event.Upcaster = (event) =>
  event.schemaVersion === 1 && Predicate.isObject(event.data) && Predicate.hasProperty(event.data, "amount")
    ? { ...event.data, amount: Number(event.data.amount) }
    : event.data

const Account = Aggregate.make({
  name: "Account",
  command: Command,
  event: Schema.Union([Deposited, Withdrawn, Poisoned]),
  rejection: InsufficientFunds,
  state: Schema.Struct({ balance: Schema.Int }),
  initialState: { balance: 0 },
  evolve: (state, event) => {
    if (event._tag === "Poisoned") throw new Error("cannot fold Poisoned")
    return { balance: event._tag === "Deposited" ? state.balance + event.amount : state.balance - event.amount }
  },
  decide: (state, command) => {
    switch (command._tag) {
      case "Deposit":
        return Result.succeed([Deposited.make({ amount: command.amount })])
      case "Withdraw":
        return command.amount > state.balance
          ? Result.fail(new InsufficientFunds({ balance: state.balance }))
          : Result.succeed([Withdrawn.make({ amount: command.amount })])
      case "Explode":
        throw new Error("boom")
      case "Poison":
        return Result.succeed([Poisoned.make({})])
    }
  },
  eventVersion: 2,
  upcast,
  snapshotEvery: 3
})

const Balance = Schema.Struct({ balance: Schema.Int, tier: Schema.Literals(["basic", "gold"]) })
type Balance = typeof Balance.Type

const Balances = ReadModel.makeStream({
  name: "Balances",
  row: Balance,
  projections: [
    ReadModel.projection(Account, ({ event, id }) =>
      ReadModel.updateWithDefault<Balance>(id, { balance: 0, tier: "basic" }, (row) => {
        const balance = event._tag === "Deposited" ? row.balance + event.amount : event._tag === "Withdrawn" ? row.balance - event.amount : row.balance
        return { balance, tier: balance >= 100 ? "gold" : "basic" }
      }))
  ]
})

/** A blob in `schedules` schedules a deposit (`{ key, id, amount, at }`) or cancels one (`{ cancel }`). */
const ScheduleRequest = Schema.fromJsonString(Schema.Union([
  Schema.Struct({ key: Schema.String, id: Schema.String, amount: Schema.Int, at: Schema.Number }),
  Schema.Struct({ cancel: Schema.String })
]))

const Schedules = Task.make({
  name: "Schedules",
  buckets: [
    Task.bucket("schedules", (blob) =>
      Effect.gen(function*() {
        const body = yield* Effect.flatMap(Effect.service(BlobStore.BlobStore), (blobs) => blobs.get(blob.bucket, blob.key))
        const request = yield* Schema.decodeUnknownEffect(ScheduleRequest)(new TextDecoder().decode(body))
        return "cancel" in request
          ? [Task.cancelSchedule(request.cancel)]
          : [Task.scheduleCommand(Account, {
            key: request.key,
            at: request.at,
            command: { id: request.id, msgId: request.key, command: Deposit.make({ amount: request.amount }) }
          })]
      }))
  ]
})

/** A running total of deposits, deciding as the test says. */
const tally = <const Name extends string>(name: Name, decide: (command: typeof Deposit.Type) => Aggregate.Decision<typeof Deposited.Type, InsufficientFunds>) =>
  Aggregate.make({
    name,
    command: Deposit,
    event: Deposited,
    rejection: InsufficientFunds,
    state: Schema.Int,
    initialState: 0,
    evolve: (total: number, event) => total + event.amount,
    decide: (_total, command) => decide(command)
  })

const Bank = Plugin.make({ name: "Bank", heartbeatInterval: 5, aggregates: [Account], readModels: [Balances], tasks: [Schedules] })

/** Transient failures and throws are retried at once (the tests run on the TestClock), three times. */
const bank = (options: Partial<Runtime.Options<never>> = {}) =>
  Runtime.layer({ plugins: [Bank], schedulerPollMillis: 100, retrySchedule: Schedule.recurs(3), ...options }).pipe(Layer.provideMerge(MemoryPlatform.layer))

const newEvent = (amount: number | string, schemaVersion: number): Event.NewEvent => ({
  type: "Bank.Account.Deposited",
  schemaVersion,
  data: { _tag: "Deposited", amount }
})

/** Appends as another process would: straight to the store, behind the runtime's back. */
const appendBehindTheRuntime = (streamId: string, expectedVersion: number, events: ReadonlyArray<Event.NewEvent>) =>
  Effect.flatMap(Effect.service(EventStore.EventStore), (store) =>
    store.commit([{
      _tag: "Append",
      request: {
        msgId: `foreign-${streamId}-${expectedVersion}`,
        source: "Bank.Account",
        streamId,
        expectedVersion,
        events,
        meta: { service: "elsewhere", time: new Date(0).toISOString(), ip: "", user: "other", msgId: "foreign", correlationId: "foreign" }
      }
    }]))

const amounts = (events: ReadonlyArray<Event.Envelope>) => events.map((event) => (event.data as { readonly amount: number }).amount)

const Step = Schema.Struct({
  id: Schema.Literals(["a", "b", "c"]),
  command: Schema.Union([
    Schema.TaggedStruct("Deposit", { amount: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 50 })) }),
    Schema.TaggedStruct("Withdraw", { amount: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 80 })) })
  ])
})

describe("Runtime on the memory platform", () => {
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
    }).pipe(Effect.provide(bank({ retrySchedule: Schedule.recurs(1) }).pipe(Layer.provideMerge(Layer.succeed(Faults.Faults, Faults.none()))))))

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
          _tag: "Append",
          request: {
            msgId: "legacy",
            source: "Talk.Voice",
            streamId: "v",
            expectedVersion: 0,
            events: [{ type: "Talk.Voice.Said", schemaVersion: 1, data: { _tag: "Said", text: "old" } }],
            meta: Message.makeMeta({ msgId: "legacy" }, new Date(0).toISOString())
          }
        }]))
      yield* Runtime.execute(Voice, "w", Say.make({ text: "new" }))
      yield* runtime.awaitIdle
      const [letter] = yield* runtime.deadLetters.list()
      assert.strictEqual(letter?._tag, "Event")
      assert.include(letter?.reason, "upcaster boom")
      assert.deepStrictEqual(heard, [], "the consumer waits on the parked event")
    }).pipe(Effect.provide(layer))
  })

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

  it.effect("read models list by field equality, a page at a time, through the runtime and the QueryEngine", () =>
    Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      const deposits = [["a1", 150], ["a2", 20], ["a3", 100], ["a4", 99], ["a5", 300], ["a6", 120], ["a7", 5]] as const
      yield* Effect.forEach(deposits, ([id, amount]) => Runtime.execute(Account, id, Deposit.make({ amount })))
      yield* runtime.awaitIdle
      const first = yield* runtime.list("Balances", { where: { tier: "gold" }, limit: 3 })
      assert.deepStrictEqual(first.items.map((item) => item.id), ["a1", "a3", "a5"])
      assert.isTrue(Option.isSome(first.next))
      const second = yield* runtime.list("Balances", { where: { tier: "gold" }, limit: 3, after: Option.getOrThrow(first.next) })
      assert.deepStrictEqual(second.items.map((item) => item.id), ["a6"])
      assert.isTrue(Option.isNone(second.next))
      const typed = yield* QueryEngine.list(Balances, { where: { tier: "basic" } }).pipe(Effect.provide(QueryEngine.layer))
      assert.deepStrictEqual(typed.items.map((item) => [item.id, item.row.balance]), [["a2", 20], ["a4", 99], ["a7", 5]])
    }).pipe(Effect.provide(bank())))

  it.effect("the authorization hook refuses before anything is written or read", () => {
    const hook: Authorization.Hook = {
      authorize: (request) =>
        request.user === "mallory"
          ? Effect.fail(new Errors.Unauthorized({ user: request.user, action: request._tag, reason: "blocked" }))
          : Effect.void
    }
    return Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      const refused = yield* Effect.flip(Runtime.execute(Account, "m", Deposit.make({ amount: 1 }), { user: "mallory" }))
      assert.strictEqual(refused._tag, "Unauthorized")
      yield* runtime.awaitIdle
      assert.deepStrictEqual(yield* runtime.readStream("Account", "m"), [])
      yield* Runtime.execute(Account, "m", Deposit.make({ amount: 1 }), { user: "alice" })
      yield* runtime.awaitIdle
      assert.strictEqual((yield* Effect.flip(runtime.query("Balances", "m", { user: "mallory" })))._tag, "Unauthorized")
      assert.isTrue(Option.isSome(yield* runtime.query("Balances", "m", { user: "alice" })))
    }).pipe(Effect.provide(bank().pipe(Layer.provide(Layer.succeed(Authorization.Authorization, hook)))))
  })

  it.effect("every read and every operation goes through the hook with its user: streams, rows (filtered), watch, dead letters, status, rebuild; a replay is authorized again for its sender", () => {
    const revoked = new Set<string>()
    const owns = (user: string, id: string) => user === "admin" || id.startsWith(`${user}-`)
    const seen: Array<string> = []
    const hook: Authorization.Hook = {
      authorize: (request) => {
        seen.push(request._tag === "Operation" ? `${request.operation}:${request.user}` : `${request._tag}:${request.user}`)
        const refuse = Effect.fail(new Errors.Unauthorized({ user: request.user, action: request._tag, reason: "not yours" }))
        switch (request._tag) {
          case "Command":
            return owns(request.user, request.id) && !revoked.has(request.user) ? Effect.void : refuse
          case "Stream":
            return owns(request.user, request.id) ? Effect.void : refuse
          case "Row":
            // And bob is not shown gold accounts, even his own.
            return owns(request.user, request.id) && !(request.user === "bob" && (request.row as { tier?: string } | undefined)?.tier === "gold") ? Effect.void : refuse
          case "Query":
          case "Watch":
            return Effect.void
          case "Operation":
            return request.user === "admin" ? Effect.void : refuse
        }
      }
    }
    const as = (user: string) => ({ user })
    return Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      const bobsView = yield* Effect.forkChild(runtime.watch("Balances", as("bob")).pipe(Stream.take(2), Stream.runCollect), { startImmediately: true })
      yield* Runtime.execute(Account, "alice-1", Deposit.make({ amount: 5 }), as("alice"))
      yield* Runtime.execute(Account, "bob-1", Deposit.make({ amount: 7 }), as("bob"))
      yield* Runtime.execute(Account, "bob-1", Deposit.make({ amount: 100 }), as("bob"))
      yield* runtime.awaitIdle
      // Alice's row is left out; bob's, once gold, is gone from his view.
      assert.deepStrictEqual(yield* Fiber.join(bobsView), [{ _tag: "Put", id: "bob-1", row: { balance: 7, tier: "basic" } }, { _tag: "Delete", id: "bob-1" }])

      // Streams and state: only one's own.
      assert.strictEqual((yield* Effect.flip(runtime.readStream("Account", "alice-1", as("bob"))))._tag, "Unauthorized")
      assert.strictEqual((yield* Effect.flip(runtime.state("Account", "alice-1", as("bob"))))._tag, "Unauthorized")
      assert.strictEqual((yield* Effect.flip(runtime.readStream("Account", "alice-1")))._tag, "Unauthorized", "no user is anonymous, not a pass")
      assert.strictEqual((yield* runtime.readStream("Account", "bob-1", as("bob"))).length, 2)
      assert.deepStrictEqual((yield* runtime.state("Account", "alice-1", as("alice"))).version, 1)
      // Rows: a list is filtered row by row; a row one may not see is none.
      assert.deepStrictEqual((yield* runtime.list("Balances", as("bob"))).items.map((item) => item.id), [], "bob's own row is gold now")
      assert.deepStrictEqual((yield* runtime.list("Balances", as("alice"))).items.map((item) => item.id), ["alice-1"])
      assert.deepStrictEqual((yield* runtime.list("Balances", as("admin"))).items.map((item) => item.id), ["alice-1", "bob-1"])
      assert.isTrue(Option.isNone(yield* runtime.query("Balances", "alice-1", as("bob"))))
      assert.isTrue(Option.isSome(yield* runtime.query("Balances", "alice-1", as("alice"))))

      // Operations: the operator's only.
      const failed = yield* Effect.flip(Runtime.execute(Account, "bob-2", Explode.make({}), as("bob")))
      assert.strictEqual(failed._tag, "CommandFailed")
      assert.strictEqual((yield* Effect.flip(runtime.deadLetters.list(as("bob"))))._tag, "Unauthorized")
      const [letter] = yield* runtime.deadLetters.list(as("admin"))
      assert.strictEqual((yield* Effect.flip(runtime.deadLetters.skip(letter!.id, as("bob"))))._tag, "Unauthorized")
      assert.strictEqual((yield* Effect.flip(runtime.deadLetters.replay(letter!.id, as("bob"))))._tag, "Unauthorized")
      assert.strictEqual((yield* Effect.flip(runtime.status(as("bob"))))._tag, "Unauthorized")
      assert.strictEqual((yield* Effect.flip(runtime.rebuild("Balances", as("bob"))))._tag, "Unauthorized")
      assert.isAbove((yield* runtime.status(as("admin"))).consumers.length, 0)
      // The replay of bob's command is authorized again for bob: revoked meanwhile, it stays parked.
      revoked.add("bob")
      assert.strictEqual((yield* Effect.flip(runtime.deadLetters.replay(letter!.id, as("admin"))))._tag, "Unauthorized")
      assert.deepStrictEqual((yield* runtime.deadLetters.list(as("admin"))).map((parked) => parked.id), [letter!.id], "still parked")
      revoked.delete("bob")
      assert.strictEqual((yield* runtime.deadLetters.replay(letter!.id, as("admin"))).id, letter!.id)
      assert.strictEqual((yield* Effect.flip(runtime.status({ user: "a\u0000" })))._tag, "InvalidInput", "an operator's user is held to the limits too")
      for (const asked of ["Stream:bob", "Row:bob", "Watch:bob", "ListDeadLetters:bob", "SkipDeadLetter:bob", "ReplayDeadLetter:admin", "Status:bob", "Rebuild:bob"]) {
        assert.include(seen, asked)
      }
    }).pipe(Effect.provide(bank().pipe(Layer.provide(Layer.succeed(Authorization.Authorization, hook)))))
  })

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

  it.effect("a ReadModelStream can be watched: every row change, in order", () =>
    Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      // Started at once: the watcher subscribes before the first command is sent.
      const watching = yield* Effect.forkChild(runtime.watch("Balances").pipe(Stream.take(3), Stream.runCollect), { startImmediately: true })
      yield* Runtime.execute(Account, "w", Deposit.make({ amount: 60 }))
      yield* Runtime.execute(Account, "w", Deposit.make({ amount: 60 }))
      yield* Runtime.execute(Account, "v", Deposit.make({ amount: 1 }))
      const changes = yield* Fiber.join(watching)
      assert.deepStrictEqual(changes, [
        { _tag: "Put", id: "w", row: { balance: 60, tier: "basic" } },
        { _tag: "Put", id: "w", row: { balance: 120, tier: "gold" } },
        { _tag: "Put", id: "v", row: { balance: 1, tier: "basic" } }
      ])
    }).pipe(Effect.provide(bank())))

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
