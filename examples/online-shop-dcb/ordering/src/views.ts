/** Ordering's state views over its DCB log (Customers comes with the Customer aggregate). */
import { ReadModel, StateViewSlice } from "@reventless/core"
import { Schema } from "effect"
import { OrderCancelled, OrderPlaced, OrderShipped, ProductSynced, ShippingMethod, SyncedPriceChanged, SyncedProductWithdrawn } from "./events.ts"

export const OrderRow = Schema.Struct({
  customerId: Schema.String,
  productIds: Schema.Array(Schema.String),
  shippingMethod: ShippingMethod,
  status: Schema.Literals(["Placed", "Shipped", "Cancelled"])
})
export type OrderRow = typeof OrderRow.Type

export const Orders = StateViewSlice.makeStream({
  name: "Orders",
  row: OrderRow,
  consumedEvent: Schema.Union([OrderPlaced, OrderShipped, OrderCancelled]),
  project: ({ event }): ReadModel.Action<OrderRow> => {
    switch (event._tag) {
      case "OrderPlaced":
        return ReadModel.set(event.orderId, { customerId: event.customerId, productIds: event.productIds, shippingMethod: event.shippingMethod, status: "Placed" })
      case "OrderShipped":
        return ReadModel.update(event.orderId, (row) => ({ ...row, status: "Shipped" }))
      case "OrderCancelled":
        return ReadModel.update(event.orderId, (row) => ({ ...row, status: "Cancelled" }))
    }
  }
})

export const AvailableProductRow = Schema.Struct({ name: Schema.String, price: Schema.Finite })
export type AvailableProductRow = typeof AvailableProductRow.Type

/** What can be ordered now: a withdrawn product leaves the view. */
export const AvailableProducts = StateViewSlice.make({
  name: "AvailableProducts",
  row: AvailableProductRow,
  consumedEvent: Schema.Union([ProductSynced, SyncedPriceChanged, SyncedProductWithdrawn]),
  project: ({ event }): ReadModel.Action<AvailableProductRow> => {
    switch (event._tag) {
      case "ProductSynced":
        return ReadModel.set(event.productId, { name: event.name, price: event.price })
      case "SyncedPriceChanged":
        return ReadModel.update(event.productId, (row) => ({ ...row, price: event.price }))
      case "SyncedProductWithdrawn":
        return ReadModel.remove(event.productId)
    }
  }
})
