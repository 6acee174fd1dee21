/**
 * State-change slices as pure descriptors: tags from entity fields, the partition key, the query
 * a command's decision reads, and the decision itself over the log a PlaceOrder slice would see
 * (the hybrid shop's open-order limit, which spans the order, the customer and every product).
 */
import { assert, describe, it } from "@effect/vitest"
import { StateChangeSlice } from "@reventless/core"
import { SliceSpec } from "@reventless/testing"
import { Result, Schema } from "effect"

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
  it("tags every entity field, one per element of an *Ids array, unless opted out", () => {
    assert.deepStrictEqual(StateChangeSlice.tagsOf({ _tag: "X", orderId: "o1", productIds: ["p1", "p2", "p1"], qty: 2 }), ["orderId:o1", "productId:p1", "productId:p2"])
    assert.deepStrictEqual(StateChangeSlice.tagsOf({ orderId: "o1", customerId: "c1" }, ["customerId"]), ["orderId:o1"])
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

  it("folds only what decodes as a consumed event", () => {
    const state = StateChangeSlice.fold(PlaceOrderSlice, [{ data: { _tag: "Unrelated", orderId: "o1" } }, { data: synced[0] }])
    assert.deepStrictEqual([...state.available], ["p1"])
  })
})
