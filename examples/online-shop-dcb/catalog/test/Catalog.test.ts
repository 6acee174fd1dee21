/**
 * The hybrid Catalog: slice specs for its rules, and on the memory platform an archive racing a
 * product add for the same category, which must never end with a product in an archived category.
 */
import { assert, describe, it } from "@effect/vitest"
import { Orders } from "@online-shop-dcb/ordering-spec"
import { Aggregate, CommandTopic, EventStore, ExtensionPoint, MemoryPlatform, Plugin, Runtime } from "@reventless/core"
import { Faults, SliceSpec } from "@reventless/testing"
import { Effect, Layer, Option, Result, Schema } from "effect"
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
  ChangeProductDescription,
  ChangeProductDescriptionSlice,
  ChangeProductName,
  ChangeProductNameSlice,
  ChangeProductPrice,
  ChangeProductPriceSlice,
  Events,
  PriceMustBePositive,
  ProductExists,
  ProductIsWithdrawn,
  ProductNotFound,
  RenameCategory,
  RenameCategorySlice,
  WithdrawProduct,
  WithdrawProductSlice
} from "../src/index.ts"

const drinks = Events.CategoryAdded.make({ categoryId: "drinks", name: "Drinks" })
const tea = Events.ProductAdded.make({ productId: "tea", categoryId: "drinks", name: "Tea", description: "", price: 4 })
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

  it("a listed product's name, description and price change; the same value is a no-op; unknown and withdrawn products refuse", () => {
    const withdrawn = Events.ProductWithdrawn.make({ productId: "tea" })
    const rename = SliceSpec.make(ChangeProductNameSlice)
    rename.given(drinks, tea).when(ChangeProductName.make({ productId: "tea", name: "Green Tea" })).then(Events.ProductNameChanged.make({ productId: "tea", name: "Green Tea" }))
    rename.given(drinks, tea, Events.ProductNameChanged.make({ productId: "tea", name: "Green Tea" })).when(ChangeProductName.make({ productId: "tea", name: "Green Tea" })).then()
    rename.given().when(ChangeProductName.make({ productId: "tea", name: "Tea" })).thenRejects(new ProductNotFound({ productId: "tea" }))
    const describe = SliceSpec.make(ChangeProductDescriptionSlice)
    describe.given(drinks, tea).when(ChangeProductDescription.make({ productId: "tea", description: "Sencha" }))
      .then(Events.ProductDescriptionChanged.make({ productId: "tea", description: "Sencha" }))
    describe.given(drinks, tea).when(ChangeProductDescription.make({ productId: "tea", description: "" })).then()
    describe.given(drinks, tea, withdrawn).when(ChangeProductDescription.make({ productId: "tea", description: "Old" })).thenRejects(new ProductIsWithdrawn({ productId: "tea" }))
    const reprice = SliceSpec.make(ChangeProductPriceSlice)
    reprice.given(drinks, tea).when(ChangeProductPrice.make({ productId: "tea", price: 5 })).then(Events.ProductPriceChanged.make({ productId: "tea", price: 5 }))
    reprice.given(drinks, tea).when(ChangeProductPrice.make({ productId: "tea", price: 4 })).then()
    reprice.given(drinks, tea).when(ChangeProductPrice.make({ productId: "tea", price: -1 })).thenRejects(new PriceMustBePositive({ price: -1 }))
    reprice.given(drinks, tea, withdrawn).when(ChangeProductPrice.make({ productId: "tea", price: 5 })).thenRejects(new ProductIsWithdrawn({ productId: "tea" }))
  })

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

/** A stand-in for the hybrid Ordering plugin: it only publishes Ordering.Orders. */
const PlaceOrder = Schema.TaggedStruct("Place", { productIds: Schema.Array(Schema.String) })
const Placed = Schema.TaggedStruct("Placed", { productIds: Schema.Array(Schema.String) })
const OrderStub = Aggregate.make({
  name: "Order",
  command: PlaceOrder,
  event: Placed,
  rejection: Schema.Never,
  state: Schema.Boolean,
  initialState: false,
  evolve: () => true,
  decide: (_placed, command) => Result.succeed([Placed.make({ productIds: command.productIds })])
})
const Ordering = Plugin.make({
  name: "Ordering",
  heartbeatInterval: 5,
  aggregates: [OrderStub],
  extensionPoints: [ExtensionPoint.make({
    spec: Orders.OrdersExtensionPoint,
    delegate: OrderStub,
    mapOutgoingEvent: ({ id, value }) => value.productIds.map((productId) => ExtensionPoint.publishEvent(`${id}/${productId}`, Orders.ItemOrdered.make({ orderId: id, productId })))
  })]
})

describe("hybrid Catalog across plugins", () => {
  const shop = Runtime.layer({ plugins: [Catalog, Ordering] }).pipe(
    Layer.provideMerge(Faults.inject({ duplicateEvents: true, duplicateCommands: true })(MemoryPlatform.layer))
  )

  it.effect("a supplier feed adds products; Catalog.Products publishes from the DCB log, withdrawals included; orders record demand once", () =>
    Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      const store = yield* EventStore.EventStore
      yield* Runtime.executeSlice(AddCategorySlice, AddCategory.make({ categoryId: "drinks", name: "Drinks" }))
      yield* runtime.receive("ImportProduct", { sku: "tea", title: "Tea", categoryId: "drinks", unitPriceCents: 450, currency: "USD" }, { requestId: "feed-1" })
      const euro = yield* Effect.flip(runtime.receive("ImportProduct", { sku: "pot", title: "Pot", categoryId: "drinks", unitPriceCents: 3900, currency: "EUR" }))
      assert.strictEqual(euro._tag, "TranslationRefused")
      yield* runtime.awaitIdle
      assert.deepStrictEqual(yield* runtime.query("Products", "tea"), Option.some({ name: "Tea", description: "", categoryId: "drinks", price: 4.5, withdrawn: false }))

      yield* Runtime.execute(OrderStub, "o1", PlaceOrder.make({ productIds: ["tea"] }))
      yield* runtime.awaitIdle
      assert.deepStrictEqual(yield* runtime.query("ProductDemand", "tea"), Option.some({ orders: 1 }))

      yield* Runtime.executeSlice(WithdrawProductSlice, WithdrawProduct.make({ productId: "tea" }))
      yield* runtime.awaitIdle
      assert.deepStrictEqual((yield* store.readStream("Catalog.Products", "tea")).map((event) => (event.data as { _tag: string })._tag), [
        "ProductBecameAvailable",
        "ProductWithdrawn"
      ])
      assert.deepStrictEqual(yield* runtime.deadLetters.list(), [])
    }).pipe(Effect.provide(shop)))
})
