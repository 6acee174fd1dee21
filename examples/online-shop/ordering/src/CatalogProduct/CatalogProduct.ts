/** CatalogProduct: Ordering's shadow of a Catalog product, kept in sync through Catalog.Products. */
import { Schema } from "effect"

export const Sync = Schema.TaggedStruct("Sync", { name: Schema.String, price: Schema.Finite })
export const UpdatePrice = Schema.TaggedStruct("UpdatePrice", { price: Schema.Finite })
export const Command = Schema.Union([Sync, UpdatePrice])
export type Command = typeof Command.Type

export const Synced = Schema.TaggedStruct("Synced", { name: Schema.String, price: Schema.Finite })
export const PriceUpdated = Schema.TaggedStruct("PriceUpdated", { price: Schema.Finite })
export const Event = Schema.Union([Synced, PriceUpdated])
export type Event = typeof Event.Type

export class ProductNotSynced extends Schema.TaggedError<ProductNotSynced>()("ProductNotSynced", {}) {}
export const Rejection = ProductNotSynced
export type Rejection = ProductNotSynced

export const Unknown = Schema.TaggedStruct("Unknown", {})
export const Known = Schema.TaggedStruct("Known", { name: Schema.String, price: Schema.Finite })
export const State = Schema.Union([Unknown, Known])
export type State = typeof State.Type
