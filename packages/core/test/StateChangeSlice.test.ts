/**
 * State-change slices as pure descriptors: tags from entity fields, the partition key, the query
 * a command's decision reads, and the decision itself over the log a PlaceOrder slice would see
 * (the hybrid shop's open-order limit, which spans the order, the customer and every product).
 */
import { assert, describe, it } from "@effect/vitest"
import {
  CommandTopic,
  DcbEventLog,
  DcbEventStore,
  EventStore,
  ExtensionPoint,
  InboundTranslationSlice,
  Message,
  MemoryPlatform,
  Plugin,
  ReadModel,
  Runtime,
  StateChangeSlice,
  StateViewSlice
} from "@reventless/core"
import { SliceSpec } from "@reventless/testing"
import { Deferred, Effect, Layer, Option, Result, Schedule, Schema, Stream } from "effect"

const OrderPlaced = Schema.TaggedStruct("OrderPlaced", { orderId: Schema.String, customerId: Schema.String, productIds: Schema.Array(Schema.String) })
const OrderClosed = Schema.TaggedStruct("OrderClosed", { orderId: Schema.String, customerId: Schema.String })
const ProductSynced = Schema.TaggedStruct("ProductSynced", { productId: Schema.String, name: Schema.String })
const ProductWithdrawn = Schema.TaggedStruct("ProductWithdrawn", { productId: Schema.String })
const PlaceOrder = Schema.TaggedStruct("PlaceOrder", { orderId: Schema.String, customerId: Schema.String, productIds: Schema.Array(Schema.String) })

class OrderAlreadyPlaced extends Schema.TaggedError<OrderAlreadyPlaced>()("OrderAlreadyPlaced", {}) {}
class ProductsNotAvailable extends Schema.TaggedError<ProductsNotAvailable>()("ProductsNotAvailable", { missing: Schema.Array(Schema.String) }) {}
class OpenOrderLimitReached extends Schema.TaggedError<OpenOrderLimitReached>()("OpenOrderLimitReached", { open: Schema.Int }) {}

/**
 * The query reads by every tag of the command, so OrderPlaced events of other customers arrive
 * too (through the product clauses): the state keeps open orders per customer.
 */
interface State {
  readonly orders: ReadonlySet<string>
  readonly openByCustomer: ReadonlyMap<string, ReadonlySet<string>>
  readonly available: ReadonlySet<string>
}

const withOrder = (open: ReadonlyMap<string, ReadonlySet<string>>, customerId: string, change: (orders: Set<string>) => void) => {
  const orders = new Set(open.get(customerId) ?? [])
  change(orders)
  return new Map([...open, [customerId, orders]])
}

const PlaceOrderSlice = StateChangeSlice.make({
  name: "PlaceOrder",
  command: PlaceOrder,
  event: OrderPlaced,
  consumedEvent: Schema.Union([OrderPlaced, OrderClosed, ProductSynced, ProductWithdrawn]),
  rejection: Schema.Union([OrderAlreadyPlaced, ProductsNotAvailable, OpenOrderLimitReached]),
  partition: "orderId",
  initialState: { orders: new Set(), openByCustomer: new Map(), available: new Set() } as State,
  evolve: (state, event): State => {
    switch (event._tag) {
      case "OrderPlaced":
        return {
          ...state,
          orders: new Set([...state.orders, event.orderId]),
          openByCustomer: withOrder(state.openByCustomer, event.customerId, (orders) => orders.add(event.orderId))
        }
      case "OrderClosed":
        return { ...state, openByCustomer: withOrder(state.openByCustomer, event.customerId, (orders) => orders.delete(event.orderId)) }
      case "ProductSynced":
        return { ...state, available: new Set([...state.available, event.productId]) }
      case "ProductWithdrawn":
        return { ...state, available: new Set([...state.available].filter((id) => id !== event.productId)) }
    }
  },
  decide: (state, command) => {
    if (state.orders.has(command.orderId)) return Result.fail(new OrderAlreadyPlaced())
    const missing = command.productIds.filter((id) => !state.available.has(id))
    if (missing.length > 0) return Result.fail(new ProductsNotAvailable({ missing }))
    const open = state.openByCustomer.get(command.customerId)?.size ?? 0
    if (open >= 3) return Result.fail(new OpenOrderLimitReached({ open }))
    return Result.succeed([OrderPlaced.make({ orderId: command.orderId, customerId: command.customerId, productIds: command.productIds })])
  }
})

const spec = SliceSpec.make(PlaceOrderSlice)
const place = (orderId: string, customerId = "c1") => PlaceOrder.make({ orderId, customerId, productIds: ["p1", "p2"] })
const synced = [ProductSynced.make({ productId: "p1", name: "Tea" }), ProductSynced.make({ productId: "p2", name: "Pot" })]
const placed = (orderId: string, customerId = "c1") => OrderPlaced.make({ orderId, customerId, productIds: ["p1"] })

