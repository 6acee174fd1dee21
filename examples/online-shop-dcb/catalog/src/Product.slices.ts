/**
 * Product writes. AddProduct's decision spans two entities: the product (not added yet) and its
 * category (exists, not archived). Its append holds only if neither changed since the read, so an
 * archive racing an add cannot both succeed into a product in an archived category.
 */
import { StateChangeSlice } from "@reventless/core"
import { Result, Schema } from "effect"
import {
  CategoryAdded,
  CategoryArchived,
  ProductAdded,
  ProductDescriptionChanged,
  ProductNameChanged,
  ProductPriceChanged,
  ProductWithdrawn
} from "./events.ts"

export class ProductExists extends Schema.TaggedError<ProductExists>()("ProductExists", { productId: Schema.String }) {}
export class ProductNotFound extends Schema.TaggedError<ProductNotFound>()("ProductNotFound", { productId: Schema.String }) {}
export class ProductIsWithdrawn extends Schema.TaggedError<ProductIsWithdrawn>()("ProductIsWithdrawn", { productId: Schema.String }) {}
export class CategoryNotAvailable extends Schema.TaggedError<CategoryNotAvailable>()("CategoryNotAvailable", {
  categoryId: Schema.String,
  reason: Schema.Literals(["unknown", "archived"])
}) {}
export class PriceMustBePositive extends Schema.TaggedError<PriceMustBePositive>()("PriceMustBePositive", { price: Schema.Finite }) {}

interface Product {
  readonly withdrawn: boolean
  readonly name: string
  readonly description: string
  readonly price: number
}

/** What the product slices know, per entity (a query may bring in other products of the category). */
interface Known {
  readonly products: ReadonlyMap<string, Product>
  readonly categories: ReadonlyMap<string, "active" | "archived">
}
const empty: Known = { products: new Map(), categories: new Map() }
const Consumed = Schema.Union([CategoryAdded, CategoryArchived, ProductAdded, ProductNameChanged, ProductDescriptionChanged, ProductPriceChanged, ProductWithdrawn])

const withProduct = (state: Known, productId: string, change: (product: Product) => Product): Known => {
  const product = state.products.get(productId)
  return product === undefined ? state : { ...state, products: new Map([...state.products, [productId, change(product)]]) }
}

const evolve = (state: Known, event: typeof Consumed.Type): Known => {
  switch (event._tag) {
    case "CategoryAdded":
      return { ...state, categories: new Map([...state.categories, [event.categoryId, "active"]]) }
    case "CategoryArchived":
      return { ...state, categories: new Map([...state.categories, [event.categoryId, "archived"]]) }
    case "ProductAdded":
      return { ...state, products: new Map([...state.products, [event.productId, { withdrawn: false, name: event.name, description: event.description, price: event.price }]]) }
    case "ProductNameChanged":
      return withProduct(state, event.productId, (product) => ({ ...product, name: event.name }))
    case "ProductDescriptionChanged":
      return withProduct(state, event.productId, (product) => ({ ...product, description: event.description }))
    case "ProductPriceChanged":
      return withProduct(state, event.productId, (product) => ({ ...product, price: event.price }))
    case "ProductWithdrawn":
      return withProduct(state, event.productId, (product) => ({ ...product, withdrawn: true }))
  }
}

/** What every product slice decides on. */
const Products = StateChangeSlice.decisionModel({ consumedEvent: Consumed, initialState: empty, evolve })

export const AddProduct = Schema.TaggedStruct("AddProduct", {
  productId: Schema.NonEmptyString,
  categoryId: Schema.NonEmptyString,
  name: Schema.NonEmptyString,
  description: Schema.optionalKey(Schema.String),
  price: Schema.Finite
})
export const AddProductSlice = Products.make({
  name: "AddProduct",
  command: AddProduct,
  event: ProductAdded,
  rejection: Schema.Union([ProductExists, CategoryNotAvailable, PriceMustBePositive]),
  partition: "productId",
  decide: (state, command) => {
    if (state.products.has(command.productId)) return Result.fail(new ProductExists({ productId: command.productId }))
    const category = state.categories.get(command.categoryId)
    if (category !== "active") return Result.fail(new CategoryNotAvailable({ categoryId: command.categoryId, reason: category ?? "unknown" }))
    if (!(command.price > 0)) return Result.fail(new PriceMustBePositive({ price: command.price }))
    const { productId, categoryId, name, description = "", price } = command
    return Result.succeed([ProductAdded.make({ productId, categoryId, name, description, price })])
  }
})

/** A change of a listed product: unknown or withdrawn products refuse it; the same value is a no-op. */
const change = <Event>(
  state: Known,
  productId: string,
  unchanged: (product: Product) => boolean,
  event: () => Event
): Result.Result<ReadonlyArray<Event>, ProductNotFound | ProductIsWithdrawn> => {
  const product = state.products.get(productId)
  if (product === undefined) return Result.fail(new ProductNotFound({ productId }))
  if (product.withdrawn) return Result.fail(new ProductIsWithdrawn({ productId }))
  return Result.succeed(unchanged(product) ? [] : [event()])
}

export const ChangeProductName = Schema.TaggedStruct("ChangeProductName", { productId: Schema.NonEmptyString, name: Schema.NonEmptyString })
export const ChangeProductNameSlice = Products.make({
  name: "ChangeProductName",
  command: ChangeProductName,
  event: ProductNameChanged,
  rejection: Schema.Union([ProductNotFound, ProductIsWithdrawn]),
  decide: (state, { name, productId }) => change(state, productId, (product) => product.name === name, () => ProductNameChanged.make({ productId, name }))
})

export const ChangeProductDescription = Schema.TaggedStruct("ChangeProductDescription", { productId: Schema.NonEmptyString, description: Schema.String })
export const ChangeProductDescriptionSlice = Products.make({
  name: "ChangeProductDescription",
  command: ChangeProductDescription,
  event: ProductDescriptionChanged,
  rejection: Schema.Union([ProductNotFound, ProductIsWithdrawn]),
  decide: (state, { description, productId }) =>
    change(state, productId, (product) => product.description === description, () => ProductDescriptionChanged.make({ productId, description }))
})

export const ChangeProductPrice = Schema.TaggedStruct("ChangeProductPrice", { productId: Schema.NonEmptyString, price: Schema.Finite })
export const ChangeProductPriceSlice = Products.make({
  name: "ChangeProductPrice",
  command: ChangeProductPrice,
  event: ProductPriceChanged,
  rejection: Schema.Union([ProductNotFound, ProductIsWithdrawn, PriceMustBePositive]),
  decide: (state, { price, productId }) =>
    price > 0
      ? change(state, productId, (product) => product.price === price, () => ProductPriceChanged.make({ productId, price }))
      : Result.fail(new PriceMustBePositive({ price }))
})

export const WithdrawProduct = Schema.TaggedStruct("WithdrawProduct", { productId: Schema.NonEmptyString })
export const WithdrawProductSlice = Products.make({
  name: "WithdrawProduct",
  command: WithdrawProduct,
  event: ProductWithdrawn,
  rejection: ProductNotFound,
  decide: (state, { productId }) => {
    const product = state.products.get(productId)
    if (product === undefined) return Result.fail(new ProductNotFound({ productId }))
    return Result.succeed(product.withdrawn ? [] : [ProductWithdrawn.make({ productId })])
  }
})
