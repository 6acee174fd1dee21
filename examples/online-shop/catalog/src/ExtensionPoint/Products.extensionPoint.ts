/**
 * The mapping behind Catalog.Products: Product events in the public vocabulary (the seed's
 * ExtensionPoint/Products_ExtensionPointMapping.res). Only what Ordering needs is published.
 */
import { Products } from "@online-shop/catalog-spec"
import { ExtensionPoint } from "@reventless/core"
import { ProductAggregate } from "../Product/Product.behavior.ts"

export const ProductsExtensionPoint = ExtensionPoint.make({
  spec: Products.ProductsExtensionPoint,
  delegate: ProductAggregate,
  mapOutgoingEvent: ({ id, value: event }) => {
    switch (event._tag) {
      case "Added":
        return [ExtensionPoint.publishEvent(id, Products.ProductBecameAvailable.make({ productId: id, name: event.name, price: event.price }))]
      case "PriceUpdated":
        return [ExtensionPoint.publishEvent(id, Products.ProductPriceChanged.make({ productId: id, price: event.price }))]
      default:
        return []
    }
  }
})