describe("StateChangeSlice", () => {
  it("a decision model gives its slices its consumed events, initial state and evolve; each slice keeps its own partition and mode", () => {
    const Opened = Schema.TaggedStruct("Opened", { showId: Schema.String })
    const Reserve = Schema.TaggedStruct("Reserve", { showId: Schema.String, seatId: Schema.String })
    const Reserved = Schema.TaggedStruct("Reserved", { showId: Schema.String, seatId: Schema.String })
    const shows = StateChangeSlice.decisionModel({ consumedEvent: Opened, initialState: 0, evolve: (n: number) => n + 1 })
    const now = shows.make({ name: "ReserveNow", command: Reserve, event: Reserved, rejection: Schema.Never, partition: ["showId", "seatId"], decide: () => Result.succeed([]) })
    const later = shows.make({ name: "ReserveLater", command: Reserve, event: Reserved, rejection: Schema.Never, partition: "seatId", mode: "async", decide: () => Result.succeed([]) })
    assert.deepStrictEqual([now.partition, now.mode, later.partition, later.mode], [["showId", "seatId"], "sync", ["seatId"], "async"])
    for (const slice of [now, later]) {
      assert.strictEqual(slice.consumedEvent, Opened)
      assert.strictEqual(slice.initialState, 0)
      assert.strictEqual(slice.evolve(slice.initialState, Opened.make({ showId: "s" })), 1)
    }
  })

  it("tags every entity field, one per element of an *Ids array; a schema may mark other fields as tags, or entity fields as none", () => {
    assert.deepStrictEqual(StateChangeSlice.tagsOf({ _tag: "X", orderId: "o1", productIds: ["p1", "p2", "p1"], qty: 2 }), ["orderId:o1", "productId:p1", "productId:p2"])
    const Marked = Schema.TaggedStruct("Marked", {
      orderId: Schema.String,
      customerId: StateChangeSlice.noTag(Schema.String),
      sku: StateChangeSlice.tag(Schema.String),
      regions: StateChangeSlice.tag(Schema.optionalKey(Schema.Array(Schema.String)))
    })
    const value = Marked.make({ orderId: "o1", customerId: "c1", sku: "TEA-1", regions: ["eu", "us"] })
    assert.deepStrictEqual(StateChangeSlice.tagsOf(value, Marked), ["orderId:o1", "sku:TEA-1", "regions:eu", "regions:us"])
    assert.deepStrictEqual(StateChangeSlice.tagsOf({ ...value, regions: undefined }, Marked), ["orderId:o1", "sku:TEA-1"])
    assert.deepStrictEqual(StateChangeSlice.tagFieldsByType(Marked).get("Marked")!.map((field) => field.key), ["orderId", "sku", "regions"])
  })

  it("routes by the declared partition, a composite of fields, or the one *Id field every command has", () => {
    assert.strictEqual(PlaceOrderSlice.partitionOf(place("o1")), "o1")
    const Book = Schema.TaggedStruct("Book", { showId: Schema.String, seatId: Schema.String })
    const composite = StateChangeSlice.make({
      name: "BookSeat", command: Book, event: Book, consumedEvent: Book, rejection: Schema.Never,
      initialState: 0, evolve: (n: number) => n, decide: () => Result.succeed([]), partition: ["showId", "seatId"]
    })
    assert.strictEqual(composite.partitionOf(Book.make({ showId: "s1", seatId: "A7" })), "s1/A7")
    const Rename = Schema.TaggedStruct("Rename", { categoryId: Schema.String, name: Schema.String })
    const inferred = StateChangeSlice.make({
      name: "Rename", command: Rename, event: Rename, consumedEvent: Rename, rejection: Schema.Never,
      initialState: 0, evolve: (n: number) => n, decide: () => Result.succeed([])
    })
    assert.deepStrictEqual(inferred.partition, ["categoryId"])
    assert.throws(
      () => StateChangeSlice.make({ name: "Ambiguous", command: Book, event: Book, consumedEvent: Book, rejection: Schema.Never, initialState: 0, evolve: (n: number) => n, decide: () => Result.succeed([]) }),
      /Ambiguous: cannot infer the partition .*several \*Id fields: showId, seatId/
    )
  })

  it("reads, per tag of the command, the consumed types that carry it", () => {
    assert.deepStrictEqual(StateChangeSlice.queryFor(PlaceOrderSlice, place("o9")), [
      { types: ["OrderPlaced", "OrderClosed"], tags: ["orderId:o9"] },
      { types: ["OrderPlaced", "OrderClosed"], tags: ["customerId:c1"] },
      { types: ["OrderPlaced", "ProductSynced", "ProductWithdrawn"], tags: ["productId:p1"] },
      { types: ["OrderPlaced", "ProductSynced", "ProductWithdrawn"], tags: ["productId:p2"] }
    ])
  })

  it("places an order for available products", () =>
    spec.given(...synced).when(place("o1")).then(OrderPlaced.make({ orderId: "o1", customerId: "c1", productIds: ["p1", "p2"] })))

  it("rejects a second placement, products never synced or withdrawn", () => {
    spec.given(...synced, placed("o1")).when(place("o1")).thenRejects(new OrderAlreadyPlaced())
    spec.given(synced[0]).when(place("o1")).thenRejects(new ProductsNotAvailable({ missing: ["p2"] }))
    spec.given(...synced, ProductWithdrawn.make({ productId: "p2" })).when(place("o1")).thenRejects(new ProductsNotAvailable({ missing: ["p2"] }))
  })

  it("counts only the customer's own open orders toward the limit of three", () => {
    const three = [placed("o1"), placed("o2"), placed("o3")]
    spec.given(...synced, ...three).when(place("o4")).thenRejects(new OpenOrderLimitReached({ open: 3 }))
    spec.given(...synced, ...three, OrderClosed.make({ orderId: "o2", customerId: "c1" })).when(place("o4")).then(
      OrderPlaced.make({ orderId: "o4", customerId: "c1", productIds: ["p1", "p2"] })
    )
    // Another customer's orders come in through the product clauses, and do not count.
    spec.given(...synced, placed("x1", "c2"), placed("x2", "c2"), placed("x3", "c2")).when(place("o4")).then(
      OrderPlaced.make({ orderId: "o4", customerId: "c1", productIds: ["p1", "p2"] })
    )
  })

  it("folds consumed types, skips others, and refuses a consumed event that does not decode", () => {
    const state = StateChangeSlice.fold(PlaceOrderSlice, [{ type: "Unrelated", data: { _tag: "Unrelated", orderId: "o1" } }, { type: "ProductSynced", data: synced[0] }])
    assert.deepStrictEqual(Result.map(state, (s) => [...s.available]), Result.succeed(["p1"]))
    const broken = StateChangeSlice.fold(PlaceOrderSlice, [{ type: "ProductSynced", position: 7, data: { _tag: "ProductSynced", productId: 1 } }])
    assert.isTrue(Result.isFailure(broken))
    assert.include(Result.isFailure(broken) ? broken.failure.message : "", "PlaceOrder cannot read its ProductSynced event at position 7")
  })

  it("is defined over tagged structs only, whose fields give the tags", () => {
    class Ping extends Schema.TaggedClass<Ping>()("Ping", { pingId: Schema.String }) {}
    assert.throws(
      () => StateChangeSlice.make({ name: "P", command: Ping, event: Ping, consumedEvent: Ping, rejection: Schema.Never, initialState: 0, evolve: (n: number) => n, decide: () => Result.succeed([]) }),
      /P: its command schema must be TaggedStructs/
    )
  })
})

