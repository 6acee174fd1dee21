/** Product behavior: the seed's Product_Behavior.res, plus price and category rules. */
import { Aggregate, QueryEngine } from "@reventless/core"
import { Effect, Option, Result } from "effect"
import { Categories } from "../Category/Categories.readModel.ts"
import * as Product from "./Product.ts"

export const initialState: Product.State = Product.NotCreated.make({})

export const evolve = (state: Product.State, event: Product.Event): Product.State => {
  switch (event._tag) {
    case "Added":
      return Product.Created.make({ name: event.name, description: event.description, price: event.price })
    case "NameUpdated":
      return state._tag === "Created" ? { ...state, name: event.name } : state
    case "DescriptionUpdated":
      return state._tag === "Created" ? { ...state, description: event.description } : state
    case "PriceUpdated":
      return state._tag === "Created" ? { ...state, price: event.price } : state
  }
}

const positive = (price: number) => price > 0 ? Result.succeed(price) : Result.fail(new Product.PriceMustBePositive({ price }))

/** Adding into a category needs the category to exist and be active: a read of Categories. */
const checkCategory = (categoryId: string) =>
  Effect.flatMap(QueryEngine.get(Categories, categoryId), (category) =>
    Option.match(category, {
      onNone: () => Effect.fail(new Product.CategoryNotAvailable({ categoryId, reason: "unknown" })),
      onSome: (row) => row.archived ? Effect.fail(new Product.CategoryNotAvailable({ categoryId, reason: "archived" })) : Effect.void
    }))

export const decide = (state: Product.State, command: Product.Command): Aggregate.Decision<Product.Event, Product.Rejection> => {
  switch (command._tag) {
    case "Add": {
      if (state._tag === "Created") return Result.fail(new Product.ProductAlreadyExists())
      const price = positive(command.price)
      if (Result.isFailure(price)) return Result.fail(price.failure)
      const { _tag, ...fields } = command
      const added = Product.Added.make(fields)
      return command.categoryId === undefined ? Result.succeed([added]) : Effect.as(checkCategory(command.categoryId), [added])
    }
    case "UpdateName":
      if (state._tag === "NotCreated") return Result.fail(new Product.ProductNotFound())
      return Result.succeed(command.name === state.name ? [] : [Product.NameUpdated.make({ name: command.name })])
    case "UpdateDescription":
      if (state._tag === "NotCreated") return Result.fail(new Product.ProductNotFound())
      return Result.succeed(command.description === state.description ? [] : [Product.DescriptionUpdated.make({ description: command.description })])
    case "UpdatePrice": {
      if (state._tag === "NotCreated") return Result.fail(new Product.ProductNotFound())
      if (command.price === state.price) return Result.succeed([])
      return Result.map(positive(command.price), (price) => [Product.PriceUpdated.make({ price })])
    }
  }
}

export const ProductAggregate = Aggregate.make({
  name: "Product",
  command: Product.Command,
  event: Product.Event,
  rejection: Product.Rejection,
  state: Product.State,
  initialState,
  evolve,
  decide
})
