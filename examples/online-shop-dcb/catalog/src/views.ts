/** The Catalog's state views, projected from its DCB log. */
import { ReadModel, StateViewSlice } from "@reventless/core"
import { Schema } from "effect"
import {
  CategoryAdded,
  CategoryArchived,
  CategoryRenamed,
  DemandRecorded,
  DemandRevoked,
  ProductAdded,
  ProductDescriptionChanged,
  ProductNameChanged,
  ProductPriceChanged,
  ProductWithdrawn
} from "./events.ts"

export const CategoryRow = Schema.Struct({ name: Schema.String, archived: Schema.Boolean })
export type CategoryRow = typeof CategoryRow.Type

export const Categories = StateViewSlice.make({
  name: "Categories",
  row: CategoryRow,
  consumedEvent: Schema.Union([CategoryAdded, CategoryRenamed, CategoryArchived]),
  project: ({ event }): ReadModel.Action<CategoryRow> => {
    switch (event._tag) {
      case "CategoryAdded":
        return ReadModel.set(event.categoryId, { name: event.name, archived: false })
      case "CategoryRenamed":
        return ReadModel.update(event.categoryId, (row) => ({ ...row, name: event.name }))
      case "CategoryArchived":
        return ReadModel.update(event.categoryId, (row) => ({ ...row, archived: true }))
    }
  }
})

export const ProductRow = Schema.Struct({
  name: Schema.String,
  description: Schema.String,
  categoryId: Schema.String,
  price: Schema.Finite,
  withdrawn: Schema.Boolean
})
export type ProductRow = typeof ProductRow.Type

export const Products = StateViewSlice.makeStream({
  name: "Products",
  row: ProductRow,
  consumedEvent: Schema.Union([ProductAdded, ProductNameChanged, ProductDescriptionChanged, ProductPriceChanged, ProductWithdrawn]),
  project: ({ event }): ReadModel.Action<ProductRow> => {
    switch (event._tag) {
      case "ProductAdded":
        return ReadModel.set(event.productId, { name: event.name, description: event.description, categoryId: event.categoryId, price: event.price, withdrawn: false })
      case "ProductNameChanged":
        return ReadModel.update(event.productId, (row) => ({ ...row, name: event.name }))
      case "ProductDescriptionChanged":
        return ReadModel.update(event.productId, (row) => ({ ...row, description: event.description }))
      case "ProductPriceChanged":
        return ReadModel.update(event.productId, (row) => ({ ...row, price: event.price }))
      case "ProductWithdrawn":
        return ReadModel.update(event.productId, (row) => ({ ...row, withdrawn: true }))
    }
  }
})

export const DemandRow = Schema.Struct({ orders: Schema.Int })
export type DemandRow = typeof DemandRow.Type

export const ProductDemand = StateViewSlice.make({
  name: "ProductDemand",
  row: DemandRow,
  consumedEvent: Schema.Union([DemandRecorded, DemandRevoked]),
  project: ({ event }) =>
    ReadModel.updateWithDefault<DemandRow>(event.productId, { orders: 0 }, (row) => ({ orders: row.orders + (event._tag === "DemandRecorded" ? 1 : -1) }))
})
