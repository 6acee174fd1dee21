/**
 * The hybrid Ordering's rules as slice specs: PlaceOrder's decision over the order, the customer's
 * open orders and the products, the order lifecycle, and the catalog shadow's idempotence.
 */
import { assert, describe, it } from "@effect/vitest"
import { Plugin } from "@reventless/core"
import { DeciderSpec, SliceSpec } from "@reventless/testing"
import { Result } from "effect"
import {
  CancelOrder,
  CancelOrderSlice,
  ChangeSyncedPrice,
  CustomerNotActive,
  Events,
  OpenOrderLimitReached,
  OrderAlreadyCancelled,
  OrderAlreadyPlaced,
  OrderAlreadyShipped,
  Ordering,
  OrderNotFound,
  PlaceOrder,
  PlaceOrderSlice,
  ProductsNotAvailable,
  ShipOrder,
  ShipOrderSlice,
  SyncCatalogProductSlice,
  SyncNewProduct,
  WithdrawSyncedProduct
} from "../src/index.ts"

const customers = DeciderSpec.fixedQueries({
  Customers: { alice: { name: "Alice", email: "alice@example.com", address: null, active: true }, carol: { name: "Carol", email: "c@example.com", address: null, active: false } }
})
const placeOrder = SliceSpec.make(PlaceOrderSlice, customers)

const tea = Events.ProductSynced.make({ productId: "tea", name: "Tea", price: 4 })
const pot = Events.ProductSynced.make({ productId: "pot", name: "Pot", price: 39 })
const placed = (orderId: string, customerId = "alice", productIds: ReadonlyArray<string> = ["tea"]) =>
  Events.OrderPlaced.make({ orderId, customerId, productIds, shippingMethod: "Standard" })
const place = (orderId: string, customerId = "alice", productIds: readonly [string, ...Array<string>] = ["tea"]) =>
  PlaceOrder.make({ orderId, customerId, productIds, shippingMethod: "Standard" })

describe("hybrid Ordering: PlaceOrder", () => {
  it("places an order of available products for an active customer", () => {
    placeOrder.given(tea, pot).when(place("o1", "alice", ["tea", "pot"])).then(placed("o1", "alice", ["tea", "pot"]))
  })

  it("an order id is placed once", () => placeOrder.given(tea, placed("o1")).when(place("o1")).thenRejects(new OrderAlreadyPlaced({ orderId: "o1" })))

  it("unknown and deactivated customers cannot order (read from the Customers view)", () => {
    placeOrder.given(tea).when(place("o1", "dave")).thenRejects(new CustomerNotActive({ customerId: "dave" }))
    placeOrder.given(tea).when(place("o1", "carol")).thenRejects(new CustomerNotActive({ customerId: "carol" }))
  })

  it("products never synced or withdrawn are missing", () => {
    placeOrder.given(tea, pot, Events.SyncedProductWithdrawn.make({ productId: "pot" })).when(place("o1", "alice", ["tea", "pot", "cup"]))
      .thenRejects(new ProductsNotAvailable({ missing: ["pot", "cup"] }))
  })

  it("a customer has at most 3 open orders; shipped and cancelled ones do not count, nor do other customers'", () => {
    const three = [placed("o1"), placed("o2"), placed("o3")]
    placeOrder.given(tea, ...three).when(place("o4")).thenRejects(new OpenOrderLimitReached({ customerId: "alice", open: 3 }))
    placeOrder.given(tea, ...three, Events.OrderShipped.make({ orderId: "o1", customerId: "alice" })).when(place("o4")).then(placed("o4"))
    placeOrder.given(tea, ...three, Events.OrderCancelled.make({ orderId: "o2", customerId: "alice", productIds: ["tea"] })).when(place("o4")).then(placed("o4"))
    // Bob's orders share the product tag, so the query brings them in; they are not Alice's.
    placeOrder.given(tea, placed("b1", "bob"), placed("b2", "bob"), placed("b3", "bob"), placed("o1")).when(place("o2")).then(placed("o2"))
  })

  it("what the decision reads is the order, the customer and each product, nothing else", () => {
    const read = SliceSpec.visible(PlaceOrderSlice, [tea, pot, placed("x", "bob", ["pot"]), placed("y", "alice", ["pot"])], place("o1", "alice", ["tea"]))
    assert.deepStrictEqual(read, [tea, placed("y", "alice", ["pot"])])
  })
})

