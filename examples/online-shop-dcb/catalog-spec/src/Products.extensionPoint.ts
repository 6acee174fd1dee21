/** Catalog.Products in the hybrid shop: the aggregate shop's contract plus ProductWithdrawn. */
import { ExtensionPoint } from "@reventless/core"
import { Schema } from "effect"

export const ProductBecameAvailable = Schema.TaggedStruct("ProductBecameAvailable", { productId: Schema.String, name: Schema.String, price: Schema.Finite })
export const ProductPriceChanged = Schema.TaggedStruct("ProductPriceChanged", { productId: Schema.String, price: Schema.Finite })
export const ProductWithdrawn = Schema.TaggedStruct("ProductWithdrawn", { productId: Schema.String })
export const Event = Schema.Union([ProductBecameAvailable, ProductPriceChanged, ProductWithdrawn])
export type Event = typeof Event.Type

export const ProductsExtensionPoint = ExtensionPoint.spec({ name: "Catalog.Products", event: Event })
