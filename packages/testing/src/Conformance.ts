/**
 * The platform conformance suite: the numbered guarantees of docs/architecture.md ("Guarantees";
 * comments and tests across the repository cite them by number), written once against the service
 * interfaces. Each platform's test file calls `suite(name, platformLayer)`; the suite starts two
 * small plugins (a counter with a mapping, a read model, a side effect and an extension point,
 * and a subscriber to it) on a fresh platform per test and checks guarantees 1, 2 (in one
 * process), 3, 4, 5 (DCB commits in the event store; the DCB store contract itself is
 * `DcbConformance`), 6, 7 (within and across plugins) and 8.
 *
 * @since 0.1.0
 */
import { assert, describe, it } from "@effect/vitest"
import {
  Aggregate,
  CommandTopic,
  DeadLetters,
  EventMapping,
  EventStore,
  Extension,
  ExtensionPoint,
  Message,
  Plugin,
  ReadModel,
  Runtime,
  Scheduler,
  SideEffect,
  Task
} from "@reventless/core"
import { Context, Effect, Exit, Layer, Option, Result, Schedule, Schema, Scope } from "effect"
import * as Faults from "./Faults.ts"

const Increment = Schema.TaggedStruct("Increment", { by: Schema.Int })
const Refuse = Schema.TaggedStruct("Refuse", {})
const Incremented = Schema.TaggedStruct("Incremented", { by: Schema.Int })
class Refused extends Schema.TaggedError<Refused>()("Refused", {}) {}

/** A counter: Increment adds, Refuse is always rejected. */
export const Counter = Aggregate.make({
  name: "Counter",
  command: Schema.Union([Increment, Refuse]),
  event: Incremented,
  rejection: Refused,
  state: Schema.Int,
  initialState: 0,
  evolve: (total: number, event) => total + event.by,
  decide: (_total, command) => command._tag === "Refuse" ? Result.fail(new Refused()) : Result.succeed([Incremented.make({ by: command.by })])
})

/** Big increments are mirrored, +1, onto the counter `mirror-<id>`. */
const Mirror = EventMapping.make({
  name: "Mirror",
  source: Counter,
  targets: [Counter],
  map: ({ event, id }) => event.by >= 100 ? [EventMapping.publish(Counter, `mirror-${id}`, Increment.make({ by: 1 }))] : []
})

const Totals = ReadModel.make({
  name: "Totals",
  row: Schema.Struct({ total: Schema.Int, events: Schema.Int }),
  projections: [
    ReadModel.projection(Counter, ({ event, id }) =>
      ReadModel.updateWithDefault(id, { total: 0, events: 0 }, (row) => ({ total: row.total + event.by, events: row.events + 1 })))
  ]
})

/** What the notification side effect saw, and how it should misbehave. */
export class Outbox extends Context.Service<Outbox, {
  readonly deliveries: Array<{ readonly key: string; readonly id: string }>
  failuresLeft: number
  alwaysFailFor: string | undefined
}>()("@reventless/testing/Conformance/Outbox") {}

/**
 * An empty outbox that always delivers.
 *
 * @since 0.1.0
 * @category layers
 */
export const outboxLayer: Layer.Layer<Outbox> = Layer.sync(Outbox, () => Outbox.of({ deliveries: [], failuresLeft: 0, alwaysFailFor: undefined }))

const Notify = SideEffect.make({
  name: "Notify",
  source: Counter,
  execute: ({ id, idempotencyKey }) =>
    Effect.flatMap(Effect.service(Outbox), (outbox) => {
      if (outbox.alwaysFailFor === id) return Effect.fail(`refusing ${id}`)
      if (outbox.failuresLeft > 0) {
        outbox.failuresLeft--
        return Effect.fail("transient outage")
      }
      outbox.deliveries.push({ key: idempotencyKey, id })
      return Effect.void
    })
})

/** Conformance.Counters: every increment, published for other plugins. */
const CounterMoved = Schema.TaggedStruct("CounterMoved", { counter: Schema.String, by: Schema.Int })
const CountersContract = ExtensionPoint.spec({ name: "Conformance.Counters", event: CounterMoved })

const CountersExtensionPoint = ExtensionPoint.make({
  spec: CountersContract,
  delegate: Counter,
  mapOutgoingEvent: ({ id, value }) => [ExtensionPoint.publishEvent(id, CounterMoved.make({ counter: id, by: value.by }))]
})

/** The plugin the suite runs. */
export const plugin = Plugin.make<Outbox>({
  name: "Conformance",
  heartbeatInterval: 1,
  aggregates: [Counter],
  eventMappings: [Mirror],
  readModels: [Totals],
  tasks: [Task.make({ name: "Notifications", sideEffects: [Notify] })],
  extensionPoints: [CountersExtensionPoint]
})

/** A second plugin, subscribed to Conformance.Counters: it counts every increment it hears of. */
const Tally = Aggregate.make({
  name: "Tally",
  command: Increment,
  event: Incremented,
  rejection: Schema.Never,
  state: Schema.Int,
  initialState: 0,
  evolve: (total: number, event) => total + event.by,
  decide: (_total, command) => Result.succeed([Incremented.make({ by: command.by })])
})

