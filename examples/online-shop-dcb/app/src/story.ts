/**
 * The hybrid shop's story: categories and a supplier feed fill the Catalog, products reach
 * Ordering's shadow through Catalog.Products, customers (an aggregate) register, orders are placed
 * as DCB slices — two of them racing for a customer's last open-order slot — Express orders ship
 * themselves, a withdrawn product can no longer be ordered, and demand flows back to Catalog
 * through Ordering.Orders. Returns what happened so the demo can print it and a test can check it.
 */
import {
  AddCategory,
  AddCategorySlice,
  ChangeProductPrice,
  ChangeProductPriceSlice,
  WithdrawProduct,
  WithdrawProductSlice
} from "@online-shop-dcb/catalog"
import { CancelOrder, CancelOrderSlice, PlaceOrder, PlaceOrderSlice, ShipOrder, ShipOrderSlice } from "@online-shop-dcb/ordering"
import { CustomerAggregate } from "@online-shop/ordering"
import { Runtime } from "@reventless/core"
import { Shop } from "@online-shop/app"
import { Effect, Result } from "effect"

export const supplierFeed = [
  { sku: "tea-01", title: "Green Tea", description: "Sencha, 100 g", categoryId: "drinks", unitPriceCents: 450, currency: "USD" },
  { sku: "tea-02", title: "Black Tea", description: "Assam, 250 g", categoryId: "drinks", unitPriceCents: 690, currency: "USD" },
  { sku: "pot-01", title: "Tea Pot", categoryId: "kitchen", unitPriceCents: 3900, currency: "USD" },
  { sku: "mug-01", title: "Mug", categoryId: "kitchen", unitPriceCents: 1200, currency: "EUR" }
]

const address = { street: "1 Leaf Lane", city: "Teatown", postalCode: "12345", country: "NL" }

type Method = "Standard" | "Express"
const place = (orderId: string, customerId: string, productIds: readonly [string, ...Array<string>], shippingMethod: Method = "Standard") =>
  Runtime.executeSlice(PlaceOrderSlice, PlaceOrder.make({ orderId, customerId, productIds, shippingMethod }))

/** The story's commands, checked and printed; a rejection is a result, not a failure. */
export const story = Effect.gen(function*() {
  const runtime = yield* Runtime.Runtime
  const notes: Array<string> = []
  const note = (line: string) => Effect.sync(() => void notes.push(line))
  const rejection = <A, E extends { readonly _tag: string }, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.map(Effect.result(effect), (result) => Result.isSuccess(result) ? "accepted" : result.failure._tag)

  yield* Runtime.executeSlice(AddCategorySlice, AddCategory.make({ categoryId: "drinks", name: "Drinks" }))
  yield* Runtime.executeSlice(AddCategorySlice, AddCategory.make({ categoryId: "kitchen", name: "Kitchen" }))
  for (const [index, item] of supplierFeed.entries()) {
    const receipt = yield* rejection(runtime.receive("ImportProduct", item, { requestId: `feed-${index + 1}` }))
    if (receipt !== "accepted") yield* note(`supplier item ${item.sku} (${item.currency}): ${receipt}`)
  }
  yield* Runtime.settle
  yield* Runtime.executeSlice(ChangeProductPriceSlice, ChangeProductPrice.make({ productId: "tea-01", price: 4.9 }))
  yield* Runtime.execute(CustomerAggregate, "alice", { _tag: "Register", name: "Alice", email: "alice@example.com", address })
  yield* Runtime.execute(CustomerAggregate, "bob", { _tag: "Register", name: "Bob", email: "bob@example.com" })
  yield* Runtime.settle

  yield* place("order-1", "alice", ["tea-01", "pot-01"], "Express")
  yield* place("order-2", "bob", ["tea-02"])
  yield* Runtime.settle
  yield* place("order-3", "alice", ["tea-02"])
  yield* place("order-4", "alice", ["tea-01"])
  const race = yield* Effect.all([rejection(place("order-5", "alice", ["pot-01"])), rejection(place("order-6", "alice", ["tea-01"]))], { concurrency: "unbounded" })
  yield* note(`order-5 and order-6 race for alice's last open-order slot: ${race.filter((r) => r === "accepted").length} accepted, ${race.filter((r) => r !== "accepted").join(", ")}`)

  yield* Runtime.executeSlice(WithdrawProductSlice, WithdrawProduct.make({ productId: "pot-01" }))
  yield* Runtime.settle
  yield* note(`bob orders the withdrawn pot-01: ${yield* rejection(place("order-7", "bob", ["pot-01", "tea-01"]))}`)
  yield* note(`carol, never registered, orders: ${yield* rejection(place("order-8", "carol", ["tea-01"]))}`)

  yield* Runtime.executeSlice(CancelOrderSlice, CancelOrder.make({ orderId: "order-2" }))
  yield* Runtime.executeSlice(ShipOrderSlice, ShipOrder.make({ orderId: "order-3" }))
  yield* note(`cancel order-1, which shipped itself (Express): ${yield* rejection(Runtime.executeSlice(CancelOrderSlice, CancelOrder.make({ orderId: "order-1" })))}`)
  yield* Runtime.settle

  return yield* Shop.report(notes, ["Categories", "Products", "ProductDemand", "Customers", "AvailableProducts", "Orders"])
})
