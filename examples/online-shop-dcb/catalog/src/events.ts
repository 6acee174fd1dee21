/** The Catalog's DCB log: what its slices produce. Entity fields (`*Id`) are the tags. */
import { Schema } from "effect"

export const CategoryAdded = Schema.TaggedStruct("CategoryAdded", { categoryId: Schema.String, name: Schema.String })
export const CategoryRenamed = Schema.TaggedStruct("CategoryRenamed", { categoryId: Schema.String, name: Schema.String })
export const CategoryArchived = Schema.TaggedStruct("CategoryArchived", { categoryId: Schema.String })
export const ProductAdded = Schema.TaggedStruct("ProductAdded", {
  productId: Schema.String,
  categoryId: Schema.String,
  name: Schema.String,
  description: Schema.String,
  price: Schema.Finite
})
export const ProductNameChanged = Schema.TaggedStruct("ProductNameChanged", { productId: Schema.String, name: Schema.String })
export const ProductDescriptionChanged = Schema.TaggedStruct("ProductDescriptionChanged", { productId: Schema.String, description: Schema.String })
export const ProductPriceChanged = Schema.TaggedStruct("ProductPriceChanged", { productId: Schema.String, price: Schema.Finite })
export const ProductWithdrawn = Schema.TaggedStruct("ProductWithdrawn", { productId: Schema.String })
export const DemandRecorded = Schema.TaggedStruct("DemandRecorded", { productId: Schema.String, orderId: Schema.String })
export const DemandRevoked = Schema.TaggedStruct("DemandRevoked", { productId: Schema.String, orderId: Schema.String })
