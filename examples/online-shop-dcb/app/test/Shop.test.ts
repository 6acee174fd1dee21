/**
 * The hybrid shop end to end on the memory platform: its story (two orders racing for a
 * customer's last open-order slot, a withdrawn product, Express orders shipping themselves), the
 * same story under duplicate delivery, and a property over random concurrent orders, cancels,
 * shipments and withdrawals: the open-order limit holds at every point of the log, no order holds
 * a product that was unavailable when it was placed, every Express order ends shipped or
 * cancelled, each order gets one email, and the Orders view is the fold of the log.
 */
import { assert, describe, it } from "@effect/vitest"
import { AddCategory, AddCategorySlice, AddProduct, AddProductSlice, WithdrawProduct, WithdrawProductSlice } from "@online-shop-dcb/catalog"
import { CancelOrder, CancelOrderSlice, Events, openOrderLimit, Ordering, PlaceOrder, PlaceOrderSlice, ShipOrder, ShipOrderSlice } from "@online-shop-dcb/ordering"
import { CustomerAggregate, EmailService } from "@online-shop/ordering"
import { DcbEventStore, MemoryPlatform, Plugin, Runtime, StateChangeSlice } from "@reventless/core"
import { Faults } from "@reventless/testing"
import { Effect, Layer, Result, Schema, Stream } from "effect"
import { Shop, story } from "../src/index.ts"

/** The shop, and a DCB view of Ordering's log to check it against. */
const shop = (faults?: Partial<Faults.FaultSwitches>) =>
  DcbEventStore.fromEventStore(Plugin.dcbLog(Ordering)).pipe(
    Layer.provideMerge(Shop.layer({ platform: faults === undefined ? MemoryPlatform.layer : Faults.inject(faults)(MemoryPlatform.layer) }))
  )

type Story = Effect.Success<typeof story>
const rowsOf = (result: Story, name: string) => Object.fromEntries(result.tables.find((table) => table.name === name)!.rows.map(({ id, row }) => [id, row]))

const checkStory = (result: Story) => {
  assert.deepStrictEqual(result.notes, [
    "supplier item mug-01 (EUR): TranslationRefused",
    "order-5 and order-6 race for alice's last open-order slot: 1 accepted, OpenOrderLimitReached",
    "bob orders the withdrawn pot-01: ProductsNotAvailable",
    "carol, never registered, orders: CustomerNotActive",
    "cancel order-1, which shipped itself (Express): OrderAlreadyShipped"
  ])
  const orders = rowsOf(result, "Orders") as Record<string, { status: string; customerId: string }>
  const statuses = Object.fromEntries(Object.entries(orders).map(([id, row]) => [id, row.status]))
  // Exactly one of the racing orders made it; the other left no trace.
  const winner = "order-5" in statuses ? "order-5" : "order-6"
  assert.deepStrictEqual(statuses, { "order-1": "Shipped", "order-2": "Cancelled", "order-3": "Shipped", "order-4": "Placed", [winner]: "Placed" })
  assert.strictEqual(Object.values(orders).filter((row) => row.customerId === "alice" && row.status === "Placed").length, 2)
  assert.deepStrictEqual(Object.keys(rowsOf(result, "AvailableProducts")).sort(), ["tea-01", "tea-02"])
  const demand = Object.fromEntries(Object.entries(rowsOf(result, "ProductDemand")).map(([id, row]) => [id, (row as { orders: number }).orders]))
  assert.deepStrictEqual(demand, winner === "order-5" ? { "pot-01": 2, "tea-01": 2, "tea-02": 1 } : { "pot-01": 1, "tea-01": 3, "tea-02": 1 })
  assert.deepStrictEqual(result.emails.map((email) => [email.orderId, email.to]), [
    ["order-1", "alice@example.com"],
    ["order-2", "bob@example.com"],
    ["order-3", "alice@example.com"],
    ["order-4", "alice@example.com"],
    [winner, "alice@example.com"]
  ])
  assert.deepStrictEqual(result.deadLetters, [])
}

describe("the hybrid online shop", () => {
  it.effect("the story: the open-order limit under a race, withdrawals, Express orders ship themselves, demand flows back", () =>
    Effect.map(story, checkStory).pipe(Effect.provide(shop())))

  it.effect("the same story with every command and event delivered twice", () =>
    Effect.map(story, checkStory).pipe(Effect.provide(shop({ duplicateCommands: true, duplicateEvents: true }))))
})

const customers = ["c1", "c2"] as const
const products = ["p1", "p2", "p3"] as const
const orderIds = ["o0", "o1", "o2", "o3", "o4", "o5", "o6", "o7", "o8", "o9"] as const

/** An order; its id comes from its position in the generated list. */
const Place = Schema.Struct({
  customer: Schema.Literals(customers),
  products: Schema.NonEmptyArray(Schema.Literals(products)),
  express: Schema.Boolean
})
const Other = Schema.Union([
  Schema.Struct({ kind: Schema.Literal("cancel"), order: Schema.Literals(orderIds) }),
  Schema.Struct({ kind: Schema.Literal("ship"), order: Schema.Literals(orderIds) }),
  Schema.Struct({ kind: Schema.Literal("withdraw"), product: Schema.Literals(products) })
])
type Step = typeof Other.Type | (typeof Place.Type & { readonly kind: "place"; readonly order: string })

