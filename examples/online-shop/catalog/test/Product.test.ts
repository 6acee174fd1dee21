import { describe, it } from "@effect/vitest"
import { DeciderSpec, Properties } from "@reventless/testing"
import { QueryEngine } from "@reventless/core"
import { Effect, Layer, Option, Schema } from "effect"
import { Product, ProductAggregate } from "../src/index.ts"

const spec = DeciderSpec.make(ProductAggregate)
const added = Product.Added.make({ name: "Tea", description: "Green", price: 4 })

describe("Product", () => {
  it("is added once", () => spec.given().when(Product.Add.make({ name: "Tea", description: "Green", price: 4 })).then(added))
  it("cannot be added twice", () => spec.given(added).when(Product.Add.make({ name: "Tea", description: "Green", price: 4 })).thenRejects(new Product.ProductAlreadyExists()))
  it("needs a positive price", () => spec.given().when(Product.Add.make({ name: "Tea", description: "", price: 0 })).thenRejects(new Product.PriceMustBePositive({ price: 0 })))
  it("an unchanged name emits nothing", () => spec.given(added).when(Product.UpdateName.make({ name: "Tea" })).then())
  it("a new price is recorded", () => spec.given(added).when(Product.UpdatePrice.make({ price: 5 })).then(Product.PriceUpdated.make({ price: 5 })))
  it("updates need the product", () => spec.given().when(Product.UpdateDescription.make({ description: "x" })).thenRejects(new Product.ProductNotFound()))

  const categories = (rows: Record<string, { name: string; archived: boolean }>) =>
    Layer.succeed(QueryEngine.QueryEngine, QueryEngine.QueryEngine.of({
      get: (_readModel, id) => Effect.succeed(Option.fromUndefinedOr(rows[id]) as Option.Option<never>),
      list: () => Effect.succeed({ items: [], next: Option.none() })
    }))
  it("is added into an active category only", () => {
    const add = Product.Add.make({ name: "Tea", description: "", price: 4, categoryId: "drinks" })
    DeciderSpec.make(ProductAggregate, categories({ drinks: { name: "Drinks", archived: false } })).given().when(add)
      .then(Product.Added.make({ name: "Tea", description: "", price: 4, categoryId: "drinks" }))
    DeciderSpec.make(ProductAggregate, categories({ drinks: { name: "Drinks", archived: true } })).given().when(add)
      .thenRejects(new Product.CategoryNotAvailable({ categoryId: "drinks", reason: "archived" }))
    DeciderSpec.make(ProductAggregate, categories({})).given().when(add)
      .thenRejects(new Product.CategoryNotAvailable({ categoryId: "drinks", reason: "unknown" }))
  })

  it.prop("replaying emitted events rebuilds the state; decide never throws", [Schema.Array(Product.Command)], ([commands]) =>
    Properties.replayIsDeterministic(ProductAggregate, commands))
  it.prop("repeating an update emits nothing", [Schema.Array(Product.Command), Schema.Union([Product.UpdateName, Product.UpdateDescription, Product.UpdatePrice])], ([history, update]) =>
    Properties.repeatIsIdempotent(ProductAggregate, [Product.Add.make({ name: "a", description: "", price: 1 }), ...history], update))
})
