/**
 * The online shop story, end to end: a catalog is imported, customers register, products reach
 * Ordering through Catalog.Products, orders are placed, shipped or cancelled, and demand flows
 * back to Catalog through Ordering.Orders. Returns what happened so the demo can print it and a
 * test can check it.
 */
import { CategoryAggregate, importBucket, ProductAggregate } from "@online-shop/catalog"
import { CustomerAggregate, OrderAggregate } from "@online-shop/ordering"
import { BlobStore, Runtime } from "@reventless/core"
import { Effect } from "effect"
import * as Shop from "./Shop.ts"

export const productsCsv = [
  "sku,name,description,price,categoryId",
  "tea-01,Green Tea,\"Sencha, 100 g\",4.5,drinks",
  "tea-02,Black Tea,\"Assam, \"\"strong\"\", 250 g\",6.9,drinks",
  "mug-01,Mug,Stoneware mug,abc,kitchen",
  "pot-01,Tea Pot,\"Cast iron,",
  "0.8 litre\",39,kitchen"
].join("\r\n")

const address = { street: "1 Leaf Lane", city: "Teatown", postalCode: "12345", country: "NL" }

export const story = Effect.gen(function*() {
  const blobs = yield* BlobStore.BlobStore
  const notes: Array<string> = []
  const note = (line: string) => Effect.sync(() => void notes.push(line))

  yield* Runtime.execute(CategoryAggregate, "drinks", { _tag: "Add", name: "Drinks" })
  yield* Runtime.execute(CategoryAggregate, "kitchen", { _tag: "Add", name: "Kitchen" })
  yield* Runtime.awaitIdle
  yield* blobs.put(importBucket, "products.csv", new TextEncoder().encode(productsCsv))
  yield* Runtime.awaitIdle
  yield* Runtime.execute(ProductAggregate, "tea-01", { _tag: "UpdatePrice", price: 4.9 })

  yield* Runtime.execute(CustomerAggregate, "alice", { _tag: "Register", name: "Alice", email: "alice@example.com", address })
  yield* Runtime.execute(CustomerAggregate, "bob", { _tag: "Register", name: "Bob", email: "bob@example.com" })
  yield* Runtime.awaitIdle

  yield* Runtime.execute(OrderAggregate, "order-1", { _tag: "Place", customerId: "alice", productIds: ["tea-01", "pot-01"], shippingAddress: address })
  yield* Runtime.execute(OrderAggregate, "order-2", { _tag: "Place", customerId: "bob", productIds: ["tea-02"] })
  yield* Runtime.awaitIdle
  const unknown = yield* Effect.flip(Runtime.execute(OrderAggregate, "order-3", { _tag: "Place", customerId: "alice", productIds: ["mug-01"] }))
  yield* note(`order-3 for mug-01 (its CSV row was rejected): ${unknown._tag}`)

  const ship = yield* Effect.flip(Runtime.execute(OrderAggregate, "order-2", { _tag: "Ship" }))
  yield* note(`order-2 ships without an address: ${ship._tag}`)
  yield* Runtime.execute(OrderAggregate, "order-2", { _tag: "Cancel", reason: "no address given" })
  const late = yield* Effect.flip(Runtime.execute(OrderAggregate, "order-1", { _tag: "Cancel", reason: "changed my mind" }))
  yield* note(`cancel the shipped order-1: ${late._tag}`)
  yield* Runtime.awaitIdle

  return yield* Shop.report(notes, ["Categories", "Products", "ProductDemands", "Customers", "CatalogProducts", "Orders"])
})