/** The subscribing plugin the suite runs beside `plugin`. */
export const subscriber = Plugin.make({
  name: "Subscriber",
  heartbeatInterval: 1,
  aggregates: [Tally],
  extensions: [Extension.make({
    name: "Counters",
    extensionPoint: CountersContract,
    delegate: Tally,
    mapIncomingEvent: ({ event }) => [Extension.publishAggregateCommand(event.counter, Increment.make({ by: event.by }))]
  })]
})

const fastRetry: Schedule.Schedule<unknown, unknown> = Schedule.spaced("1 millis").pipe(Schedule.upTo({ times: 3 }))

const increment = (id: string, by: number, msgId?: string) =>
  Runtime.execute(Counter, id, Increment.make({ by }), msgId === undefined ? undefined : { msgId })

/**
 * A malformed-input corpus against the suite's plugin (`plugin`): each item a request that must
 * be refused with `InvalidInput`, its `problem` and the `path` of the value, writing nothing.
 * NUL characters and lone surrogates in ids, msgIds, users, metadata, payload strings and keys;
 * ids, msgIds and payloads past their limits; a payload nested 100,000 deep; the ids and filters
 * of reads. Platforms run it in the suite; one with tables of its own can also compare them.
 *
 * @since 0.1.0
 * @category suites
 */
export const hostileRequests = (
  runtime: Runtime.Runtime["Service"]
): ReadonlyArray<readonly [what: string, attempt: Effect.Effect<unknown, { readonly _tag: string }>, problem: string, path: string]> => {
  const limits = runtime.limits
  const command = (id: string, extra: Record<string, unknown> = {}, meta: Message.MetaInput = {}) =>
    runtime.execute({ component: "Counter", id, command: { _tag: "Increment", by: 1, ...extra }, meta })
  const deep = JSON.parse("[".repeat(100_000) + "]".repeat(100_000)) as unknown
  return [
    ["NUL in an id", command("a\u0000b"), "NulCharacter", "id"],
    ["lone surrogate in an id", command("\uD800x"), "LoneSurrogate", "id"],
    ["an id past its length", command("i".repeat(1_000_000)), "TooLong", "id"],
    ["NUL in a msgId", command("ok", {}, { msgId: "m\u0000" }), "NulCharacter", "meta.msgId"],
    ["a msgId past its length", command("ok", {}, { msgId: "m".repeat(limits.maxIdLength + 1) }), "TooLong", "meta.msgId"],
    ["NUL in a user", command("ok", {}, { user: "bob\u0000" }), "NulCharacter", "meta.user"],
    ["lone surrogate in a correlation id", command("ok", {}, { correlationId: "\uDC00" }), "LoneSurrogate", "meta.correlationId"],
    ["NUL in a payload string", command("ok", { note: "x\u0000" }), "NulCharacter", "command.note"],
    ["NUL in a payload key", command("ok", { ["k\u0000"]: 1 }), "NulCharacter", `command["k\\u0000"]`],
    ["a payload past its size", command("ok", { pad: "x".repeat(limits.maxPayloadBytes) }), "TooLarge", "command"],
    ["a payload nested 100,000 deep", command("ok", { deep }), "TooDeep", "command.deep" + "[0]".repeat(limits.maxDepth - 1)],
    ["NUL in a queried id", runtime.query("Totals", "a\u0000"), "NulCharacter", "id"],
    ["a stream id past its length", runtime.readStream("Counter", "s".repeat(limits.maxIdLength + 1)), "TooLong", "id"],
    ["lone surrogate in a state id", runtime.state("Counter", "\uDBFF"), "LoneSurrogate", "id"],
    ["NUL in a list filter", runtime.list("Totals", { where: { total: "\u0000" } }), "NulCharacter", "where.total"],
    ["a send with NUL in its id", runtime.send({ component: "Counter", id: "\u0000", command: { _tag: "Increment", by: 1 } }), "NulCharacter", "id"],
    ["a check with NUL in its id", runtime.check({ component: "Counter", id: "\u0000", command: { _tag: "Increment", by: 1 } }), "NulCharacter", "id"],
    ["NUL in an inbound request's id", runtime.receive("Nowhere", {}, { requestId: "r\u0000" }), "NulCharacter", "requestId"]
  ]
}

/**
 * Asserts that every request of `hostileRequests` is refused as it says.
 *
 * @since 0.1.0
 * @category suites
 */
export const refusesHostileRequests = (runtime: Runtime.Runtime["Service"]): Effect.Effect<void> =>
  Effect.forEach(hostileRequests(runtime), ([what, attempt, problem, path]) =>
    Effect.map(Effect.exit(attempt), (exit) => {
      const refused = Exit.isFailure(exit) ? Option.getOrUndefined(Exit.findErrorOption(exit)) : undefined
      assert.strictEqual(refused?._tag, "InvalidInput", what)
      const input = refused as unknown as { readonly problem: string; readonly path: string; readonly message: string }
      assert.deepStrictEqual([input.problem, input.path], [problem, path], what)
      assert.isBelow(input.message.length, 400, `${what}: the message does not echo the input`)
    }), { discard: true })

