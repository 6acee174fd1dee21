import { describe, it } from "@effect/vitest"
import { DeciderSpec, Properties } from "@reventless/testing"
import { Schema } from "effect"
import { Category, CategoryAggregate } from "../src/index.ts"

const spec = DeciderSpec.make(CategoryAggregate)
const added = Category.Added.make({ name: "Books" })

describe("Category", () => {
  it("is added", () => spec.given().when(Category.Add.make({ name: "Books" })).then(added))
  it("is renamed", () => spec.given(added).when(Category.Rename.make({ name: "Novels" })).then(Category.Renamed.make({ name: "Novels" })))
  it("an archived category cannot be renamed", () =>
    spec.given(added, Category.Archived.make({})).when(Category.Rename.make({ name: "X" })).thenRejects(new Category.CategoryIsArchived()))
  it("archiving twice emits nothing", () => spec.given(added, Category.Archived.make({})).when(Category.Archive.make({})).then())
  it("unknown categories cannot be archived", () => spec.given().when(Category.Archive.make({})).thenRejects(new Category.CategoryNotFound()))
  it.prop("replay is deterministic", [Schema.Array(Category.Command)], ([commands]) => Properties.replayIsDeterministic(CategoryAggregate, commands))
  it.prop("archive is idempotent", [Schema.Array(Category.Command)], ([history]) =>
    Properties.repeatIsIdempotent(CategoryAggregate, history, Category.Archive.make({})))
})
