/** CatalogProducts: the products Ordering can sell, with their current price. */
import { ReadModel } from "@reventless/core"
import { Schema } from "effect"
import { CatalogProductAggregate } from "./CatalogProduct.behavior.ts"

export const Row = Schema.Struct({ name: Schema.String, price: Schema.Finite })
export type Row = typeof Row.Type

export const CatalogProducts = ReadModel.make({
  name: "CatalogProducts",
  row: Row,
  projections: [
    ReadModel.projection(CatalogProductAggregate, ({ event, id }): ReadModel.Action<Row> =>
      event._tag === "Synced"
        ? ReadModel.set(id, { name: event.name, price: event.price })
        : ReadModel.update(id, (row) => ({ ...row, price: event.price })))
  ]
})
