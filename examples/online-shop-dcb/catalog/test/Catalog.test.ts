/**
 * The hybrid Catalog: slice specs for its rules, and on the memory platform an archive racing a
 * product add for the same category, which must never end with a product in an archived category.
 */
import { assert, describe, it } from "@effect/vitest"
import { CommandTopic, MemoryPlatform, Plugin, Runtime } from "@reventless/core"
import { SliceSpec } from "@reventless/testing"
import { Effect, Layer, Option, Result } from "effect"
import {
  AddCategory,
  AddCategorySlice,
  AddProduct,
  AddProductSlice,
  ArchiveCategory,
  ArchiveCategorySlice,
  Catalog,
  CategoryExists,
  CategoryIsArchived,
  CategoryNotAvailable,
  ChangeProductPrice,
  ChangeProductPriceSlice,
  Events,
  PriceMustBePositive,
  ProductExists,
  ProductIsWithdrawn,
  RenameCategory,
  RenameCategorySlice
} from "../src/index.ts"

const drinks = Events.CategoryAdded.make({ categoryId: "drinks", name: "Drinks" })
const tea = Events.ProductAdded.make({ productId: "tea", categoryId: "drinks", name: "Tea", price: 4 })
const addTea = AddProduct.make({ productId: "tea", categoryId: "drinks", name: "Tea", price: 4 })

describe("hybrid Catalog slices", () => {
  it("categories: added once, renamed while active, archived once", () => {
    SliceSpec.make(AddCategorySlice).given().when(AddCategory.make({ categoryId: "drinks", name: "Drinks" })).then(drinks)
    SliceSpec.make(AddCategorySlice).given(drinks).when(AddCategory.make({ categoryId: "drinks", name: "Again" })).thenRejects(new CategoryExists({ categoryId: "drinks" }))
    SliceSpec.make(RenameCategorySlice).given(drinks, Events.CategoryArchived.make({ categoryId: "drinks" })).when(RenameCategory.make({ categoryId: "drinks", name: "Old" }))
      .thenRejects(new CategoryIsArchived({ categoryId: "drinks" }))
    SliceSpec.make(ArchiveCategorySlice).given(drinks, Events.CategoryArchived.make({ categoryId: "drinks" })).when(ArchiveCategory.make({ categoryId: "drinks" })).then()
  })

  it("a product needs an active category, a positive price, and a fresh id", () => {
    const spec = SliceSpec.make(AddProductSlice)
    spec.given(drinks).when(addTea).then(tea)
    spec.given().when(addTea).thenRejects(new CategoryNotAvailable({ categoryId: "drinks", reason: "unknown" }))
    spec.given(drinks, Events.CategoryArchived.make({ categoryId: "drinks" })).when(addTea).thenRejects(new CategoryNotAvailable({ categoryId: "drinks", reason: "archived" }))
    spec.given(drinks).when(AddProduct.make({ ...addTea, price: 0 })).thenRejects(new PriceMustBePositive({ price: 0 }))
    spec.given(drinks, tea).when(addTea).thenRejects(new ProductExists({ productId: "tea" }))
  })

  it("a withdrawn product's price cannot change", () =>
    SliceSpec.make(ChangeProductPriceSlice).given(drinks, tea, Events.ProductWithdrawn.make({ productId: "tea" })).when(ChangeProductPrice.make({ productId: "tea", price: 5 }))
      .thenRejects(new ProductIsWithdrawn({ productId: "tea" })))

  it("the plugin's DCB events are consistent", () => assert.isTrue(Result.isSuccess(Plugin.validate(Catalog))))
})

const catalog = Runtime.layer({ plugins: [Catalog], concurrency: 4 }).pipe(Layer.provideMerge(MemoryPlatform.layer))

/** Product ids whose commands land on a different worker than the category's archive. */
const apartFrom = (component: string, id: string, candidates: ReadonlyArray<string>) =>
  candidates.find((candidate) => CommandTopic.hashKey({ component: "Catalog.AddProduct", id: candidate }) % 4 !== CommandTopic.hashKey({ component, id }) % 4)!

describe("hybrid Catalog on the memory platform", () => {
  it.effect("an archive racing product adds: every product that made it was added before the archive", () =>
    Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      yield* Runtime.executeSlice(AddCategorySlice, AddCategory.make({ categoryId: "drinks", name: "Drinks" }))
      const productId = apartFrom("Catalog.ArchiveCategory", "drinks", ["p1", "p2", "p3", "p4", "p5"])
      const [added, archived] = yield* Effect.all([
        Effect.result(Runtime.executeSlice(AddProductSlice, AddProduct.make({ productId, categoryId: "drinks", name: "Tea", price: 4 }))),
        Effect.result(Runtime.executeSlice(ArchiveCategorySlice, ArchiveCategory.make({ categoryId: "drinks" })))
      ], { concurrency: "unbounded" })
      assert.isTrue(Result.isSuccess(archived!))
      yield* runtime.awaitIdle
      const product = yield* runtime.query("Products", productId)
      // Either the add won (the product exists, added while the category was active) or it was refused.
      if (Result.isSuccess(added!)) assert.isTrue(Option.isSome(product))
      else assert.deepStrictEqual(added!.failure, new CategoryNotAvailable({ categoryId: "drinks", reason: "archived" }))
      const late = yield* Effect.flip(Runtime.executeSlice(AddProductSlice, AddProduct.make({ productId: "late", categoryId: "drinks", name: "Late", price: 1 })))
      assert.deepStrictEqual(late, new CategoryNotAvailable({ categoryId: "drinks", reason: "archived" }))
      assert.deepStrictEqual(yield* runtime.query("Categories", "drinks"), Option.some({ name: "Drinks", archived: true }))
    }).pipe(Effect.provide(catalog)))
})
