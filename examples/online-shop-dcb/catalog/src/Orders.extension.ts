/** Catalog's subscription to Ordering.Orders: items ordered or cancelled move product demand. */
import { Orders } from "@online-shop-dcb/ordering-spec"
import { Extension } from "@reventless/core"
import { RecordDemand, RecordProductDemandSlice, RevokeDemand } from "./Demand.slices.ts"

export const OrdersExtension = Extension.make({
  name: "Orders",
  extensionPoint: Orders.OrdersExtensionPoint,
  delegate: RecordProductDemandSlice,
  mapIncomingEvent: ({ event }) => [
    Extension.publishStateChangeSliceCommand(
      event._tag === "ItemOrdered" ? RecordDemand.make({ productId: event.productId, orderId: event.orderId }) : RevokeDemand.make({ productId: event.productId, orderId: event.orderId })
    )
  ]
})
