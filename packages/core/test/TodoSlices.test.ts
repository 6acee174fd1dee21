/**
 * TODO-list slices. An automation: express orders are shipped by a TODO list swept every
 * heartbeat; a cancel before the sweep ticks the item off; a rejection is final; failures are
 * retried under the same message id, then the item is abandoned, listed with the dead letters,
 * and can be replayed. An outbound translation: a mailer called each sweep until it answers, its
 * answer turned into a command, abandoned after its retries.
 */
import { assert, describe, it } from "@effect/vitest"
import { Aggregate, AutomationSlice, MemoryPlatform, OutboundTranslationSlice, Plugin, Runtime, TodoStore } from "@reventless/core"
import { Context, Effect, Layer, Option, Result, Schedule, Schema } from "effect"
import { TestClock } from "effect/testing"

const Place = Schema.TaggedStruct("Place", { express: Schema.Boolean })
const Cancel = Schema.TaggedStruct("Cancel", {})
const Placed = Schema.TaggedStruct("Placed", { express: Schema.Boolean })
const Cancelled = Schema.TaggedStruct("Cancelled", {})
const Order = Aggregate.make({
  name: "Order",
  command: Schema.Union([Place, Cancel]),
  event: Schema.Union([Placed, Cancelled]),
  rejection: Schema.Never,
  state: Schema.Boolean,
  initialState: false,
  evolve: () => true,
  decide: (_placed, command, { id }) => {
    if (command._tag === "Cancel" && id.endsWith("-sticky")) throw new Error("cancellation service down")
    return Result.succeed(command._tag === "Place" ? [Placed.make({ express: command.express })] : [Cancelled.make({})])
  }
})

const Ship = Schema.TaggedStruct("Ship", {})
const Shipped = Schema.TaggedStruct("Shipped", {})
class Blocked extends Schema.TaggedError<Blocked>()("Blocked", {}) {}
const Shipment = Aggregate.make({
  name: "Shipment",
  command: Ship,
  event: Shipped,
  rejection: Blocked,
  state: Schema.Boolean,
  initialState: false,
  evolve: () => true,
  decide: (shipped, _command, { id }) => {
    if (id === "broken") throw new Error("carrier API down")
    if (id === "blocked") return Result.fail(new Blocked())
    return Result.succeed(shipped ? [] : [Shipped.make({})])
  }
})

const AutoShipExpress = AutomationSlice.make({
  name: "AutoShipExpress",
  todoItem: Schema.Struct({ orderId: Schema.String }),
  source: Order,
  target: Shipment,
  collect: ({ event, id }) => event._tag === "Placed" && event.express ? [[id, { orderId: id }]] : [],
  resolve: ({ event, id }) => event._tag === "Cancelled" ? id : undefined,
  process: (_id, item) => {
    if (item.orderId === "boom") throw new Error("process bug")
    return { id: item.orderId, command: Ship.make({}) }
  },
  onExhausted: (_id, item) => ({ id: `${item.orderId}-manual`, command: Ship.make({}) }),
  maxRetries: 2,
  heartbeatInterval: 10
})

const Shop = Plugin.make({ name: "Shop", heartbeatInterval: 60, aggregates: [Order, Shipment], automationSlices: [AutoShipExpress] })
/** Retries without waiting: these tests run on the TestClock, and decide throws for some ids. */
const retryAtOnce = Schedule.recurs(3)
const shop = Runtime.layer({ plugins: [Shop], retrySchedule: retryAtOnce }).pipe(Layer.provideMerge(MemoryPlatform.layer))

const place = (id: string, express: boolean) => Runtime.execute(Order, id, Place.make({ express }))
const sweep = Effect.andThen(TestClock.adjust("10 seconds"), Runtime.awaitIdle)
const status = (id: string) =>
  Effect.map(Effect.flatMap(TodoStore.TodoStore, (todos) => todos.get("Shop.AutoShipExpress", id)), Option.map((row) => [row.status, row.attempts]))

