/** ImportProduct: a supplier feed's items (prices in cents, USD only) become AddProduct commands. */
import { InboundTranslationSlice } from "@reventless/core"
import { Result, Schema } from "effect"
import { AddProduct, AddProductSlice } from "./Product.slices.ts"

export const SupplierItem = Schema.Struct({
  sku: Schema.NonEmptyString,
  title: Schema.NonEmptyString,
  description: Schema.optionalKey(Schema.String),
  categoryId: Schema.NonEmptyString,
  unitPriceCents: Schema.Int,
  currency: Schema.String
})

export const ImportProduct = InboundTranslationSlice.make({
  name: "ImportProduct",
  input: SupplierItem,
  target: AddProductSlice,
  externalSystem: "supplier-feed",
  translate: (item) =>
    item.currency !== "USD"
      ? Result.fail(`currency ${item.currency}: only USD is accepted`)
      : item.unitPriceCents <= 0
      ? Result.fail(`unit price ${item.unitPriceCents}: must be positive`)
      : Result.succeed([{ command: AddProduct.make({
          productId: item.sku,
          categoryId: item.categoryId,
          name: item.title,
          description: item.description ?? "",
          price: item.unitPriceCents / 100
        }) }])
})
