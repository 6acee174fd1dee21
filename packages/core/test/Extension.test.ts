/**
 * Extension points and extensions between two small plugins, Warehouse (owns the Warehouse.Inventory
 * extension point) and Shopfront (extends it), exercising every action variant in both mapping
 * directions, redelivery, late subscription, and the failures that must be typed.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  Aggregate,
  DcbEventStore,
  EventStore,
  Extension,
  ExtensionPoint,
  MemoryPlatform,
  Plugin,
  Runtime,
  Scheduler,
  StateChangeSlice
} from "@reventless/core"
import { Faults } from "@reventless/testing"
import { Effect, Layer, Result, Schedule, Schema } from "effect"

// Warehouse: stock per sku, and its public contract.
const Receive = Schema.TaggedStruct("Receive", { qty: Schema.Int })
const Reserve = Schema.TaggedStruct("Reserve", { qty: Schema.Int, orderId: Schema.String })
const Recount = Schema.TaggedStruct("Recount", {})
const Received = Schema.TaggedStruct("Received", { qty: Schema.Int })
const Reserved = Schema.TaggedStruct("Reserved", { qty: Schema.Int, orderId: Schema.String })
const Recounted = Schema.TaggedStruct("Recounted", { available: Schema.Int })
class OutOfStock extends Schema.TaggedError<OutOfStock>()("OutOfStock", { available: Schema.Int }) {}

const Stock = Aggregate.make({
  name: "Stock",
  command: Schema.Union([Receive, Reserve, Recount]),
  event: Schema.Union([Received, Reserved, Recounted]),
  rejection: OutOfStock,
  state: Schema.Int,
  initialState: 0,
  evolve: (available: number, event) => event._tag === "Received" ? available + event.qty : event._tag === "Reserved" ? available - event.qty : available,
  decide: (available, command) => {
    switch (command._tag) {
      case "Receive":
        return Result.succeed([Received.make({ qty: command.qty })])
      case "Reserve":
        return command.qty > available ? Result.fail(new OutOfStock({ available })) : Result.succeed([Reserved.make({ qty: command.qty, orderId: command.orderId })])
      case "Recount":
        return Result.succeed([Recounted.make({ available })])
    }
  }
})

const StockChanged = Schema.TaggedStruct("StockChanged", { sku: Schema.String, available: Schema.Int })
const ReserveStock = Schema.TaggedStruct("ReserveStock", { sku: Schema.String, qty: Schema.Int, orderId: Schema.String })
const Audit = Schema.TaggedStruct("Audit", { note: Schema.String })
const ScheduleRecount = Schema.TaggedStruct("ScheduleRecount", { sku: Schema.String, at: Schema.Number })
const LogAudit = Schema.TaggedStruct("LogAudit", { note: Schema.String })

const StockContract = ExtensionPoint.spec({
  name: "Warehouse.Inventory",
  event: StockChanged,
  command: Schema.Union([ReserveStock, Audit]),
  directive: Schema.Union([ScheduleRecount, LogAudit])
})

// Shopfront: a shelf per sku that shows what is available, and a DCB-style delegate for holds.
const Show = Schema.TaggedStruct("Show", { available: Schema.Int })
const Hide = Schema.TaggedStruct("Hide", {})
const PlaceHold = Schema.TaggedStruct("PlaceHold", { qty: Schema.Int, orderId: Schema.String })
const Forward = Schema.TaggedStruct("Forward", { commandJson: Schema.Unknown })
const Shown = Schema.TaggedStruct("Shown", { available: Schema.Int })
const Hidden = Schema.TaggedStruct("Hidden", {})
const HoldPlaced = Schema.TaggedStruct("HoldPlaced", { qty: Schema.Int, orderId: Schema.String })
const Forwarded = Schema.TaggedStruct("Forwarded", { commandJson: Schema.Unknown })

const Shelf = Aggregate.make({
  name: "Shelf",
  command: Schema.Union([Show, Hide, PlaceHold, Forward]),
  event: Schema.Union([Shown, Hidden, HoldPlaced, Forwarded]),
  rejection: Schema.Never,
  state: Schema.Struct({ shown: Schema.Boolean, available: Schema.Int }),
  initialState: { shown: false, available: 0 },
  evolve: (state, event) => {
    switch (event._tag) {
      case "Shown":
        return { shown: true, available: event.available }
      case "Hidden":
        return { shown: false, available: 0 }
      default:
        return state
    }
  },
  decide: (state, command) => {
    switch (command._tag) {
      case "Show":
        return Result.succeed(state.shown && state.available === command.available ? [] : [Shown.make({ available: command.available })])
      case "Hide":
        return Result.succeed(state.shown ? [Hidden.make({})] : [])
      case "PlaceHold":
        return Result.succeed([HoldPlaced.make({ qty: command.qty, orderId: command.orderId })])
      case "Forward":
        return Result.succeed([Forwarded.make({ commandJson: command.commandJson })])
    }
  }
})

const Hold = Schema.TaggedStruct("Hold", { orderId: Schema.String, sku: Schema.String })
const HoldSlice = StateChangeSlice.make({
  name: "HoldSlice",
  command: Hold,
  event: Hold,
  consumedEvent: Hold,
  rejection: Schema.Never,
  initialState: 0,
  evolve: (holds: number) => holds + 1,
  decide: (_holds, command) => Result.succeed([command]),
  partition: "orderId"
})

/** Both plugins, with the audit trails their directive handlers write to. */
const makePlugins = () => {
  const warehouseAudit: Array<string> = []
  const shopfrontAudit: Array<string> = []
  let flakyCalls = 0
  const StockExtensionPoint = ExtensionPoint.make({
    spec: StockContract,
    delegate: Stock,
    targets: [Stock],
    mapOutgoingEvent: ({ id, value: event }) => {
      switch (event._tag) {
        case "Received":
          return [ExtensionPoint.publishEvent(id, StockChanged.make({ sku: id, available: event.qty }))]
        case "Reserved":
          return [ExtensionPoint.handleDirective(ScheduleRecount.make({ sku: id, at: 60_000 }))]
        case "Recounted":
          return [ExtensionPoint.publishEvent(id, StockChanged.make({ sku: id, available: event.available }))]
      }
    },
    mapIncomingCommand: ({ value: command }) =>
      command._tag === "ReserveStock"
        ? [
          ExtensionPoint.publishCommand(Stock, command.sku, Reserve.make({ qty: command.qty, orderId: command.orderId })),
          ExtensionPoint.handleDirective(LogAudit.make({ note: `reserve ${command.orderId}` }))
        ]
        : [ExtensionPoint.handleDirective(LogAudit.make({ note: command.note }))],
    handleDirective: (directive, scheduler) =>
      directive._tag === "LogAudit"
        ? Effect.sync(() => void warehouseAudit.push(directive.note))
        : Effect.andThen(
          scheduler.schedule(Stock, { key: `recount-${directive.sku}`, at: directive.at, id: directive.sku, command: Recount.make({}) }),
          Effect.sync(() => void warehouseAudit.push(`recount ${directive.sku} scheduled`))
        )
  })
  const audit = (directive: typeof LogAudit.Type | typeof ScheduleRecount.Type) =>
    Effect.sync(() => void shopfrontAudit.push(directive._tag === "LogAudit" ? directive.note : `unexpected ${directive._tag}`))

  const ShelfExtension = Extension.make({
    name: "Shelves",
    extensionPoint: StockContract,
    delegate: Shelf,
    mapIncomingEvent: ({ event }) => {
      if (event.sku.startsWith("flaky")) {
        // Fails `failures` times, then answers: the consumer retries it on the transient schedule.
        return [Extension.publishAggregateCommandAsync(Effect.suspend(() =>
          flakyCalls++ < (event.sku === "flaky-forever" ? Infinity : 2)
            ? Effect.fail("lookup service unavailable")
            : Effect.succeed([event.sku, Show.make({ available: event.available })] as const)
        ))]
      }
      if (event.sku === "relay") {
        return [
          Extension.publishExtensionPointCommand(event.sku, Audit.make({ note: "incoming ep command" })),
          Extension.forwardCommand({ extensionPointName: "Warehouse.Inventory", id: event.sku, commandJson: { _tag: "Audit", note: "incoming forward" } })
        ]
      }
      if (event.sku === "bundle") {
        const show = Show.make({ available: event.available })
        return [Extension.publishAggregateCommandsAsync(Effect.succeed([["bundle-a", show], ["bundle-b", show]] as const))]
      }
      return [
        event.available > 0
          ? Extension.publishAggregateCommand(event.sku, Show.make({ available: event.available }))
          : Extension.publishAggregateCommandAsync(Effect.succeed([event.sku, Hide.make({})] as const)),
        Extension.handleDirective(audit, LogAudit.make({ note: `saw ${event.sku}=${event.available}` }))
      ]
    },
    mapOutgoingEvent: ({ event, id }) => {
      switch (event._tag) {
        case "HoldPlaced":
          return [Extension.publishExtensionPointCommand(id, ReserveStock.make({ sku: id, qty: event.qty, orderId: event.orderId }))]
        case "Forwarded":
          return [Extension.forwardCommand({ extensionPointName: "Warehouse.Inventory", id, commandJson: event.commandJson })]
        case "Shown":
          return [Extension.handleDirective(audit, LogAudit.make({ note: `shown ${id}` }))]
        case "Hidden":
          return []
      }
    }
  })
  const HoldExtension = Extension.make({
    name: "Holds",
    extensionPoint: StockContract,
    delegate: HoldSlice,
    mapIncomingEvent: ({ event }) =>
      event.sku !== "slices" ? [] : [
        Extension.publishStateChangeSliceCommand(Hold.make({ orderId: "h1", sku: event.sku })),
        Extension.publishStateChangeSliceCommandAsync(Effect.succeed(Hold.make({ orderId: "h2", sku: event.sku }))),
        Extension.publishStateChangeSliceCommandsAsync(Effect.succeed([Hold.make({ orderId: "h3", sku: event.sku }), Hold.make({ orderId: "h4", sku: event.sku })]))
      ]
  })
  const Warehouse = Plugin.make({ name: "Warehouse", heartbeatInterval: 60, aggregates: [Stock], extensionPoints: [StockExtensionPoint] })
  const Shopfront = Plugin.make({
    name: "Shopfront",
    heartbeatInterval: 60,
    aggregates: [Shelf],
    stateChangeSlices: [HoldSlice],
    extensions: [ShelfExtension, HoldExtension]
  })
  return { Warehouse, Shopfront, warehouseAudit, shopfrontAudit }
}

