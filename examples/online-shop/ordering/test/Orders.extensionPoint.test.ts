import { assert, describe, it } from "@effect/vitest"
import { Orders } from "@online-shop/ordering-spec"
import { ExtensionPoint, Message } from "@reventless/core"
import { Order, OrdersExtensionPoint, ProductsExtension } from "../src/index.ts"

const meta = Message.makeMeta({ msgId: "m1" }, new Date(0).toISOString())

describe("Ordering's cross-plugin mappings", () => {
  it("Ordering.Orders publishes one event per ordered or cancelled product, and nothing on shipping", () => {
    const placed = OrdersExtensionPoint.mapOutgoingEvent({ id: "o1", meta, value: Order.Placed.make({ customerId: "c1", productIds: ["p1", "p2"] }) })
    assert.deepStrictEqual(placed, [
      ExtensionPoint.publishEvent("o1/p1", Orders.ItemOrdered.make({ orderId: "o1", productId: "p1" })),
      ExtensionPoint.publishEvent("o1/p2", Orders.ItemOrdered.make({ orderId: "o1", productId: "p2" }))
    ])
    const cancelled = OrdersExtensionPoint.mapOutgoingEvent({ id: "o1", meta, value: Order.Cancelled.make({ reason: "x", productIds: ["p1"] }) })
    assert.deepStrictEqual(cancelled, [ExtensionPoint.publishEvent("o1/p1", Orders.ItemOrderCancelled.make({ orderId: "o1", productId: "p1" }))])
    const address = { street: "s", city: "c", postalCode: "p", country: "NL" }
    assert.deepStrictEqual(OrdersExtensionPoint.mapOutgoingEvent({ id: "o1", meta, value: Order.Shipped.make({ shippingAddress: address }) }), [])
  })

  it("the Products extension keeps the shadow: available → Sync, price change → UpdatePrice", () => {
    const plugin = { name: "Ordering", aggregates: [], extensionPoints: [] }
    assert.deepStrictEqual(
      ProductsExtension.mapIncomingEvent({ id: "p1", meta, plugin, event: { _tag: "ProductBecameAvailable", productId: "p1", name: "Tea", price: 4 } }),
      [{ _tag: "PublishAggregateCommand", id: "p1", command: { _tag: "Sync", name: "Tea", price: 4 } }]
    )
    assert.deepStrictEqual(
      ProductsExtension.mapIncomingEvent({ id: "p1", meta, plugin, event: { _tag: "ProductPriceChanged", productId: "p1", price: 5 } }),
      [{ _tag: "PublishAggregateCommand", id: "p1", command: { _tag: "UpdatePrice", price: 5 } }]
    )
  })
})
