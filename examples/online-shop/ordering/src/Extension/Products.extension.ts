/**
 * Ordering's subscription to Catalog.Products: keeps the CatalogProduct shadow in sync (the
 * seed's Extension/Products_Extension.res).
 */
import { Products } from "@online-shop/catalog-spec"
import { Extension } from "@reventless/core"
import * as CatalogProduct from "../CatalogProduct/CatalogProduct.ts"
import { CatalogProductAggregate } from "../CatalogProduct/CatalogProduct.behavior.ts"

export const ProductsExtension = Extension.make({
  name: "Products",
  extensionPoint: Products.ProductsExtensionPoint,
  delegate: CatalogProductAggregate,
  mapIncomingEvent: ({ event }) => {
    switch (event._tag) {
      case "ProductBecameAvailable":
        return [Extension.publishAggregateCommand(event.productId, CatalogProduct.Sync.make({ name: event.name, price: event.price }))]
      case "ProductPriceChanged":
        return [Extension.publishAggregateCommand(event.productId, CatalogProduct.UpdatePrice.make({ price: event.price }))]
    }
  }
})
