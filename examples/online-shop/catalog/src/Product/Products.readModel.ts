/** Products: every listing with its current name, description, price and category. */
import { ReadModel } from "@reventless/core"
import { Schema } from "effect"
import { ProductAggregate } from "./Product.behavior.ts"

export const Row = Schema.Struct({
  name: Schema.String,
  description: Schema.String,
  price: Schema.Finite,
  categoryId: Schema.NullOr(Schema.String)
})
export type Row = typeof Row.Type

export const Products = ReadModel.make({
  name: "Products",
  row: Row,
  projections: [
    ReadModel.projection(ProductAggregate, ({ event, id }): ReadModel.Action<Row> => {
      switch (event._tag) {
        case "Added":
          return ReadModel.set(id, { name: event.name, description: event.description, price: event.price, categoryId: event.categoryId ?? null })
        case "NameUpdated":
          return ReadModel.update(id, (row) => ({ ...row, name: event.name }))
        case "DescriptionUpdated":
          return ReadModel.update(id, (row) => ({ ...row, description: event.description }))
        case "PriceUpdated":
          return ReadModel.update(id, (row) => ({ ...row, price: event.price }))
      }
    })
  ]
})
