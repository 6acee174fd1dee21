/** Ordering.Orders from the DCB log: an order placed or cancelled, told product by product. */
import { Orders } from "@online-shop-dcb/ordering-spec"
import { DcbEventLog, ExtensionPoint } from "@reventless/core"
import { Schema } from "effect"
import { OrderCancelled, OrderPlaced } from "./events.ts"

export const OrdersExtensionPoint = ExtensionPoint.make({
  spec: Orders.OrdersExtensionPoint,
  delegate: DcbEventLog.source(Schema.Union([OrderPlaced, OrderCancelled])),
  mapOutgoingEvent: ({ value: event }) =>
    event.productIds.map((productId) =>
      ExtensionPoint.publishEvent(
        event.orderId,
        event._tag === "OrderPlaced"
          ? Orders.ItemOrdered.make({ orderId: event.orderId, productId })
          : Orders.ItemOrderCancelled.make({ orderId: event.orderId, productId })
      ))
})