// The same rules running: slices of one plugin over its DCB log, on the memory platform.
const CloseOrder = Schema.TaggedStruct("CloseOrder", { orderId: Schema.String, customerId: Schema.String })
const SyncProduct = Schema.TaggedStruct("SyncProduct", { productId: Schema.String, name: Schema.String })

const CloseOrderSlice = StateChangeSlice.make({
  name: "CloseOrder",
  command: CloseOrder,
  event: OrderClosed,
  consumedEvent: Schema.Union([OrderPlaced, OrderClosed]),
  rejection: Schema.Never,
  partition: "orderId",
  initialState: false,
  evolve: (closed: boolean, event) => closed || event._tag === "OrderClosed",
  decide: (closed, command) => Result.succeed(closed ? [] : [OrderClosed.make({ orderId: command.orderId, customerId: command.customerId })])
})

const SyncProductSlice = StateChangeSlice.make({
  name: "SyncProduct",
  command: SyncProduct,
  event: ProductSynced,
  consumedEvent: ProductSynced,
  rejection: Schema.Never,
  initialState: false,
  evolve: () => true,
  decide: (known, command) => Result.succeed(known ? [] : [ProductSynced.make({ productId: command.productId, name: command.name })])
})

/** PlaceOrder with a decision that yields between read and append, so two orders can interleave. */
let decisions = 0
const RacingPlaceOrder = StateChangeSlice.make({
  ...PlaceOrderSlice,
  name: "PlaceOrder",
  partition: "orderId",
  decide: (state, command) => {
    decisions++
    const decision = PlaceOrderSlice.decide(state, command)
    return Effect.andThen(Effect.yieldNow, Result.isResult(decision) ? Effect.fromResult(decision) : decision)
  }
})

const WithdrawProduct = Schema.TaggedStruct("WithdrawProduct", { productId: Schema.String })
const WithdrawProductSlice = StateChangeSlice.make({
  name: "WithdrawProduct",
  command: WithdrawProduct,
  event: ProductWithdrawn,
  consumedEvent: ProductWithdrawn,
  rejection: Schema.Never,
  initialState: false,
  evolve: () => true,
  decide: (withdrawn, command) => Result.succeed(withdrawn ? [] : [ProductWithdrawn.make({ productId: command.productId })])
})

