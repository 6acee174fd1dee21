/** ProductDemands: per-product order count, initialised from Product.Added (two sources). */
import { ReadModel } from "@reventless/core"
import { Schema } from "effect"
import { ProductAggregate } from "../Product/Product.behavior.ts"
import { ProductDemandAggregate } from "./ProductDemand.behavior.ts"

export const Row = Schema.Struct({ name: Schema.String, orderCount: Schema.Int })
export type Row = typeof Row.Type

export const ProductDemands = ReadModel.make({
  name: "ProductDemands",
  row: Row,
  projections: [
    ReadModel.projection(ProductAggregate, ({ event, id }): ReadModel.Action<Row> =>
      event._tag === "Added" ? ReadModel.set(id, { name: event.name, orderCount: 0 }) : ReadModel.ignore),
    ReadModel.projection(ProductDemandAggregate, ({ event, id }): ReadModel.Action<Row> => {
      switch (event._tag) {
        case "Recorded":
          return ReadModel.update(id, (row) => ({ ...row, orderCount: row.orderCount + 1 }))
        case "Revoked":
          return ReadModel.update(id, (row) => ({ ...row, orderCount: Math.max(0, row.orderCount - 1) }))
      }
    })
  ]
})
