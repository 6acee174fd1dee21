/** Orders: each order's customer, products, status and, once cancelled, why. */
import { ReadModel } from "@reventless/core"
import { Schema } from "effect"
import { Address } from "../Customer/Customer.ts"
import { OrderAggregate } from "./Order.behavior.ts"

export const Row = Schema.Struct({
  customerId: Schema.String,
  productIds: Schema.Array(Schema.String),
  status: Schema.Literals(["placed", "shipped", "cancelled"]),
  shippingAddress: Schema.NullOr(Address),
  cancelReason: Schema.NullOr(Schema.String)
})
export type Row = typeof Row.Type

export const Orders = ReadModel.make({
  name: "Orders",
  row: Row,
  projections: [
    ReadModel.projection(OrderAggregate, ({ event, id }): ReadModel.Action<Row> => {
      switch (event._tag) {
        case "Placed":
          return ReadModel.set(id, {
            customerId: event.customerId,
            productIds: event.productIds,
            status: "placed",
            shippingAddress: event.shippingAddress ?? null,
            cancelReason: null
          })
        case "Shipped":
          return ReadModel.update(id, (row) => ({ ...row, status: "shipped" }))
        case "Cancelled":
          return ReadModel.update(id, (row) => ({ ...row, status: "cancelled", cancelReason: event.reason }))
      }
    })
  ]
})