/** A state-view slice: open orders per customer, from the DCB log. */
const OpenOrders = StateViewSlice.make({
  name: "OpenOrders",
  row: Schema.Struct({ open: Schema.Array(Schema.String) }),
  consumedEvent: Schema.Union([OrderPlaced, OrderClosed]),
  project: ({ event }) =>
    ReadModel.updateWithDefault(event.customerId, { open: [] as ReadonlyArray<string> }, (row) => ({
      open: event._tag === "OrderPlaced" ? [...row.open, event.orderId] : row.open.filter((id) => id !== event.orderId)
    }))
})

/** The public contract fed from the DCB log (the seed's `<Plugin>DcbEventLog` delegate). */
const OrdersContract = ExtensionPoint.spec({ name: "Shop.Orders", event: Schema.TaggedStruct("OrderOpened", { orderId: Schema.String }) })
const OrdersExtensionPoint = ExtensionPoint.make({
  spec: OrdersContract,
  delegate: DcbEventLog.source(OrderPlaced),
  mapOutgoingEvent: ({ value }) => [ExtensionPoint.publishEvent(value.orderId, { _tag: "OrderOpened", orderId: value.orderId } as const)]
})

/** The supplier feed: prices in cents, USD only. */
const SupplierItem = Schema.Struct({ sku: Schema.NonEmptyString, title: Schema.String, unitPriceCents: Schema.Int, currency: Schema.String })
const ImportProduct = InboundTranslationSlice.make({
  name: "ImportProduct",
  input: SupplierItem,
  target: SyncProductSlice,
  externalSystem: "supplier-feed",
  translate: (item) =>
    item.currency !== "USD"
      ? Result.fail(`currency ${item.currency} is not accepted, only USD`)
      : item.unitPriceCents <= 0
      ? Result.fail("the price must be positive")
      : Result.succeed([{ command: SyncProduct.make({ productId: item.sku, name: item.title }) }])
})

const Shop = Plugin.make({
  name: "Shop",
  heartbeatInterval: 60,
  aggregates: [],
  stateChangeSlices: [RacingPlaceOrder, CloseOrderSlice, SyncProductSlice, WithdrawProductSlice],
  readModels: [OpenOrders],
  extensionPoints: [OrdersExtensionPoint],
  inboundTranslationSlices: [ImportProduct]
})
const shop = Runtime.layer({ plugins: [Shop], concurrency: 4 }).pipe(Layer.provideMerge(MemoryPlatform.layer))

/** Order ids whose partitions land on different command workers, so they really run at once. */
const apart = (count: number) => {
  const ids: Array<string> = []
  const shards = new Set<number>()
  for (let i = 0; ids.length < count; i++) {
    const shard = CommandTopic.hashKey({ component: "Shop.PlaceOrder", id: `r${i}` }) % 4
    if (!shards.has(shard)) {
      shards.add(shard)
      ids.push(`r${i}`)
    }
  }
  return ids
}

