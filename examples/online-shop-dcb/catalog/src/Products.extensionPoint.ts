/** Catalog.Products from the DCB log (the seed's `CatalogDcbEventLog` delegate). */
import { Products } from "@online-shop-dcb/catalog-spec"
import { DcbEventLog, ExtensionPoint } from "@reventless/core"
import { Schema } from "effect"
import { ProductAdded, ProductPriceChanged, ProductWithdrawn } from "./events.ts"

export const ProductsExtensionPoint = ExtensionPoint.make({
  spec: Products.ProductsExtensionPoint,
  delegate: DcbEventLog.source(Schema.Union([ProductAdded, ProductPriceChanged, ProductWithdrawn])),
  mapOutgoingEvent: ({ value: event }) => {
    switch (event._tag) {
      case "ProductAdded":
        return [ExtensionPoint.publishEvent(event.productId, Products.ProductBecameAvailable.make({ productId: event.productId, name: event.name, price: event.price }))]
      case "ProductPriceChanged":
        return [ExtensionPoint.publishEvent(event.productId, Products.ProductPriceChanged.make({ productId: event.productId, price: event.price }))]
      case "ProductWithdrawn":
        return [ExtensionPoint.publishEvent(event.productId, Products.ProductWithdrawn.make({ productId: event.productId }))]
    }
  }
})