const fastRetry = Schedule.spaced("1 millis").pipe(Schedule.upTo({ times: 3 }))

const shop = (faults: Partial<Faults.FaultSwitches> = {}) => {
  const made = makePlugins()
  const layer = Runtime.layer({ plugins: [made.Warehouse, made.Shopfront], retrySchedule: fastRetry }).pipe(
    Layer.provideMerge(Faults.inject(faults)(MemoryPlatform.layer))
  )
  return { ...made, layer }
}

/** Starts runtimes one after another over one memory platform, as a deployment adds plugins. */
const runtimesOverOnePlatform = Effect.map(Layer.build(MemoryPlatform.layer), (platform) =>
  <A, E>(plugins: ReadonlyArray<Plugin.Plugin<never>>, effect: Effect.Effect<A, E, Runtime.Runtime>) =>
    Effect.scoped(Effect.flatMap(Layer.build(Runtime.layer({ plugins }).pipe(Layer.provide(Layer.succeedContext(platform)))), (context) =>
      Effect.provideContext(effect, context))))

const dataOf = (events: ReadonlyArray<{ readonly data: unknown }>) => events.map((event) => event.data)

describe("extension points and extensions", () => {
  it.effect("events cross plugins through the extension point and come back as commands, every variant once", () => {
    const { layer, shopfrontAudit, warehouseAudit } = shop()
    return Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      const store = yield* EventStore.EventStore
      yield* Runtime.execute(Stock, "tea", Receive.make({ qty: 2 }))
      yield* Runtime.execute(Stock, "bundle", Receive.make({ qty: 1 }))
      yield* runtime.awaitIdle
      // PublishEvent: stored in the owner's log under the extension point's name.
      assert.deepStrictEqual(dataOf(yield* store.readStream("Warehouse.Inventory", "tea")), [{ _tag: "StockChanged", sku: "tea", available: 2 }])
      // PublishAggregateCommand, PublishAggregateCommandsAsync, and HandleDirective on both sides of the extension.
      assert.deepStrictEqual(dataOf(yield* runtime.readStream("Shelf", "tea")), [{ _tag: "Shown", available: 2 }])
      assert.deepStrictEqual(dataOf(yield* runtime.readStream("Shelf", "bundle-b")), [{ _tag: "Shown", available: 1 }])
      assert.includeMembers(shopfrontAudit, ["saw tea=2", "shown tea"])

      // Outgoing: PublishExtensionPointCommand → the extension point maps it to PublishCommand + HandleDirective.
      yield* Runtime.execute(Shelf, "tea", PlaceHold.make({ qty: 2, orderId: "o1" }))
      yield* runtime.awaitIdle
      assert.deepStrictEqual(dataOf(yield* runtime.readStream("Stock", "tea")), [{ _tag: "Received", qty: 2 }, { _tag: "Reserved", qty: 2, orderId: "o1" }])
      assert.include(warehouseAudit, "reserve o1")
      // The extension point's directive handler got the Scheduler.
      assert.include(warehouseAudit, "recount tea scheduled")
      assert.deepStrictEqual((yield* (yield* Scheduler.Scheduler).list).map((entry) => [entry.key, entry.message.component, entry.message.id]), [
        ["recount-tea", "Warehouse.Stock", "tea"]
      ])

      // The incoming side may command the extension point too, directly or forwarded as JSON.
      yield* Runtime.execute(Stock, "relay", Receive.make({ qty: 1 }))
      yield* runtime.awaitIdle
      assert.includeMembers(warehouseAudit, ["incoming ep command", "incoming forward"])

      // ForwardCommand, decoded against the target contract.
      yield* Runtime.execute(Shelf, "tea", Forward.make({ commandJson: { _tag: "Audit", note: "hello" } }))
      yield* runtime.awaitIdle
      assert.include(warehouseAudit, "hello")
    }).pipe(Effect.provide(layer))
  })

  it.effect("an extension-point command is processed once per message id", () => {
    const { layer, warehouseAudit } = shop({ duplicateCommands: true })
    return Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      yield* Runtime.execute(Stock, "tea", Receive.make({ qty: 5 }))
      yield* Runtime.execute(Shelf, "tea", PlaceHold.make({ qty: 1, orderId: "o1" }))
      yield* runtime.awaitIdle
      assert.deepStrictEqual(warehouseAudit.filter((note) => note === "reserve o1"), ["reserve o1"])
      assert.lengthOf((yield* runtime.readStream("Stock", "tea")).filter((event) => event.type.endsWith(".Reserved")), 1)
    }).pipe(Effect.provide(layer))
  })

  it.effect("PublishAggregateCommandAsync runs its Effect; redelivered events command nothing twice", () => {
    const { layer } = shop({ duplicateEvents: true })
    return Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      yield* Runtime.execute(Stock, "tea", Receive.make({ qty: 1 }))
      yield* runtime.awaitIdle
      yield* Runtime.execute(Shelf, "tea", PlaceHold.make({ qty: 1, orderId: "o1" }))
      yield* runtime.awaitIdle
      // Reserved → recount later; Recount now would publish available 0 → Hide via the Async variant.
      yield* Runtime.execute(Stock, "tea", Recount.make({}))
      yield* runtime.awaitIdle
      assert.deepStrictEqual(dataOf(yield* runtime.readStream("Shelf", "tea")), [
        { _tag: "Shown", available: 1 },
        { _tag: "HoldPlaced", qty: 1, orderId: "o1" },
        { _tag: "Hidden" }
      ])
      assert.lengthOf((yield* runtime.readStream("Stock", "tea")).filter((event) => event.type.endsWith(".Reserved")), 1)
      assert.deepStrictEqual(yield* runtime.deadLetters.list(), [])
    }).pipe(Effect.provide(layer))
  })

  it.live("a failing Async action is retried on the transient schedule, then parked; the consumer waits for a decision", () => {
    const { layer } = shop()
    return Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      yield* Runtime.execute(Stock, "flaky", Receive.make({ qty: 4 }))
      yield* runtime.awaitIdle
      assert.deepStrictEqual(dataOf(yield* runtime.readStream("Shelf", "flaky")), [{ _tag: "Shown", available: 4 }])
      assert.deepStrictEqual(yield* runtime.deadLetters.list(), [])

      yield* Runtime.execute(Stock, "flaky-forever", Receive.make({ qty: 1 }))
      yield* runtime.awaitIdle
      const [letter] = yield* runtime.deadLetters.list()
      assert.strictEqual(letter?._tag, "Event")
      assert.include(letter?.reason ?? "", "lookup service unavailable")
      assert.strictEqual(letter?._tag === "Event" ? letter.consumer : "", "extension:Shopfront.Shelves")
      yield* runtime.deadLetters.skip(letter!.id)
      yield* Runtime.execute(Stock, "tea", Receive.make({ qty: 1 }))
      yield* runtime.awaitIdle
      assert.deepStrictEqual(dataOf(yield* runtime.readStream("Shelf", "tea")), [{ _tag: "Shown", available: 1 }])
    }).pipe(Effect.provide(layer))
  })

  it.effect("state-change slice commands are routed by their partition key and decided by the slice", () => {
    const { layer } = shop()
    return Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      const store = yield* EventStore.EventStore
      yield* Runtime.execute(Stock, "slices", Receive.make({ qty: 1 }))
      yield* runtime.awaitIdle
      const held = yield* store.readTagged({ log: "Shopfront.DcbEventLog", query: DcbEventStore.all, after: 0, limit: 10 })
      assert.deepStrictEqual(held.events.map((event) => [event.streamId, event.tags]).sort(), [
        ["h1", ["orderId:h1"]],
        ["h2", ["orderId:h2"]],
        ["h3", ["orderId:h3"]],
        ["h4", ["orderId:h4"]]
      ])
      assert.deepStrictEqual(yield* runtime.deadLetters.list(), [])
    }).pipe(Effect.provide(layer))
  })

  it.effect("a forwarded command that does not fit the target contract is parked with its path", () => {
    const { layer, warehouseAudit } = shop()
    return Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      yield* Runtime.execute(Shelf, "tea", Forward.make({ commandJson: { _tag: "Audit", note: 42 } }))
      yield* runtime.awaitIdle
      const letters = yield* runtime.deadLetters.list()
      assert.lengthOf(letters, 1)
      assert.strictEqual(letters[0]!._tag, "Event")
      assert.include(letters[0]!.reason, "invalid Warehouse.Inventory command at [\"note\"]")
      assert.notInclude(warehouseAudit, "42")
    }).pipe(Effect.provide(layer))
  })

  it.effect("an extension added after events exist catches up from the beginning", () => {
    const { Shopfront, Warehouse } = makePlugins()
    return Effect.gen(function*() {
      const run = yield* runtimesOverOnePlatform
      yield* run([Warehouse], Effect.andThen(Runtime.execute(Stock, "tea", Receive.make({ qty: 3 })), Runtime.awaitIdle))
      const shelf = yield* run([Warehouse, Shopfront], Effect.andThen(Runtime.awaitIdle, Effect.flatMap(Runtime.Runtime, (runtime) => runtime.readStream("Shelf", "tea"))))
      assert.deepStrictEqual(dataOf(shelf), [{ _tag: "Shown", available: 3 }])
    })
  })

  it.effect("an extension that starts from now ignores what was published before it first ran", () => {
    const { Warehouse } = makePlugins()
    const Latecomer = Plugin.make({
      name: "Latecomer",
      heartbeatInterval: 60,
      aggregates: [Shelf],
      extensions: [Extension.make({
        name: "NewStockOnly",
        startFrom: "now",
        extensionPoint: StockContract,
        delegate: Shelf,
        mapIncomingEvent: ({ event }) => [Extension.publishAggregateCommand(event.sku, Show.make({ available: event.available }))]
      })]
    })
    return Effect.gen(function*() {
      const run = yield* runtimesOverOnePlatform
      yield* run([Warehouse], Effect.andThen(Runtime.execute(Stock, "tea", Receive.make({ qty: 3 })), Runtime.awaitIdle))
      const [before, after] = yield* run(
        [Warehouse, Latecomer],
        Effect.gen(function*() {
          const runtime = yield* Runtime.Runtime
          yield* runtime.awaitIdle
          yield* Runtime.execute(Stock, "coffee", Receive.make({ qty: 2 }))
          yield* runtime.awaitIdle
          return [yield* runtime.readStream("Latecomer.Shelf", "tea"), yield* runtime.readStream("Latecomer.Shelf", "coffee")] as const
        })
      )
      assert.deepStrictEqual(dataOf(before), [])
      assert.deepStrictEqual(dataOf(after), [{ _tag: "Shown", available: 2 }])
    })
  })

  it("the plugin graph names a misplaced or unknown piece", () => {
    const { Shopfront } = makePlugins()
    const stray = ExtensionPoint.make({ spec: StockContract, delegate: Stock })
    const result = Plugin.validate(Plugin.make({ ...Shopfront, extensionPoints: [stray] }))
    assert.deepStrictEqual(Result.isFailure(result) ? result.failure.problems : [], [
      "extension point \"Warehouse.Inventory\" must be named \"Shopfront.<Name>\" to belong to plugin Shopfront",
      "extension point \"Warehouse.Inventory\" maps unknown aggregate \"Stock\""
    ])
  })
})