describe("the plugin's DCB events", () => {
  it("a produced type has one payload; every consumed type has a producer with the consumed fields", () => {
    const OtherPlaced = Schema.TaggedStruct("OrderPlaced", { orderId: Schema.String })
    const Narrow = StateChangeSlice.make({
      name: "Narrow", command: CloseOrder, event: OtherPlaced, consumedEvent: Schema.Union([OrderClosed, ProductWithdrawn]), rejection: Schema.Never,
      initialState: 0, evolve: (n: number) => n, decide: () => Result.succeed([]), partition: "orderId"
    })
    const Wide = StateViewSlice.make({
      name: "Wide",
      row: Schema.Int,
      consumedEvent: Schema.TaggedStruct("OrderClosed", { orderId: Schema.String, reason: Schema.String }),
      project: () => ReadModel.ignore
    })
    const result = Plugin.validate(Plugin.make({ name: "Bad", heartbeatInterval: 5, aggregates: [], stateChangeSlices: [PlaceOrderSlice, CloseOrderSlice, Narrow], readModels: [Wide] }))
    assert.deepStrictEqual(Result.isFailure(result) ? result.failure.problems : [], [
      "event \"OrderPlaced\" is produced by PlaceOrder and Narrow with different fields",
      "state-change slice \"PlaceOrder\" consumes \"ProductSynced\", which no state-change slice produces",
      "state-change slice \"PlaceOrder\" consumes \"ProductWithdrawn\", which no state-change slice produces",
      "state-change slice \"Narrow\" consumes \"ProductWithdrawn\", which no state-change slice produces",
      "read model \"Wide\" consumes \"OrderClosed\" fields reason that CloseOrder does not produce"
    ])
  })

  it("every writer and reader of a type agrees on each field's stored shape; checks do not count, unknown reads anything", () => {
    const Closed = (customerId: Schema.Codec<unknown, unknown>) => Schema.TaggedStruct("OrderClosed", { orderId: Schema.String, customerId })
    const closer = (name: string, event: Schema.Codec<unknown, unknown>) =>
      StateChangeSlice.make({
        name, command: CloseOrder, event, consumedEvent: OrderClosed, rejection: Schema.Never,
        initialState: 0, evolve: (n: number) => n, decide: () => Result.succeed([]), partition: "orderId"
      })
    const reader = (name: string, event: Schema.Codec<unknown, unknown>) =>
      StateViewSlice.make({ name, row: Schema.Int, consumedEvent: event, project: () => ReadModel.ignore })
    const result = Plugin.validate(Plugin.make({
      name: "Shapes",
      heartbeatInterval: 5,
      aggregates: [],
      stateChangeSlices: [closer("CloseA", OrderClosed), closer("CloseB", Closed(Schema.Int))],
      readModels: [
        reader("Strict", Closed(Schema.NonEmptyString)),
        reader("Loose", Closed(Schema.Unknown)),
        reader("Listy", Closed(Schema.Array(Schema.String))),
        reader("Maybe", Schema.TaggedStruct("OrderClosed", { orderId: Schema.String, customerId: Schema.optionalKey(Schema.String) }))
      ]
    }))
    assert.deepStrictEqual(Result.isFailure(result) ? result.failure.problems : [], [
      "event \"OrderClosed\" field customerId is string in CloseA but number in CloseB",
      "read model \"Listy\" reads \"OrderClosed\" field customerId as string[], but CloseA writes string"
    ])
    assert.strictEqual(StateChangeSlice.shapeOf(Schema.Struct({ zip: Schema.optionalKey(Schema.String), tags: Schema.Array(Schema.Literals(["a", "b"])), at: Schema.NullOr(Schema.Finite) })), "{ at: null | number; tags: (\"a\" | \"b\")[]; zip?: string }")
  })

  it("slices share the component namespace, and none may take the DCB log's name", () => {
    const named = (name: string) => InboundTranslationSlice.make({ name, input: Schema.String, target: SyncProductSlice, translate: () => Result.succeed([]) })
    const result = Plugin.validate(Plugin.make({
      name: "Names",
      heartbeatInterval: 5,
      aggregates: [],
      stateChangeSlices: [SyncProductSlice],
      inboundTranslationSlices: [named("SyncProduct"), named("DcbEventLog")]
    }))
    assert.deepStrictEqual(Result.isFailure(result) ? result.failure.problems : [], [
      "inbound translation slice \"SyncProduct\" has the same name as the state-change slice",
      "inbound translation slice may not be called \"DcbEventLog\": that is the plugin's DCB log"
    ])
  })

  it("a slice reads a consumed type by its tags, so the producer must write them", () => {
    const QuietClosed = Schema.TaggedStruct("OrderClosed", { orderId: Schema.String, customerId: StateChangeSlice.noTag(Schema.String) })
    const QuietClose = StateChangeSlice.make({ ...CloseOrderSlice, name: "CloseOrder", event: QuietClosed, partition: "orderId" })
    const result = Plugin.validate(Plugin.make({
      name: "Quiet",
      heartbeatInterval: 5,
      aggregates: [],
      stateChangeSlices: [PlaceOrderSlice, QuietClose, SyncProductSlice, WithdrawProductSlice]
    }))
    assert.deepStrictEqual(Result.isFailure(result) ? result.failure.problems : [], [
      "state-change slice \"PlaceOrder\" reads \"OrderClosed\" by customerId, which CloseOrder does not tag",
      // Its own consumed schema still reads by customerId too.
      "state-change slice \"CloseOrder\" reads \"OrderClosed\" by customerId, which CloseOrder does not tag"
    ])
  })
})

