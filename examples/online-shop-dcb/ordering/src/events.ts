/** Ordering's DCB log. Entity fields (`*Id`, `*Ids`) are the tags. */
import { Schema } from "effect"

export const ShippingMethod = Schema.Literals(["Standard", "Express"])

export const ProductSynced = Schema.TaggedStruct("ProductSynced", { productId: Schema.String, name: Schema.String, price: Schema.Finite })
export const SyncedPriceChanged = Schema.TaggedStruct("SyncedPriceChanged", { productId: Schema.String, price: Schema.Finite })
export const SyncedProductWithdrawn = Schema.TaggedStruct("SyncedProductWithdrawn", { productId: Schema.String })
export const OrderPlaced = Schema.TaggedStruct("OrderPlaced", {
  orderId: Schema.String,
  customerId: Schema.String,
  productIds: Schema.Array(Schema.String),
  shippingMethod: ShippingMethod
})
export const OrderCancelled = Schema.TaggedStruct("OrderCancelled", { orderId: Schema.String, customerId: Schema.String, productIds: Schema.Array(Schema.String) })
export const OrderShipped = Schema.TaggedStruct("OrderShipped", { orderId: Schema.String, customerId: Schema.String })
