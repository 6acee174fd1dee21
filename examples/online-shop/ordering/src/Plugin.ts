/** The Ordering plugin: who buys what. Talks to Catalog only through the two spec packages. */
import { Plugin } from "@reventless/core"
import { CatalogProductAggregate } from "./CatalogProduct/CatalogProduct.behavior.ts"
import { CatalogProducts } from "./CatalogProduct/CatalogProducts.readModel.ts"
import { CustomerAggregate } from "./Customer/Customer.behavior.ts"
import { Customers } from "./Customer/Customers.readModel.ts"
import type { EmailService } from "./EmailService.ts"
import { ProductsExtension } from "./Extension/Products.extension.ts"
import { OrdersExtensionPoint } from "./ExtensionPoint/Orders.extensionPoint.ts"
import { OrderAggregate } from "./Order/Order.behavior.ts"
import { AutoShip } from "./Order/Order.mappings.ts"
import { Orders } from "./Order/Orders.readModel.ts"
import { OrderNotifications } from "./Task/OrderNotifications.ts"

export const Ordering = Plugin.make<EmailService>({
  name: "Ordering",
  heartbeatInterval: 5,
  aggregates: [CustomerAggregate, OrderAggregate, CatalogProductAggregate],
  eventMappings: [AutoShip],
  readModels: [Customers, Orders, CatalogProducts],
  tasks: [OrderNotifications],
  extensionPoints: [OrdersExtensionPoint],
  extensions: [ProductsExtension]
})