/**
 * Registers the suite for one platform. `platform` must build a fresh, empty platform each time.
 *
 * @since 0.1.0
 * @category suites
 */
export const suite = <E>(name: string, platform: Layer.Layer<Runtime.Platform, E>) =>
  describe(`conformance: ${name}`, () => {
    /** Runs on the platform as it is, or wrapped in the fault decorators when `faults` are given. */
    const run = <A, E>(
      effect: Effect.Effect<A, E, Runtime.Runtime | Outbox | EventStore.EventStore | Scheduler.Scheduler | DeadLetters.DeadLetters | CommandTopic.CommandTopic | Faults.Faults>,
      faults?: Partial<Faults.FaultSwitches>
    ) => {
      const platformAsRun = faults === undefined ? Layer.merge(platform, Layer.succeed(Faults.Faults, Faults.none())) : Faults.inject(faults)(platform)
      const layer = Runtime.layer({ plugins: [plugin, subscriber], retrySchedule: fastRetry, concurrency: 4 }).pipe(
        Layer.provideMerge(Layer.merge(platformAsRun, outboxLayer))
      )
      return Effect.provide(effect, layer)
    }

    it.live("1. a command is processed at most once per msgId; redelivery returns the first outcome", () =>
      run(Effect.gen(function*() {
        const first = yield* increment("c1", 5, "msg-1")
        const again = yield* increment("c1", 5, "msg-1")
        assert.deepStrictEqual(again, first)
        const runtime = yield* Runtime.Runtime
        assert.strictEqual((yield* runtime.readStream("Counter", "c1")).length, 1)
        const rejected = yield* Effect.flip(runtime.execute({ component: "Counter", id: "c1", command: { _tag: "Refuse" }, meta: { msgId: "msg-2" } }))
        const rejectedAgain = yield* Effect.flip(runtime.execute({ component: "Counter", id: "c1", command: { _tag: "Refuse" }, meta: { msgId: "msg-2" } }))
        assert.strictEqual(rejected._tag, "CommandRejected")
        assert.deepStrictEqual(rejectedAgain, rejected)
      }), { duplicateCommands: true }))

    it.live("2. commands for one instance run one at a time, in arrival order", () =>
      run(Effect.gen(function*() {
        const runtime = yield* Runtime.Runtime
        const amounts = Array.from({ length: 40 }, (_, i) => i + 1)
        const msgIds = yield* Effect.forEach(amounts, (by) => runtime.send({ component: "Counter", id: "ordered", command: { _tag: "Increment", by } }))
        yield* Effect.forEach(amounts, (by) => runtime.send({ component: "Counter", id: `other-${by % 5}`, command: { _tag: "Increment", by } }))
        yield* runtime.awaitIdle
        const stream = yield* runtime.readStream("Counter", "ordered")
        assert.deepStrictEqual(stream.map((event) => (event.data as { by: number }).by), amounts)
        assert.deepStrictEqual(stream.map((event) => event.meta.msgId), msgIds)
      })))

    it.live("3. versions are contiguous from 1 and positions strictly increase", () =>
      run(Effect.gen(function*() {
        yield* Effect.forEach(Array.from({ length: 30 }, (_, i) => i), (i) => increment(`v${i % 3}`, 1), { concurrency: 8 })
        const runtime = yield* Runtime.Runtime
        const positions: Array<number> = []
        for (const id of ["v0", "v1", "v2"]) {
          const stream = yield* runtime.readStream("Counter", id)
          assert.deepStrictEqual(stream.map((event) => event.version), Array.from({ length: 10 }, (_, i) => i + 1))
          positions.push(...stream.map((event) => event.position))
        }
        const store = yield* EventStore.EventStore
        const all = yield* store.readAll({ after: 0, limit: 1000, sources: new Set(["Conformance.Counter"]) })
        assert.strictEqual(all.events.length, 30)
        all.events.forEach((event, i) => i > 0 && assert.isTrue(event.position > all.events[i - 1]!.position))
      })))

    it.live("4. a read model equals the fold of the log, even when events are delivered twice", () =>
      run(Effect.gen(function*() {
        yield* Effect.forEach(Array.from({ length: 20 }, (_, i) => i), (i) => increment(`r${i % 4}`, i + 1))
        const runtime = yield* Runtime.Runtime
        yield* runtime.awaitIdle
        for (let k = 0; k < 4; k++) {
          const stream = yield* runtime.readStream("Counter", `r${k}`)
          const expected = stream.reduce((total, event) => total + (event.data as { by: number }).by, 0)
          const row = yield* runtime.query("Totals", `r${k}`)
          assert.deepStrictEqual(row, Option.some({ total: expected, events: stream.length }))
        }
      }), { duplicateEvents: true }))

    it.live("4. a read model equals the fold of the log when its pages hold many events of rows that exist", () =>
      run(Effect.gen(function*() {
        const runtime = yield* Runtime.Runtime
        const burst = (from: number) =>
          Effect.forEach(Array.from({ length: 80 }, (_, i) => from + i), (i) => runtime.send({ component: "Counter", id: `p${i % 4}`, command: { _tag: "Increment", by: i } }), { concurrency: 16 })
        yield* burst(0)
        yield* runtime.awaitIdle
        yield* burst(80)
        yield* runtime.awaitIdle
        for (let k = 0; k < 4; k++) {
          const stream = yield* runtime.readStream("Counter", `p${k}`)
          const expected = stream.reduce((total, event) => total + (event.data as { by: number }).by, 0)
          assert.strictEqual(stream.length, 40)
          assert.deepStrictEqual(yield* runtime.query("Totals", `p${k}`), Option.some({ total: expected, events: 40 }))
        }
      })))

    it.live("4. side effects run at least once with a stable idempotency key", () =>
      run(Effect.gen(function*() {
        yield* increment("s1", 1)
        yield* increment("s1", 2)
        const runtime = yield* Runtime.Runtime
        yield* runtime.awaitIdle
        const outbox = yield* Outbox
        const keys = new Set(outbox.deliveries.map((delivery) => delivery.key))
        assert.strictEqual(keys.size, 2)
        assert.isAbove(outbox.deliveries.length, 2, "events were delivered again (the injected fault happened)")
        const stream = yield* runtime.readStream("Counter", "s1")
        for (const event of stream) assert.isTrue([...keys].some((key) => key.startsWith(`${event.id}|`)))
      }), { duplicateEvents: true }))

    it.live("6. transient failures are retried; what still fails is parked and can be replayed or skipped", () =>
      run(Effect.gen(function*() {
        const runtime = yield* Runtime.Runtime
        const outbox = yield* Outbox
        const faults = yield* Faults.Faults
        faults.failAppends = 2
        yield* increment("t1", 1)
        outbox.failuresLeft = 2
        yield* increment("t2", 1)
        yield* runtime.awaitIdle
        assert.strictEqual(outbox.deliveries.filter((d) => d.id === "t2").length, 1)

        outbox.alwaysFailFor = "poison"
        yield* increment("poison", 1)
        yield* runtime.awaitIdle
        const [letter] = yield* runtime.deadLetters.list()
        assert.strictEqual(letter?._tag, "Event")
        assert.strictEqual(letter?.attempts, 4, "the first try and the schedule's three retries")
        yield* increment("after", 3)
        yield* runtime.awaitIdle
        assert.deepStrictEqual(yield* runtime.query("Totals", "after"), Option.some({ total: 3, events: 1 }), "other consumers go on")
        assert.isFalse(outbox.deliveries.some((d) => d.id === "after"), "the stalled consumer waits")
        outbox.alwaysFailFor = undefined
        yield* runtime.deadLetters.replay(letter!.id)
        yield* runtime.awaitIdle
        assert.deepStrictEqual(outbox.deliveries.slice(-2).map((d) => d.id), ["poison", "after"])

        faults.failAppends = 100
        const failed = yield* Effect.flip(increment("stuck", 1))
        assert.strictEqual(failed._tag, "CommandFailed")
        faults.failAppends = 0
        assert.lengthOf(yield* runtime.deadLetters.list(), 1)
        yield* increment("unblocked", 1)
        const replayed = yield* runtime.deadLetters.replay((yield* runtime.deadLetters.list())[0]!.id)
        assert.strictEqual(replayed._tag, "Command")
        yield* runtime.awaitIdle
        assert.lengthOf(yield* runtime.readStream("Counter", "stuck"), 1)

        const rejected = yield* Effect.flip(Runtime.execute(Counter, "r", Refuse.make({})))
        assert.strictEqual(rejected._tag, "Refused")
        assert.lengthOf(yield* runtime.deadLetters.list(), 0, "a rejection is an outcome, not a failure")
      }), {}))

    it.live("6. a command that can be neither stored nor parked (its stores are down) is kept, not acknowledged, and settled once they are back", () =>
      run(Effect.gen(function*() {
        const runtime = yield* Runtime.Runtime
        const faults = yield* Faults.Faults
        // Every try of the first handling fails (the batch's commit, then 1 + 3 retries), and so
        // does parking it: the platform must keep the command and hand it over again.
        faults.failAppends = 5
        faults.failParks = 1
        assert.deepStrictEqual(yield* increment("outage", 5), [{ _tag: "Incremented", by: 5 }])
        assert.deepStrictEqual([faults.failAppends, faults.failParks], [0, 0], "the outage did not happen as staged")
        assert.lengthOf(yield* runtime.readStream("Counter", "outage"), 1)
        assert.lengthOf(yield* runtime.deadLetters.list(), 0)
      }), {}))

    it.live("7. derived commands get deterministic msgIds: a redelivered event commands once", () =>
      run(Effect.gen(function*() {
        yield* increment("m1", 100)
        yield* increment("m1", 200)
        const runtime = yield* Runtime.Runtime
        yield* runtime.awaitIdle
        const mirrored = yield* runtime.readStream("Counter", "mirror-m1")
        assert.strictEqual(mirrored.length, 2)
        const source = yield* runtime.readStream("Counter", "m1")
        assert.deepStrictEqual(mirrored.map((event) => event.meta.causationId), source.map((event) => event.id))
        assert.strictEqual(new Set(mirrored.map((event) => event.meta.msgId)).size, 2)
      }), { duplicateEvents: true }))

    it.live("7. across plugins: extension-point events are stored once per source event and command the subscriber once", () =>
      run(Effect.gen(function*() {
        yield* Effect.forEach([1, 2, 3], (by) => increment("x1", by))
        yield* increment("x2", 10)
        const runtime = yield* Runtime.Runtime
        const store = yield* EventStore.EventStore
        yield* runtime.awaitIdle
        const published = yield* store.readStream("Conformance.Counters", "x1")
        assert.deepStrictEqual(published.map((event) => event.data), [1, 2, 3].map((by) => ({ _tag: "CounterMoved", counter: "x1", by })))
        assert.deepStrictEqual(published.map((event) => event.meta.causationId), (yield* runtime.readStream("Counter", "x1")).map((event) => event.id))
        assert.deepStrictEqual(yield* runtime.state("Tally", "x1"), { version: 3, state: 6 })
        assert.deepStrictEqual(yield* runtime.state("Tally", "x2"), { version: 1, state: 10 })
      }), { duplicateEvents: true, duplicateCommands: true }))

    it.live("5. a DCB log commits with the outcome: stale decisions conflict, a repeated msgId is a duplicate first, logs are separate", () =>
      run(Effect.gen(function*() {
        const store = yield* EventStore.EventStore
        const meta = Message.makeMeta({ msgId: "dcb" }, new Date(0).toISOString())
        const claim = (msgId: string, log: string, after: number) =>
          store.commit([{
            msgId,
            component: `${log}.Claim`,
            id: "seat-1",
            boundary: { _tag: "Query", log, condition: { failIfEventsMatch: [{ types: ["Claimed"], tags: ["seat:1"] }], after } },
            decided: { _tag: "Events", events: [{ type: "Claimed", tags: ["seat:1"], schemaVersion: 1, data: { _tag: "Claimed" } }] },
            meta
          }])
        const [first] = yield* claim("c1", "A.DcbEventLog", 0)
        assert.strictEqual(first!._tag, "Committed")
        // Another log's claim on the same seat is not this log's business.
        assert.strictEqual((yield* claim("c2", "B.DcbEventLog", 0))[0]!._tag, "Committed")
        // Same msgId again: the first outcome, even though the condition no longer holds.
        const [again] = yield* claim("c1", "A.DcbEventLog", 0)
        assert.strictEqual(again!._tag, "Duplicate")
        assert.deepStrictEqual(again!._tag === "Duplicate" ? again!.outcome : undefined, first!._tag === "Committed" ? first!.outcome : undefined)
        const [stale] = yield* claim("c3", "A.DcbEventLog", 0)
        assert.strictEqual(stale!._tag === "Conflict" ? stale!.conflict._tag : stale!._tag, "DcbConflict")
        const [staleRejection] = yield* store.commit([{
          msgId: "c4",
          component: "A.DcbEventLog.Claim",
          id: "seat-1",
          boundary: { _tag: "Query", log: "A.DcbEventLog", condition: { failIfEventsMatch: [{ tags: ["seat:1"] }], after: 0 } },
          decided: { _tag: "Rejected", error: { _tag: "Taken" } },
          meta
        }])
        assert.strictEqual(staleRejection!._tag, "Conflict")
        assert.isTrue(Option.isNone(yield* store.outcome("c4")), "nothing is stored for a stale rejection")
        const a = yield* store.readTagged({ log: "A.DcbEventLog", query: [{ tags: ["seat:1"] }], after: 0, limit: 10 })
        assert.deepStrictEqual(a.events.map((event) => [event.source, event.tags]), [["A.DcbEventLog", ["seat:1"]]])
      })))

    it.live("9. a scheduler poller that delivered late forgets an entry only as it read it: one rescheduled meanwhile stays", () =>
      run(Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        const message = (msgId: string): Message.CommandMessage => ({
          component: "Conformance.Counter",
          id: "later",
          msgId,
          meta: Message.makeMeta({ msgId }, new Date(0).toISOString()),
          command: { _tag: "Increment", by: 1 }
        })
        // Far in the future, so the runtime's own poller leaves them alone.
        const far = Date.now() + 3_600_000
        yield* scheduler.schedule({ key: "kept", dueAt: far, message: message("first") })
        yield* scheduler.schedule({ key: "gone", dueAt: far, message: message("once") })
        const [read] = (yield* scheduler.list).filter((entry) => entry.key === "kept")
        yield* scheduler.schedule({ key: "kept", dueAt: far + 1_000, message: message("second") })
        yield* scheduler.delivered([read!, ...(yield* scheduler.list).filter((entry) => entry.key === "gone")])
        assert.deepStrictEqual((yield* scheduler.list).map((entry) => [entry.key, entry.message.msgId]), [["kept", "second"]])
      })))

    it.live("1. a msgId is its sender's: another user or target reusing it is refused (MsgIdInUse) and sees nothing of the first command", () =>
      run(Effect.gen(function*() {
        const runtime = yield* Runtime.Runtime
        const as = (user: string, id: string, by: number) =>
          ({ component: "Counter", id, command: { _tag: "Increment", by }, meta: { msgId: "shared-msg", user } })
        const first = yield* runtime.execute(as("alice", "alice-ledger", 7))
        // bob, on his own counter, and on alice's, with her msgId: refused, typed, revealing nothing.
        for (const request of [as("bob", "bob-ledger", 1), as("bob", "alice-ledger", 1)]) {
          const refused = yield* Effect.flip(runtime.execute(request))
          assert.strictEqual(refused._tag, "MsgIdInUse")
          // It names only what bob asked for: nothing of alice's command, its events or its user.
          assert.deepStrictEqual(refused._tag === "MsgIdInUse" ? [refused.component, refused.id] : [], ["Conformance.Counter", request.id])
          assert.notInclude(JSON.stringify(refused) + refused.message, "Incremented")
          assert.notInclude(JSON.stringify(refused) + refused.message, "\"alice\"")
          const sent = yield* Effect.flip(runtime.send(request))
          assert.strictEqual(sent._tag, "MsgIdInUse")
        }
        const refusedRejection = yield* Effect.flip(runtime.execute({ component: "Counter", id: "alice-ledger", command: { _tag: "Refuse" }, meta: { msgId: "refused-msg", user: "alice" } }))
        assert.strictEqual(refusedRejection._tag, "CommandRejected")
        assert.strictEqual((yield* Effect.flip(runtime.execute({ component: "Counter", id: "alice-ledger", command: { _tag: "Refuse" }, meta: { msgId: "refused-msg", user: "bob" } })))._tag, "MsgIdInUse")
        // Asking for the outcome answers the same way: hers to her, MsgIdInUse to bob, none for a fresh msgId.
        assert.strictEqual(Option.getOrUndefined(yield* runtime.outcome(as("alice", "alice-ledger", 7)))?._tag, "Accepted")
        assert.strictEqual((yield* Effect.flip(runtime.outcome(as("bob", "bob-ledger", 1))))._tag, "MsgIdInUse")
        assert.isTrue(Option.isNone(yield* runtime.outcome({ ...as("bob", "bob-ledger", 1), meta: { msgId: "never-used", user: "bob" } })))
        // alice repeating herself still gets her first outcome; bob's counter was never touched.
        assert.deepStrictEqual(yield* runtime.execute(as("alice", "alice-ledger", 7)), first)
        assert.deepStrictEqual(yield* runtime.readStream("Counter", "bob-ledger"), [])
        assert.strictEqual((yield* runtime.readStream("Counter", "alice-ledger")).length, 1)
      })))

    it.live("6. an operator's skip survives the letter being parked again; a replay asks for a new decision when it fails again", () =>
      run(Effect.gen(function*() {
        const letters = yield* DeadLetters.DeadLetters
        const letter = (id: string): DeadLetters.DeadLetter => ({
          _tag: "Command",
          id,
          message: { component: "Conformance.Counter", id: "c", msgId: id, meta: Message.makeMeta({ msgId: id }, new Date(0).toISOString()), command: {} },
          reason: "test",
          attempts: 1,
          parkedAt: new Date(0).toISOString()
        })
        yield* letters.park(letter("skipped"))
        yield* letters.resolve("skipped", "Skip")
        yield* letters.park(letter("skipped"))
        assert.strictEqual(yield* letters.awaitResolution("skipped"), "Skip")
        yield* letters.park(letter("replayed"))
        yield* letters.resolve("replayed", "Replay")
        yield* letters.park(letter("replayed"))
        assert.deepStrictEqual((yield* letters.list).map((parked) => parked.id), ["replayed"])
        assert.isTrue(Option.isNone(yield* Effect.timeoutOption(letters.awaitResolution("replayed"), "300 millis")), "parked again after a replay, it waits for a new decision")
        yield* letters.resolve("replayed", "Skip")
        assert.strictEqual(yield* letters.awaitResolution("replayed"), "Skip")
      })))

    it.live("8. bad input gets a typed error naming what was wrong, and writes nothing", () =>
      run(Effect.gen(function*() {
        const runtime = yield* Runtime.Runtime
        const store = yield* EventStore.EventStore
        const json = yield* Effect.flip(runtime.executeJson("Counter", "b", "{not json"))
        assert.strictEqual(json._tag, "InvalidJson")
        const unknown = yield* Effect.flip(runtime.execute({ component: "Nope", id: "b", command: {} }))
        assert.strictEqual(unknown._tag, "UnknownComponent")
        assert.include(unknown.message, "Nope")
        const mismatch = yield* Effect.flip(runtime.execute({ component: "Counter", id: "b", command: { _tag: "Increment", by: "x" } }))
        assert.strictEqual(mismatch._tag, "InvalidCommand")
        assert.include(mismatch.message, "by")
        const noId = yield* Effect.flip(runtime.execute({ component: "Counter", id: "", command: { _tag: "Increment", by: 1 } }))
        assert.strictEqual(noId._tag, "InvalidCommand")
        assert.strictEqual(yield* store.head, 0)
        assert.lengthOf(yield* runtime.deadLetters.list(), 0)
      })))

    it.live("8. hostile input (NUL, lone surrogates, ids and payloads past their limits, deep nesting) is refused at the edge naming the field, and writes nothing", () =>
      run(Effect.gen(function*() {
        const runtime = yield* Runtime.Runtime
        const store = yield* EventStore.EventStore
        const limits = runtime.limits
        yield* refusesHostileRequests(runtime)
        assert.strictEqual(yield* store.head, 0, "nothing was appended")
        assert.lengthOf(yield* runtime.deadLetters.list(), 0, "nothing was parked")
        yield* runtime.awaitIdle
        // Input at the limits is accepted alike on every platform.
        const longest = "i".repeat(limits.maxIdLength)
        yield* runtime.execute({ component: "Counter", id: longest, command: { _tag: "Increment", by: 1, note: "\uD83D\uDE00" }, meta: { msgId: "m".repeat(limits.maxIdLength) } })
        assert.lengthOf(yield* runtime.readStream("Counter", longest), 1)
      })))

    it.live("6. a command the stores cannot keep, put past the edge, does not block its neighbours: the 20 behind it on its shard settle, and it is parked (or refused)", () =>
      run(Effect.gen(function*() {
        const runtime = yield* Runtime.Runtime
        const topic = yield* CommandTopic.CommandTopic
        const store = yield* EventStore.EventStore
        const message = (id: string, meta: Message.MetaInput = {}): Message.CommandMessage => {
          const made = Message.makeMeta(meta, new Date().toISOString())
          return { component: "Conformance.Counter", id, msgId: made.msgId, meta: made, command: { _tag: "Increment", by: 1 } }
        }
        // One shard of any platform's (a power of two up to 64), and ids that fall in it.
        const shardOf = (id: string) => CommandTopic.hashKey({ component: "Conformance.Counter", id }) % 64
        const near = (prefix: string, shard: number) => {
          for (let n = 0; ; n++) if (shardOf(`${prefix}${n}`) === shard) return `${prefix}${n}`
        }
        const shard = shardOf("poison")
        const randomText = (length: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(length))).toString("base64url").slice(0, length)
        const poisons = [
          message("poison", { msgId: randomText(8_000) }),
          message(near("nul-user-", shard), { user: "eve\u0000" }),
          message(near("nul-id-\u0000", shard))
        ]
        const good = Array.from({ length: 20 }, (_, i) => message(near(`good-${i}-`, shard)))
        const refusedAtPublish = new Set<string>()
        for (const poison of poisons) {
          const published = yield* Effect.exit(topic.publish([poison]))
          if (Exit.isFailure(published)) {
            const error = Option.getOrUndefined(Exit.findErrorOption(published))
            assert.strictEqual(error?._tag, "InfrastructureError")
            assert.isFalse(error!.retryable, "a refusal that retrying cannot fix says so")
            refusedAtPublish.add(poison.msgId)
          }
        }
        for (const next of good) yield* topic.publish([next])
        const idle = yield* Effect.timeoutOption(runtime.awaitIdle, "30 seconds")
        assert.isTrue(Option.isSome(idle), "the queue went idle: nothing wedged")
        for (const next of good) {
          const outcome = yield* store.outcome(next.msgId)
          assert.strictEqual(Option.getOrUndefined(outcome)?._tag, "Accepted", `${next.id} settled`)
        }
        const letters = yield* runtime.deadLetters.list()
        for (const poison of poisons) {
          if (refusedAtPublish.has(poison.msgId)) continue
          const outcome = yield* store.outcome(poison.msgId)
          const parked = letters.find((letter) => letter._tag === "Command" && (letter.id === poison.msgId || letter.message.msgId.startsWith(poison.msgId.slice(0, 200))))
          assert.isTrue(Option.getOrUndefined(outcome)?._tag === "Accepted" || parked !== undefined, `poison ${poison.id.slice(0, 20)} is accounted for: accepted, or parked`)
        }
      })), 60_000)
  })