const OrderingEvent = Schema.Union([Events.OrderPlaced, Events.OrderShipped, Events.OrderCancelled, Events.ProductSynced, Events.SyncedProductWithdrawn])

/** Sends without waiting: the steps race each other on the runtime's workers. */
const fire = (runtime: Runtime.Runtime["Service"], step: Step) => {
  const slice = (target: StateChangeSlice.Any, command: unknown) =>
    runtime.send({ component: target.name, id: target.partitionOf(command)!, command: Result.getOrThrow(StateChangeSlice.codecs(target).encodeCommand(command)) })
  switch (step.kind) {
    case "place":
      return slice(PlaceOrderSlice as StateChangeSlice.Any, PlaceOrder.make({ orderId: step.order, customerId: step.customer, productIds: step.products, shippingMethod: step.express ? "Express" : "Standard" }))
    case "cancel":
      return slice(CancelOrderSlice as StateChangeSlice.Any, CancelOrder.make({ orderId: step.order }))
    case "ship":
      return slice(ShipOrderSlice as StateChangeSlice.Any, ShipOrder.make({ orderId: step.order }))
    case "withdraw":
      return slice(WithdrawProductSlice as StateChangeSlice.Any, WithdrawProduct.make({ productId: step.product }))
  }
}

describe("the hybrid online shop under random concurrent traffic", () => {
  it.effect.prop(
    "the open-order limit holds at every point of the log, orders only hold available products, Express orders ship, one email per order, Orders = fold of the log",
    // At least 8 orders (o0, o1, ... by position; a few placed twice) over 2 customers, so one of
    // them pushes against the limit; everything is sent at once.
    [Schema.Array(Place).check(Schema.isMinLength(8), Schema.isMaxLength(10)), Schema.Array(Other).check(Schema.isMaxLength(6)), Schema.Array(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 9 }))).check(Schema.isMaxLength(2))],
    ([generated, others, repeats]) =>
      Effect.gen(function*() {
        const runtime = yield* Runtime.Runtime
        const dcb = yield* DcbEventStore.DcbEventStore
        yield* Runtime.executeSlice(AddCategorySlice, AddCategory.make({ categoryId: "all", name: "All" }))
        for (const productId of products) yield* Runtime.executeSlice(AddProductSlice, AddProduct.make({ productId, categoryId: "all", name: productId, price: 1 }))
        for (const id of customers) yield* Runtime.execute(CustomerAggregate, id, { _tag: "Register", name: id, email: `${id}@example.com` })
        yield* Runtime.settle
        const places = generated.map((place, index): Step => ({ ...place, kind: "place", order: orderIds[index]! }))
        const again = repeats.flatMap((index) => places[index] === undefined ? [] : [places[index]!])
        yield* Effect.forEach([...places, ...again, ...others], (step) => fire(runtime, step), { concurrency: "unbounded", discard: true })
        yield* Runtime.settle

        const log = yield* Stream.runCollect(dcb.read([{ types: ["OrderPlaced", "OrderShipped", "OrderCancelled", "ProductSynced", "SyncedProductWithdrawn"] }]))
        const available = new Set<string>()
        const orders = new Map<string, { customerId: string; productIds: ReadonlyArray<string>; shippingMethod: string; status: string }>()
        const open = (customerId: string) => [...orders.values()].filter((order) => order.customerId === customerId && order.status === "Placed").length
        for (const { data } of log) {
          const event = Schema.decodeUnknownSync(OrderingEvent)(data)
          switch (event._tag) {
            case "ProductSynced":
              available.add(event.productId)
              break
            case "SyncedProductWithdrawn":
              available.delete(event.productId)
              break
            case "OrderPlaced":
              assert.isFalse(orders.has(event.orderId), `${event.orderId} placed twice`)
              for (const productId of event.productIds) assert.isTrue(available.has(productId), `${event.orderId} holds ${productId}, unavailable when placed`)
              orders.set(event.orderId, { customerId: event.customerId, productIds: event.productIds, shippingMethod: event.shippingMethod, status: "Placed" })
              assert.isAtMost(open(event.customerId), openOrderLimit, `${event.customerId} has more than ${openOrderLimit} open orders`)
              break
            case "OrderShipped":
            case "OrderCancelled":
              assert.strictEqual(orders.get(event.orderId)?.status, "Placed", `${event._tag} of an order that is not open`)
              orders.get(event.orderId)!.status = event._tag === "OrderShipped" ? "Shipped" : "Cancelled"
          }
        }
        for (const [id, order] of orders) if (order.shippingMethod === "Express") assert.notStrictEqual(order.status, "Placed", `Express ${id} did not ship`)
        const view = yield* runtime.list("Orders", { limit: 100 })
        assert.deepStrictEqual(new Map(view.items.map(({ id, row }) => [id, row])), orders)
        const sent = yield* Effect.flatMap(EmailService.EmailService, (email) => email.sent)
        assert.deepStrictEqual(sent.map((email) => email.orderId).sort(), [...orders.keys()].sort())
        assert.deepStrictEqual(yield* runtime.deadLetters.list(), [])
      }).pipe(Effect.provide(shop())),
    { arbitrary: { runs: 20 } }
  )
})
