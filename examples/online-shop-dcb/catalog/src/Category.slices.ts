/** Category writes: add, rename (not once archived), archive. Each reads only its category. */
import { StateChangeSlice } from "@reventless/core"
import { Result, Schema } from "effect"
import { CategoryAdded, CategoryArchived, CategoryRenamed } from "./events.ts"

export class CategoryExists extends Schema.TaggedError<CategoryExists>()("CategoryExists", { categoryId: Schema.String }) {}
export class CategoryNotFound extends Schema.TaggedError<CategoryNotFound>()("CategoryNotFound", { categoryId: Schema.String }) {}
export class CategoryIsArchived extends Schema.TaggedError<CategoryIsArchived>()("CategoryIsArchived", { categoryId: Schema.String }) {}

type Lifecycle = "none" | "active" | "archived"
const Consumed = Schema.Union([CategoryAdded, CategoryArchived])
/** What every category slice decides on: the category's lifecycle. */
const Categories = StateChangeSlice.decisionModel({
  consumedEvent: Consumed,
  initialState: "none" as Lifecycle,
  evolve: (_state: Lifecycle, event: typeof Consumed.Type): Lifecycle => event._tag === "CategoryAdded" ? "active" : "archived"
})

export const AddCategory = Schema.TaggedStruct("AddCategory", { categoryId: Schema.NonEmptyString, name: Schema.NonEmptyString })
export const AddCategorySlice = Categories.make({
  name: "AddCategory",
  command: AddCategory,
  event: CategoryAdded,
  rejection: CategoryExists,
  decide: (state, { categoryId, name }) =>
    state === "none" ? Result.succeed([CategoryAdded.make({ categoryId, name })]) : Result.fail(new CategoryExists({ categoryId }))
})

export const RenameCategory = Schema.TaggedStruct("RenameCategory", { categoryId: Schema.NonEmptyString, name: Schema.NonEmptyString })
export const RenameCategorySlice = Categories.make({
  name: "RenameCategory",
  command: RenameCategory,
  event: CategoryRenamed,
  rejection: Schema.Union([CategoryNotFound, CategoryIsArchived]),
  decide: (state, { categoryId, name }) =>
    state === "none"
      ? Result.fail(new CategoryNotFound({ categoryId }))
      : state === "archived"
      ? Result.fail(new CategoryIsArchived({ categoryId }))
      : Result.succeed([CategoryRenamed.make({ categoryId, name })])
})

export const ArchiveCategory = Schema.TaggedStruct("ArchiveCategory", { categoryId: Schema.NonEmptyString })
export const ArchiveCategorySlice = Categories.make({
  name: "ArchiveCategory",
  command: ArchiveCategory,
  event: CategoryArchived,
  rejection: CategoryNotFound,
  decide: (state, { categoryId }) =>
    state === "none"
      ? Result.fail(new CategoryNotFound({ categoryId }))
      : Result.succeed(state === "archived" ? [] : [CategoryArchived.make({ categoryId })])
})
