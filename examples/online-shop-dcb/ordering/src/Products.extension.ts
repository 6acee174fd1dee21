/** Ordering's subscription to Catalog.Products: the catalog shadow in Ordering's own log. */
import { Products } from "@online-shop-dcb/catalog-spec"
import { Extension } from "@reventless/core"
import { ChangeSyncedPrice, SyncCatalogProductSlice, SyncNewProduct, WithdrawSyncedProduct } from "./CatalogProduct.slices.ts"

export const ProductsExtension = Extension.make({
  name: "Products",
  extensionPoint: Products.ProductsExtensionPoint,
  delegate: SyncCatalogProductSlice,
  mapIncomingEvent: ({ event }) => {
    switch (event._tag) {
      case "ProductBecameAvailable":
        return [Extension.publishStateChangeSliceCommand(SyncNewProduct.make({ productId: event.productId, name: event.name, price: event.price }))]
      case "ProductPriceChanged":
        return [Extension.publishStateChangeSliceCommand(ChangeSyncedPrice.make({ productId: event.productId, price: event.price }))]
      case "ProductWithdrawn":
        return [Extension.publishStateChangeSliceCommand(WithdrawSyncedProduct.make({ productId: event.productId }))]
    }
  }
})
