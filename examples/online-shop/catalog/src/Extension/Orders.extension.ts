/**
 * Catalog's subscription to Ordering.Orders: every ordered or cancelled item moves the demand of
 * its product (the seed's Extension/Orders_Extension.res).
 */
import { Orders } from "@online-shop/ordering-spec"
import { Extension } from "@reventless/core"
import * as ProductDemand from "../ProductDemand/ProductDemand.ts"
import { ProductDemandAggregate } from "../ProductDemand/ProductDemand.behavior.ts"

export const OrdersExtension = Extension.make({
  name: "Orders",
  extensionPoint: Orders.OrdersExtensionPoint,
  delegate: ProductDemandAggregate,
  mapIncomingEvent: ({ event }) => {
    switch (event._tag) {
      case "ItemOrdered":
        return [Extension.publishAggregateCommand(event.productId, ProductDemand.Record.make({ orderId: event.orderId }))]
      case "ItemOrderCancelled":
        return [Extension.publishAggregateCommand(event.productId, ProductDemand.Revoke.make({ orderId: event.orderId }))]
    }
  }
})