describe("AutomationSlice", () => {
  it.effect("a process that throws is a failed attempt of its item; the other items go on", () =>
    Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      yield* place("boom", true)
      yield* place("o5", true)
      yield* runtime.awaitIdle
      yield* sweep
      assert.deepStrictEqual(yield* status("boom"), Option.some(["Pending", 1]))
      assert.deepStrictEqual(yield* status("o5"), Option.some(["Done", 0]))
      assert.lengthOf(yield* runtime.readStream("Shipment", "o5"), 1)
      yield* sweep
      yield* sweep
      assert.deepStrictEqual(yield* status("boom"), Option.some(["Abandoned", 3]))
      assert.lengthOf(yield* runtime.readStream("Shipment", "boom-manual"), 1, "onExhausted got the item")
      yield* place("o6", true)
      yield* runtime.awaitIdle
      yield* sweep
      assert.deepStrictEqual(yield* status("o6"), Option.some(["Done", 0]), "the sweep goes on")
    }).pipe(Effect.provide(shop)))

  it.effect("ships express orders at the next sweep, with the order's placement as causation", () =>
    Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      const [placed] = yield* Effect.map(Effect.andThen(place("o1", true), runtime.readStream("Order", "o1")), (events) => events)
      yield* place("o2", false)
      yield* runtime.awaitIdle
      assert.deepStrictEqual(yield* runtime.readStream("Shipment", "o1"), [], "nothing before the sweep")
      yield* sweep
      const shipped = yield* runtime.readStream("Shipment", "o1")
      assert.deepStrictEqual(shipped.map((event) => [event.data, event.meta.causationId]), [[{ _tag: "Shipped" }, placed!.id]])
      assert.deepStrictEqual(yield* runtime.readStream("Shipment", "o2"), [])
      assert.deepStrictEqual(yield* status("o1"), Option.some(["Done", 0]))
    }).pipe(Effect.provide(shop)))

  it.effect("an item resolved before the sweep is never processed; a rejection is final", () =>
    Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      yield* place("o3", true)
      yield* Runtime.execute(Order, "o3", Cancel.make({}))
      yield* place("blocked", true)
      yield* runtime.awaitIdle
      yield* sweep
      yield* sweep
      assert.deepStrictEqual(yield* runtime.readStream("Shipment", "o3"), [])
      assert.deepStrictEqual(yield* status("o3"), Option.some(["Done", 0]))
      assert.deepStrictEqual(yield* status("blocked"), Option.some(["Rejected", 0]))
      assert.deepStrictEqual(yield* runtime.deadLetters.list(), [])
    }).pipe(Effect.provide(shop)))

  it.effect("a failing command is retried each sweep, then abandoned with onExhausted's command, listed, and replayable", () =>
    Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      yield* place("broken", true)
      yield* runtime.awaitIdle
      yield* sweep
      assert.deepStrictEqual(yield* status("broken"), Option.some(["Pending", 1]))
      yield* sweep
      yield* sweep
      assert.deepStrictEqual(yield* status("broken"), Option.some(["Abandoned", 3]))
      assert.lengthOf(yield* runtime.readStream("Shipment", "broken-manual"), 1)
      const letters = yield* runtime.deadLetters.list()
      assert.deepStrictEqual(letters.map((letter) => letter._tag), ["Todo"])
      assert.include(letters[0]!.reason, "carrier API down")
      yield* runtime.deadLetters.replay(letters[0]!.id)
      assert.deepStrictEqual(yield* status("broken"), Option.some(["Pending", 0]))
      yield* sweep
      assert.deepStrictEqual(yield* status("broken"), Option.some(["Pending", 1]), "the replayed item is worked again")
      // A replay only reopens abandoned items.
      yield* place("o7", true)
      yield* runtime.awaitIdle
      yield* sweep
      assert.deepStrictEqual(yield* status("o7"), Option.some(["Done", 0]))
    }).pipe(Effect.provide(shop)))
})

