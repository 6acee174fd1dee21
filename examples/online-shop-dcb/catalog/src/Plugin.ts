/** The hybrid shop's Catalog plugin: its writes are DCB slices over one log. */
import { Plugin } from "@reventless/core"
import { AddCategorySlice, ArchiveCategorySlice, RenameCategorySlice } from "./Category.slices.ts"
import { RecordProductDemandSlice } from "./Demand.slices.ts"
import { ImportProduct } from "./Import.slice.ts"
import { OrdersExtension } from "./Orders.extension.ts"
import { AddProductSlice, ChangeProductDescriptionSlice, ChangeProductNameSlice, ChangeProductPriceSlice, WithdrawProductSlice } from "./Product.slices.ts"
import { ProductsExtensionPoint } from "./Products.extensionPoint.ts"
import { Categories, ProductDemand, Products } from "./views.ts"

export const Catalog = Plugin.make({
  name: "Catalog",
  heartbeatInterval: 5,
  aggregates: [],
  stateChangeSlices: [
    AddCategorySlice,
    RenameCategorySlice,
    ArchiveCategorySlice,
    AddProductSlice,
    ChangeProductNameSlice,
    ChangeProductDescriptionSlice,
    ChangeProductPriceSlice,
    WithdrawProductSlice,
    RecordProductDemandSlice
  ],
  readModels: [Categories, Products, ProductDemand],
  inboundTranslationSlices: [ImportProduct],
  extensionPoints: [ProductsExtensionPoint],
  extensions: [OrdersExtension]
})
