/** The hybrid shop's Catalog plugin: its writes are DCB slices over one log. */
import { Plugin } from "@reventless/core"
import { AddCategorySlice, ArchiveCategorySlice, RenameCategorySlice } from "./Category.slices.ts"
import { AddProductSlice, ChangeProductPriceSlice, WithdrawProductSlice } from "./Product.slices.ts"
import { Categories, Products } from "./views.ts"

export const Catalog = Plugin.make({
  name: "Catalog",
  heartbeatInterval: 5,
  aggregates: [],
  stateChangeSlices: [AddCategorySlice, RenameCategorySlice, ArchiveCategorySlice, AddProductSlice, ChangeProductPriceSlice, WithdrawProductSlice],
  readModels: [Categories, Products]
})
