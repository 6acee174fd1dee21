/**
 * The mapping behind Ordering.Orders: an order becomes one public event per ordered product (the
 * seed's ExtensionPoint/Orders_ExtensionPointMapping.res).
 */
import { Orders } from "@online-shop/ordering-spec"
import { ExtensionPoint } from "@reventless/core"
import { OrderAggregate } from "../Order/Order.behavior.ts"

export const OrdersExtensionPoint = ExtensionPoint.make({
  spec: Orders.OrdersExtensionPoint,
  delegate: OrderAggregate,
  mapOutgoingEvent: ({ id, value: event }) => {
    switch (event._tag) {
      case "Placed":
        return event.productIds.map((productId) => ExtensionPoint.publishEvent(`${id}/${productId}`, Orders.ItemOrdered.make({ orderId: id, productId })))
      case "Cancelled":
        return event.productIds.map((productId) =>
          ExtensionPoint.publishEvent(`${id}/${productId}`, Orders.ItemOrderCancelled.make({ orderId: id, productId })))
      case "Shipped":
        return []
    }
  }
})