describe("StateChangeSlice on the memory platform", () => {
  it.live("two orders racing for a customer's last open slot: one is placed, the other decided again and rejected", () =>
    Effect.gen(function*() {
      const store = yield* EventStore.EventStore
      yield* Runtime.executeSlice(SyncProductSlice, SyncProduct.make({ productId: "p1", name: "Tea" }))
      yield* Runtime.executeSlice(SyncProductSlice, SyncProduct.make({ productId: "p2", name: "Pot" }))
      yield* Runtime.executeSlice(RacingPlaceOrder, place("o1"))
      yield* Runtime.executeSlice(RacingPlaceOrder, place("o2"))
      decisions = 0
      const [a, b] = apart(2)
      const results = yield* Effect.all([a!, b!].map((id) => Effect.result(Runtime.executeSlice(RacingPlaceOrder, place(id)))), { concurrency: "unbounded" })
      assert.deepStrictEqual(results.map((r) => r._tag).sort(), ["Failure", "Success"])
      const rejected = results.find(Result.isFailure)!
      assert.deepStrictEqual(rejected.failure, new OpenOrderLimitReached({ open: 3 }))
      assert.isAbove(decisions, 2, "the loser saw a conflict and decided again")
      const placedForC1 = yield* store.readTagged({ log: "Shop.DcbEventLog", query: [{ types: ["OrderPlaced"], tags: ["customerId:c1"] }], after: 0, limit: 100 })
      assert.strictEqual(placedForC1.events.length, 3)

      // Closing an order frees the slot; events carry their tags and the log's name.
      yield* Runtime.executeSlice(CloseOrderSlice, CloseOrder.make({ orderId: "o1", customerId: "c1" }))
      const [events] = yield* Effect.all([Runtime.executeSlice(RacingPlaceOrder, place("o9"))])
      assert.deepStrictEqual(events, [OrderPlaced.make({ orderId: "o9", customerId: "c1", productIds: ["p1", "p2"] })])
      const stored = (yield* store.readTagged({ log: "Shop.DcbEventLog", query: [{ tags: ["orderId:o9"] }], after: 0, limit: 10 })).events
      // The view and the extension point read the same log, in its order.
      const runtime = yield* Runtime.Runtime
      yield* runtime.awaitIdle
      const open = yield* runtime.query("OpenOrders", "c1")
      assert.deepStrictEqual(open, Option.some({ open: ["o2", results.find(Result.isSuccess) === results[0] ? a! : b!, "o9"] }))
      assert.deepStrictEqual(yield* runtime.deadLetters.list(), [])
      assert.deepStrictEqual((yield* store.readStream("Shop.Orders", "o9")).map((event) => event.data), [{ _tag: "OrderOpened", orderId: "o9" }])
      assert.deepStrictEqual(stored.map((event) => [event.source, event.type, event.tags]), [["Shop.DcbEventLog", "OrderPlaced", ["orderId:o9", "customerId:c1", "productId:p1", "productId:p2"]]])
    }).pipe(Effect.provide(shop)))

  it.live("conflicts are retried on the runtime's conflictSchedule: with none, the loser of the race fails and is parked", () =>
    Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      yield* Runtime.executeSlice(SyncProductSlice, SyncProduct.make({ productId: "p1", name: "Tea" }))
      yield* Runtime.executeSlice(SyncProductSlice, SyncProduct.make({ productId: "p2", name: "Pot" }))
      const [a, b] = apart(2)
      const results = yield* Effect.all([a!, b!].map((id) => Effect.result(Runtime.executeSlice(RacingPlaceOrder, place(id)))), { concurrency: "unbounded" })
      assert.deepStrictEqual(results.map((r) => r._tag).sort(), ["Failure", "Success"])
      const failed = results.find(Result.isFailure)!.failure
      assert.strictEqual(failed._tag, "CommandFailed")
      assert.include((failed as { reason: string }).reason, "an event matching the condition was appended")
      const letters = yield* runtime.deadLetters.list()
      assert.deepStrictEqual(letters.map((letter) => letter._tag), ["Command"])
    }).pipe(Effect.provide(Runtime.layer({ plugins: [Shop], concurrency: 4, conflictSchedule: Schedule.recurs(0) }).pipe(Layer.provideMerge(MemoryPlatform.layer)))))

  it.effect("a field marked as a tag is written on the events and read by the query", () => {
    const SkuReserved = Schema.TaggedStruct("SkuReserved", { sku: StateChangeSlice.tag(Schema.String), holder: Schema.String })
    const Reserve = Schema.TaggedStruct("Reserve", { sku: StateChangeSlice.tag(Schema.String), holder: Schema.String })
    class SkuTaken extends Schema.TaggedError<SkuTaken>()("SkuTaken", { by: Schema.String }) {}
    const ReserveSlice = StateChangeSlice.make({
      name: "Reserve",
      command: Reserve,
      event: SkuReserved,
      consumedEvent: SkuReserved,
      rejection: SkuTaken,
      partition: "sku",
      initialState: Option.none<string>(),
      evolve: (_state, event) => Option.some(event.holder),
      decide: (holder, command) => Option.isSome(holder) ? Result.fail(new SkuTaken({ by: holder.value })) : Result.succeed([SkuReserved.make({ sku: command.sku, holder: command.holder })])
    })
    assert.deepStrictEqual(StateChangeSlice.queryFor(ReserveSlice, Reserve.make({ sku: "TEA", holder: "h1" })), [{ types: ["SkuReserved"], tags: ["sku:TEA"] }])
    const Stock = Plugin.make({ name: "Stock", heartbeatInterval: 5, aggregates: [], stateChangeSlices: [ReserveSlice] })
    return Effect.gen(function*() {
      const dcb = yield* DcbEventStore.DcbEventStore
      yield* Runtime.executeSlice(ReserveSlice, Reserve.make({ sku: "TEA", holder: "h1" }))
      const taken = yield* Effect.flip(Runtime.executeSlice(ReserveSlice, Reserve.make({ sku: "TEA", holder: "h2" })))
      assert.deepStrictEqual(taken, new SkuTaken({ by: "h1" }))
      const stored = yield* Stream.runCollect(dcb.read([{ tags: ["sku:TEA"] }]))
      assert.deepStrictEqual(stored.map((event) => event.tags), [["sku:TEA"]])
    }).pipe(
      Effect.provide(DcbEventStore.fromEventStore(Plugin.dcbLog(Stock)).pipe(
        Layer.provideMerge(Runtime.layer({ plugins: [Stock] })),
        Layer.provideMerge(MemoryPlatform.layer)
      ))
    )
  })

  it.effect("a slice command is routed by its partition key, processed once per msgId, and bad input is refused", () =>
    Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      const first = yield* runtime.execute({ component: "SyncProduct", id: "", command: { _tag: "SyncProduct", productId: "p7", name: "Mug" }, meta: { msgId: "m1" } })
      const again = yield* runtime.execute({ component: "Shop.SyncProduct", id: "p7", command: { _tag: "SyncProduct", productId: "p7", name: "Mug" }, meta: { msgId: "m1" } })
      assert.deepStrictEqual(again, first)
      assert.strictEqual(first.id, "p7")
      const wrongId = yield* Effect.flip(runtime.execute({ component: "SyncProduct", id: "p8", command: { _tag: "SyncProduct", productId: "p7", name: "Mug" } }))
      assert.deepStrictEqual([wrongId._tag, wrongId._tag === "InvalidCommand" ? wrongId.path : ""], ["InvalidCommand", "id"])
      const invalid = yield* Effect.flip(runtime.execute({ component: "SyncProduct", id: "", command: { _tag: "SyncProduct", productId: 7 } }))
      assert.strictEqual(invalid._tag, "InvalidCommand")
      const store = yield* EventStore.EventStore
      assert.strictEqual((yield* store.readTagged({ log: "Shop.DcbEventLog", query: DcbEventStore.all, after: 0, limit: 10 })).events.length, 1)
    }).pipe(Effect.provide(shop)))
})

