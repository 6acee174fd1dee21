/** The Catalog plugin: what is for sale, how it is organised, and how much it is ordered. */
import { Plugin } from "@reventless/core"
import { Categories } from "./Category/Categories.readModel.ts"
import { CategoryAggregate } from "./Category/Category.behavior.ts"
import { ProductAggregate } from "./Product/Product.behavior.ts"
import { Products } from "./Product/Products.readModel.ts"
import { ProductDemandAggregate } from "./ProductDemand/ProductDemand.behavior.ts"
import { ProductDemands } from "./ProductDemand/ProductDemands.readModel.ts"
import { ImportReports } from "./ProductImport/ImportReports.readModel.ts"
import { ProductImportAggregate } from "./ProductImport/ProductImport.behavior.ts"
import { ImportProducts } from "./Task/ImportProducts.ts"
import { OrdersExtension } from "./Extension/Orders.extension.ts"
import { ProductsExtensionPoint } from "./ExtensionPoint/Products.extensionPoint.ts"

export const Catalog = Plugin.make({
  name: "Catalog",
  heartbeatInterval: 5,
  aggregates: [CategoryAggregate, ProductAggregate, ProductDemandAggregate, ProductImportAggregate],
  readModels: [Categories, Products, ProductDemands, ImportReports],
  tasks: [ImportProducts],
  extensionPoints: [ProductsExtensionPoint],
  extensions: [OrdersExtension]
})
