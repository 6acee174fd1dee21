/** Product: a listing with name, description and price, optionally in a category. */
import { Schema } from "effect"

export const Add = Schema.TaggedStruct("Add", {
  name: Schema.NonEmptyString,
  description: Schema.String,
  price: Schema.Finite,
  categoryId: Schema.optionalKey(Schema.NonEmptyString)
})
export const UpdateName = Schema.TaggedStruct("UpdateName", { name: Schema.NonEmptyString })
export const UpdateDescription = Schema.TaggedStruct("UpdateDescription", { description: Schema.String })
export const UpdatePrice = Schema.TaggedStruct("UpdatePrice", { price: Schema.Finite })
export const Command = Schema.Union([Add, UpdateName, UpdateDescription, UpdatePrice])
export type Command = typeof Command.Type

export const Added = Schema.TaggedStruct("Added", {
  name: Schema.String,
  description: Schema.String,
  price: Schema.Finite,
  categoryId: Schema.optionalKey(Schema.String)
})
export const NameUpdated = Schema.TaggedStruct("NameUpdated", { name: Schema.String })
export const DescriptionUpdated = Schema.TaggedStruct("DescriptionUpdated", { description: Schema.String })
export const PriceUpdated = Schema.TaggedStruct("PriceUpdated", { price: Schema.Finite })
export const Event = Schema.Union([Added, NameUpdated, DescriptionUpdated, PriceUpdated])
export type Event = typeof Event.Type

export class ProductAlreadyExists extends Schema.TaggedError<ProductAlreadyExists>()("ProductAlreadyExists", {}) {}
export class ProductNotFound extends Schema.TaggedError<ProductNotFound>()("ProductNotFound", {}) {}
export class PriceMustBePositive extends Schema.TaggedError<PriceMustBePositive>()("PriceMustBePositive", { price: Schema.Finite }) {}
export class CategoryNotAvailable extends Schema.TaggedError<CategoryNotAvailable>()("CategoryNotAvailable", {
  categoryId: Schema.String,
  reason: Schema.Literals(["unknown", "archived"])
}) {}
export const Rejection = Schema.Union([ProductAlreadyExists, ProductNotFound, PriceMustBePositive, CategoryNotAvailable])
export type Rejection = typeof Rejection.Type

export const NotCreated = Schema.TaggedStruct("NotCreated", {})
export const Created = Schema.TaggedStruct("Created", { name: Schema.String, description: Schema.String, price: Schema.Finite })
export const State = Schema.Union([NotCreated, Created])
export type State = typeof State.Type