describe("an inbound translation slice", () => {
  it.effect("translates outside input into commands once per request, records each request, refuses with a reason", () =>
    Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      const store = yield* EventStore.EventStore
      const item = { sku: "sku-1", title: "Tea", unitPriceCents: 450, currency: "USD" }
      const receipt = yield* runtime.receive("ImportProduct", item, { requestId: "feed-1" })
      assert.deepStrictEqual(receipt, { requestId: "feed-1", targetIds: ["sku-1"], commandCount: 1 })
      yield* runtime.receive("Shop.ImportProduct", item, { requestId: "feed-1" })
      yield* runtime.awaitIdle
      const synced = yield* store.readTagged({ log: "Shop.DcbEventLog", query: [{ tags: ["productId:sku-1"] }], after: 0, limit: 10 })
      assert.deepStrictEqual(synced.events.map((event) => event.data), [{ _tag: "ProductSynced", productId: "sku-1", name: "Tea" }])
      const audit = (yield* store.readStream("Shop.ImportProduct", "feed-1")).map((event) => event.data as { _tag: string; targetIds: unknown; commands: ReadonlyArray<{ component: string }> })
      assert.deepStrictEqual(audit.map((event) => [event._tag, event.targetIds, event.commands.map((command) => command.component)]), [["Translated", ["sku-1"], ["Shop.SyncProduct"]]])

      const refused = yield* Effect.flip(runtime.receive("ImportProduct", { ...item, currency: "EUR" }, { requestId: "feed-2" }))
      assert.deepStrictEqual([refused._tag, refused._tag === "TranslationRefused" ? refused.reason : ""], ["TranslationRefused", "currency EUR is not accepted, only USD"])
      assert.deepStrictEqual((yield* store.readStream("Shop.ImportProduct", "feed-2")).map((event) => event.data), [
        { _tag: "Refused", reason: "currency EUR is not accepted, only USD" }
      ])
      // The recorded answer stands for the request id, whatever comes with it later.
      const again = yield* Effect.flip(runtime.receive("ImportProduct", item, { requestId: "feed-2" }))
      assert.deepStrictEqual([again._tag, again._tag === "TranslationRefused" ? again.reason : ""], ["TranslationRefused", "currency EUR is not accepted, only USD"])
      assert.lengthOf(yield* store.readStream("Shop.ImportProduct", "feed-2"), 1)

      const invalid = yield* Effect.flip(runtime.receive("ImportProduct", { sku: "x", title: "X", currency: "USD" }, { requestId: "feed-3" }))
      assert.deepStrictEqual([invalid._tag, invalid._tag === "InvalidCommand" ? invalid.path : ""], ["InvalidCommand", "[\"unitPriceCents\"]"])
      assert.deepStrictEqual(yield* store.readStream("Shop.ImportProduct", "feed-3"), [])
    }).pipe(Effect.provide(shop)))
})

