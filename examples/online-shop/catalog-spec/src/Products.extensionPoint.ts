/**
 * Catalog.Products: what Catalog tells the world about its products, in a vocabulary of its own
 * (the seed's catalog-spec/src/Products_ExtensionPoint.res). Read-only: no commands, no directives.
 */
import { ExtensionPoint } from "@reventless/core"
import { Schema } from "effect"

export const ProductBecameAvailable = Schema.TaggedStruct("ProductBecameAvailable", {
  productId: Schema.String,
  name: Schema.String,
  price: Schema.Finite
})
export const ProductPriceChanged = Schema.TaggedStruct("ProductPriceChanged", { productId: Schema.String, price: Schema.Finite })
export const Event = Schema.Union([ProductBecameAvailable, ProductPriceChanged])
export type Event = typeof Event.Type

export const ProductsExtensionPoint = ExtensionPoint.spec({ name: "Catalog.Products", event: Event })