/**
 * Registers the scale-out part of the suite (guarantee 9) for a platform whose stores live outside
 * the process: `deployment` makes a fresh, empty deployment and returns the platform layer of one
 * process on it; each build of that layer is another process (its own pool, its own consumers).
 * Two runtimes share the work, each consumer runs in one of them, a read model counts every event
 * once, and a runtime that stops hands its work to the other, which carries on from the
 * checkpoints.
 *
 * @since 0.1.0
 * @category suites
 */
export const scaleOutSuite = <E, E2>(name: string, deployment: Effect.Effect<Layer.Layer<Runtime.Platform, E>, E2>) =>
  describe(`conformance (scale-out): ${name}`, { timeout: 60_000 }, () => {
    /** One process of the deployment: a runtime on its own build of the platform. */
    const processOn = (platform: Layer.Layer<Runtime.Platform, E>) =>
      Effect.map(
        Layer.build(Runtime.layer({ plugins: [plugin, subscriber], retrySchedule: fastRetry, concurrency: 4 }).pipe(
          Layer.provideMerge(Layer.merge(platform, outboxLayer))
        )),
        (context) => ({ runtime: Context.get(context, Runtime.Runtime), outbox: Context.get(context, Outbox) })
      )
    const until = (what: string, check: Effect.Effect<boolean, unknown>) =>
      Effect.retry(Effect.flatMap(check, (done) => done ? Effect.void : Effect.fail(what)), Schedule.spaced("100 millis").pipe(Schedule.upTo({ times: 200 })))
    const sendAll = (runtime: Runtime.Runtime["Service"], from: number, count: number) =>
      Effect.forEach(Array.from({ length: count }, (_, i) => from + i), (i) =>
        runtime.send({ component: "Counter", id: `s${i % 8}`, command: { _tag: "Increment", by: 1 }, meta: { msgId: `scale-${i}` } }), { concurrency: 8, discard: true })
    const totals = (runtime: Runtime.Runtime["Service"]) =>
      Effect.map(Effect.forEach(Array.from({ length: 8 }, (_, k) => `s${k}`), (id) => runtime.query("Totals", id)), (rows) =>
        rows.reduce((sum, row) => sum + Option.match(row, { onNone: () => 0, onSome: (value) => (value as { events: number }).events }), 0))

    it.live("9. two runtimes share the consumers, each runs in one of them, and a read model counts every event once", () =>
      Effect.gen(function*() {
        const platform = yield* deployment
        const a = yield* processOn(platform)
        const b = yield* processOn(platform)
        // The first took everything; within a round or two it gives the second its share.
        const ownedBy = (runtime: Runtime.Runtime["Service"]) =>
          Effect.map(runtime.status(), (status) => status.consumers.filter((consumer) => Option.isSome(consumer.owner) && consumer.owner.value.here).length)
        yield* until("shared", Effect.map(Effect.all([ownedBy(a.runtime), ownedBy(b.runtime)]), ([x, y]) => x > 0 && y > 0))
        yield* Effect.all([sendAll(a.runtime, 0, 100), sendAll(b.runtime, 100, 100)], { concurrency: 2 })
        yield* Effect.all([a.runtime.awaitIdle, b.runtime.awaitIdle], { concurrency: 2 })
        assert.strictEqual(yield* totals(a.runtime), 200)
        const status = yield* a.runtime.status()
        for (const consumer of status.consumers) assert.strictEqual(consumer.behind, 0, consumer.name)
        // What each runtime runs (its own fibers, not the lease table): every consumer in exactly one.
        const [seenByA, seenByB] = [(yield* a.runtime.status()).consumers, (yield* b.runtime.status()).consumers]
        for (const [i, consumer] of seenByA.entries()) {
          assert.strictEqual([consumer.handled, seenByB[i]!.handled].filter(Option.isSome).length, 1, `${consumer.name} runs in exactly one runtime`)
        }
        // The side effect ran once per event: the work was shared before the commands, so no
        // event was handled by two owners.
        const deliveries = [...a.outbox.deliveries, ...b.outbox.deliveries].map((delivery) => delivery.key)
        assert.strictEqual(deliveries.length, 200)
        assert.strictEqual(new Set(deliveries).size, 200)
      }).pipe(Effect.scoped))

    it.live("9. a runtime that stops hands its work over: the other runs all of it from the checkpoints", () =>
      Effect.gen(function*() {
        const platform = yield* deployment
        const b = yield* processOn(platform)
        const first = yield* Scope.make()
        const a = yield* Scope.provide(processOn(platform), first)
        yield* Effect.all([sendAll(a.runtime, 0, 60), sendAll(b.runtime, 60, 60)], { concurrency: 2 })
        yield* a.runtime.awaitIdle
        yield* Scope.close(first, Exit.void)
        const everything = Effect.map(b.runtime.status(), (status) =>
          [...status.consumers, ...status.work].every((piece) => Option.isSome(piece.owner) && piece.owner.value.here))
        yield* until("handed over", everything)
        yield* sendAll(b.runtime, 120, 60)
        yield* b.runtime.awaitIdle
        assert.strictEqual(yield* totals(b.runtime), 180)
      }).pipe(Effect.scoped))
  })