describe("an async slice", () => {
  const Append = Schema.TaggedStruct("Append", { listId: Schema.String, item: Schema.Int })
  const Appended = Schema.TaggedStruct("Appended", { listId: Schema.String, item: Schema.Int })
  const AppendSlice = StateChangeSlice.make({
    name: "Append",
    command: Append,
    event: Appended,
    consumedEvent: Appended,
    rejection: Schema.Never,
    initialState: 0,
    evolve: (count: number) => count + 1,
    decide: (_count, command) => Result.succeed([Appended.make({ listId: command.listId, item: command.item })]),
    mode: "async"
  })
  const Lists = Plugin.make({ name: "Lists", heartbeatInterval: 60, aggregates: [], stateChangeSlices: [AppendSlice] })

  it.effect("takes its commands one partition at a time, in the order they were sent", () =>
    Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      const store = yield* EventStore.EventStore
      const items = Array.from({ length: 30 }, (_, i) => i)
      for (const item of items) {
        yield* runtime.send({ component: "Append", id: "", command: { _tag: "Append", listId: item % 2 === 0 ? "even" : "odd", item } })
      }
      yield* runtime.awaitIdle
      const read = (listId: string) =>
        Effect.map(store.readTagged({ log: "Lists.DcbEventLog", query: [{ tags: [`listId:${listId}`] }], after: 0, limit: 100 }), (page) =>
          page.events.map((event) => (event.data as { readonly item: number }).item))
      assert.deepStrictEqual(yield* read("even"), items.filter((item) => item % 2 === 0))
      assert.deepStrictEqual(yield* read("odd"), items.filter((item) => item % 2 === 1))
    }).pipe(Effect.provide(Runtime.layer({ plugins: [Lists], concurrency: 2 }).pipe(Layer.provideMerge(MemoryPlatform.layer)))))
})

// One partition, two queries: commands of one order reserve different products, so each reads its
// own query (its order and its product), yet they stay in the order they were sent.
const Reserve = Schema.TaggedStruct("Reserve", { orderId: Schema.String, productId: Schema.String })
const Reserved = Schema.TaggedStruct("Reserved", { orderId: Schema.String, productId: Schema.String })
const firstDecision = { started: Deferred.makeUnsafe<void>(), go: Deferred.makeUnsafe<void>(), waited: false }
const ReserveSlice = StateChangeSlice.make({
  name: "Reserve",
  command: Reserve,
  event: Reserved,
  consumedEvent: Reserved,
  rejection: Schema.Never,
  partition: "orderId",
  initialState: 0,
  evolve: (count: number) => count + 1,
  decide: (_count, command) => {
    const events = [Reserved.make({ orderId: command.orderId, productId: command.productId })]
    if (command.productId !== "p1" || firstDecision.waited) return Result.succeed(events)
    // The first decision waits while another writer reserves p1: its commit conflicts.
    firstDecision.waited = true
    return Effect.andThen(Deferred.succeed(firstDecision.started, undefined), Effect.as(Deferred.await(firstDecision.go), events))
  }
})
const Reservations = Plugin.make({ name: "Res", heartbeatInterval: 60, aggregates: [], stateChangeSlices: [ReserveSlice] })

describe("StateChangeSlice batches", () => {
  it.live("two commands of one partition that read different queries are stored in the order sent, even when the first conflicts", () =>
    Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      const store = yield* EventStore.EventStore
      // Sent back to back without waiting: the worker takes both in one batch.
      yield* runtime.send({ component: "Reserve", id: "", command: Reserve.make({ orderId: "o1", productId: "p1" }) })
      yield* runtime.send({ component: "Reserve", id: "", command: Reserve.make({ orderId: "o1", productId: "p2" }) })
      yield* Deferred.await(firstDecision.started)
      const log = Plugin.dcbLog(Reservations)
      const [behind] = yield* store.commit([{
        msgId: "elsewhere",
        component: "Res.Reserve",
        id: "o2",
        boundary: { _tag: "Query", log },
        decided: { _tag: "Events", events: [{ type: "Reserved", schemaVersion: 1, data: { _tag: "Reserved", orderId: "o2", productId: "p1" }, tags: ["orderId:o2", "productId:p1"] }] },
        meta: Message.makeMeta({ msgId: "elsewhere" }, new Date(0).toISOString())
      }])
      assert.strictEqual(behind!._tag, "Committed")
      yield* Deferred.succeed(firstDecision.go, undefined)
      yield* runtime.awaitIdle
      const o1 = yield* store.readTagged({ log, query: [{ tags: ["orderId:o1"] }], after: 0, limit: 10 })
      assert.deepStrictEqual(o1.events.map((event) => (event.data as { productId: string }).productId), ["p1", "p2"], "the second command was stored before the first")
    }).pipe(Effect.provide(Runtime.layer({ plugins: [Reservations], concurrency: 1 }).pipe(Layer.provideMerge(MemoryPlatform.layer)))))
})
