/** Category: a named grouping of products, which can be archived. */
import { Schema } from "effect"

export const Add = Schema.TaggedStruct("Add", { name: Schema.NonEmptyString })
export const Rename = Schema.TaggedStruct("Rename", { name: Schema.NonEmptyString })
export const Archive = Schema.TaggedStruct("Archive", {})
export const Command = Schema.Union([Add, Rename, Archive])
export type Command = typeof Command.Type

export const Added = Schema.TaggedStruct("Added", { name: Schema.String })
export const Renamed = Schema.TaggedStruct("Renamed", { name: Schema.String })
export const Archived = Schema.TaggedStruct("Archived", {})
export const Event = Schema.Union([Added, Renamed, Archived])
export type Event = typeof Event.Type

export class CategoryAlreadyExists extends Schema.TaggedError<CategoryAlreadyExists>()("CategoryAlreadyExists", {}) {}
export class CategoryNotFound extends Schema.TaggedError<CategoryNotFound>()("CategoryNotFound", {}) {}
export class CategoryIsArchived extends Schema.TaggedError<CategoryIsArchived>()("CategoryIsArchived", {}) {}
export const Rejection = Schema.Union([CategoryAlreadyExists, CategoryNotFound, CategoryIsArchived])
export type Rejection = typeof Rejection.Type

export const NotCreated = Schema.TaggedStruct("NotCreated", {})
export const Listed = Schema.TaggedStruct("Listed", { name: Schema.String })
export const ArchivedState = Schema.TaggedStruct("Archived", { name: Schema.String })
export const State = Schema.Union([NotCreated, Listed, ArchivedState])
export type State = typeof State.Type
