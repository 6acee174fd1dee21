/**
 * The hybrid shop's Ordering: the Customer stays the aggregate shop's aggregate; orders and the
 * catalog shadow are DCB slices over one log, so PlaceOrder can decide over the order, the
 * customer's open orders and every product at once.
 */
import { CustomerAggregate, Customers, type EmailService } from "@online-shop/ordering"
import { Plugin } from "@reventless/core"
import { SyncCatalogProductSlice } from "./CatalogProduct.slices.ts"
import { AutoShipOrder, SendOrderConfirmation } from "./Order.automations.ts"
import { CancelOrderSlice, PlaceOrderSlice, ShipOrderSlice } from "./Order.slices.ts"
import { OrdersExtensionPoint } from "./Orders.extensionPoint.ts"
import { ProductsExtension } from "./Products.extension.ts"
import { AvailableProducts, Orders } from "./views.ts"

export const Ordering = Plugin.make<EmailService.EmailService>({
  name: "Ordering",
  heartbeatInterval: 5,
  aggregates: [CustomerAggregate],
  stateChangeSlices: [PlaceOrderSlice, CancelOrderSlice, ShipOrderSlice, SyncCatalogProductSlice],
  readModels: [Customers, Orders, AvailableProducts],
  automationSlices: [AutoShipOrder],
  outboundTranslationSlices: [SendOrderConfirmation],
  extensionPoints: [OrdersExtensionPoint],
  extensions: [ProductsExtension]
})