describe("hybrid Ordering: the order lifecycle", () => {
  it("cancel: needs the order, refuses a shipped one, is idempotent", () => {
    const cancel = SliceSpec.make(CancelOrderSlice)
    cancel.given(placed("o1")).when(CancelOrder.make({ orderId: "o1" })).then(Events.OrderCancelled.make({ orderId: "o1", customerId: "alice", productIds: ["tea"] }))
    cancel.given().when(CancelOrder.make({ orderId: "o1" })).thenRejects(new OrderNotFound({ orderId: "o1" }))
    cancel.given(placed("o1"), Events.OrderShipped.make({ orderId: "o1", customerId: "alice" })).when(CancelOrder.make({ orderId: "o1" }))
      .thenRejects(new OrderAlreadyShipped({ orderId: "o1" }))
    cancel.given(placed("o1"), Events.OrderCancelled.make({ orderId: "o1", customerId: "alice", productIds: ["tea"] })).when(CancelOrder.make({ orderId: "o1" })).then()
  })

  it("ship: needs the order, refuses a cancelled one, is idempotent", () => {
    const ship = SliceSpec.make(ShipOrderSlice)
    ship.given(placed("o1")).when(ShipOrder.make({ orderId: "o1" })).then(Events.OrderShipped.make({ orderId: "o1", customerId: "alice" }))
    ship.given().when(ShipOrder.make({ orderId: "o1" })).thenRejects(new OrderNotFound({ orderId: "o1" }))
    ship.given(placed("o1"), Events.OrderCancelled.make({ orderId: "o1", customerId: "alice", productIds: ["tea"] })).when(ShipOrder.make({ orderId: "o1" }))
      .thenRejects(new OrderAlreadyCancelled({ orderId: "o1" }))
    ship.given(placed("o1"), Events.OrderShipped.make({ orderId: "o1", customerId: "alice" })).when(ShipOrder.make({ orderId: "o1" })).then()
  })
})

describe("hybrid Ordering: the catalog shadow", () => {
  it("takes what Catalog says; repeats and late changes emit nothing", () => {
    const sync = SliceSpec.make(SyncCatalogProductSlice)
    sync.given().when(SyncNewProduct.make({ productId: "tea", name: "Tea", price: 4 })).then(tea)
    sync.given(tea).when(SyncNewProduct.make({ productId: "tea", name: "Tea", price: 4 })).then()
    sync.given(tea).when(ChangeSyncedPrice.make({ productId: "tea", price: 5 })).then(Events.SyncedPriceChanged.make({ productId: "tea", price: 5 }))
    sync.given().when(ChangeSyncedPrice.make({ productId: "tea", price: 5 })).then()
    sync.given(tea).when(WithdrawSyncedProduct.make({ productId: "tea" })).then(Events.SyncedProductWithdrawn.make({ productId: "tea" }))
    sync.given(tea, Events.SyncedProductWithdrawn.make({ productId: "tea" })).when(WithdrawSyncedProduct.make({ productId: "tea" })).then()
    // A product withdrawn before it was ever synced stays out for good.
    sync.given(Events.SyncedProductWithdrawn.make({ productId: "tea" })).when(SyncNewProduct.make({ productId: "tea", name: "Tea", price: 4 })).then()
  })

  it("the plugin's DCB events are consistent", () => {
    const validated = Plugin.validate(Ordering)
    assert.isTrue(Result.isSuccess(validated), Result.isFailure(validated) ? validated.failure.message : "")
  })
})