/** The outside world the outbound slice talks to: a mailer that can be made to fail. */
class Mailer extends Context.Service<Mailer, {
  readonly sent: Array<string>
  failuresLeft: number
}>()("test/Mailer") {}

const Notify = OutboundTranslationSlice.make({
  name: "Notify",
  outboundItem: Schema.Struct({ orderId: Schema.String }),
  source: Order,
  target: Order,
  externalSystem: "mailer",
  collect: ({ event, id }) => event._tag === "Placed" ? [[id, { orderId: id }]] : [],
  // The mailer's answer comes back as a command: cancel orders the mailer could not reach.
  translate: (_id, item) =>
    Effect.flatMap(Effect.service(Mailer), (mailer) => {
      if (mailer.failuresLeft > 0) {
        mailer.failuresLeft--
        return Effect.fail("mailer unavailable")
      }
      mailer.sent.push(item.orderId)
      return Effect.succeed(item.orderId.startsWith("unreachable") ? { id: item.orderId, command: Cancel.make({}) } : undefined)
    }),
  maxRetries: 2,
  heartbeatInterval: 10
})

const Mailing = Plugin.make<Mailer>({ name: "Mailing", heartbeatInterval: 60, aggregates: [Order], outboundTranslationSlices: [Notify] })
const mailing = (failuresLeft: number) =>
  Runtime.layer({ plugins: [Mailing], retrySchedule: retryAtOnce }).pipe(
    Layer.provideMerge(MemoryPlatform.layer),
    Layer.provideMerge(Layer.sync(Mailer, () => Mailer.of({ sent: [], failuresLeft })))
  )
const notifyStatus = (id: string) =>
  Effect.map(Effect.flatMap(TodoStore.TodoStore, (todos) => todos.get("Mailing.Notify", id)), Option.map((row) => [row.status, row.attempts]))

describe("OutboundTranslationSlice", () => {
  it.effect("calls the outside each sweep until it answers, and turns its answer into a command", () =>
    Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      const mailer = yield* Mailer
      yield* Runtime.execute(Order, "unreachable", Place.make({ express: false }))
      yield* runtime.awaitIdle
      yield* sweep
      assert.deepStrictEqual(yield* notifyStatus("unreachable"), Option.some(["Pending", 1]))
      yield* sweep
      assert.deepStrictEqual(mailer.sent, ["unreachable"])
      assert.deepStrictEqual(yield* notifyStatus("unreachable"), Option.some(["Done", 1]))
      assert.deepStrictEqual((yield* runtime.readStream("Order", "unreachable")).map((event) => event.data), [{ _tag: "Placed", express: false }, { _tag: "Cancelled" }])
    }).pipe(Effect.provide(mailing(1))))

  it.effect("an answer whose command fails is resent, without calling the outside again", () =>
    Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      const mailer = yield* Mailer
      yield* Runtime.execute(Order, "unreachable-sticky", Place.make({ express: false }))
      yield* runtime.awaitIdle
      yield* sweep
      yield* sweep
      assert.deepStrictEqual(yield* notifyStatus("unreachable-sticky"), Option.some(["Pending", 2]))
      assert.deepStrictEqual(mailer.sent, ["unreachable-sticky"], "one call to the mailer")
    }).pipe(Effect.provide(mailing(0))))

  it.effect("gives up after its retries: abandoned and listed with the dead letters", () =>
    Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      yield* Runtime.execute(Order, "o1", Place.make({ express: false }))
      yield* runtime.awaitIdle
      yield* sweep
      yield* sweep
      yield* sweep
      assert.deepStrictEqual(yield* notifyStatus("o1"), Option.some(["Abandoned", 3]))
      const letters = yield* runtime.deadLetters.list()
      assert.deepStrictEqual(letters.map((letter) => [letter._tag, letter.reason]), [["Todo", "mailer unavailable"]])
    }).pipe(Effect.provide(mailing(100))))
})
