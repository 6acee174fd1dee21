/**
 * Order behavior. Placing checks the customer (Customers) and every product (CatalogProducts,
 * the shadow of Catalog) through the QueryEngine; shipping needs an address; a shipped order
 * stays shipped.
 */
import { Aggregate, QueryEngine } from "@reventless/core"
import { Effect, Option, Result } from "effect"
import { CatalogProducts } from "../CatalogProduct/CatalogProducts.readModel.ts"
import { Customers } from "../Customer/Customers.readModel.ts"
import * as Order from "./Order.ts"

export const initialState: Order.State = Order.NotPlaced.make({})

export const evolve = (state: Order.State, event: Order.Event): Order.State => {
  switch (event._tag) {
    case "Placed": {
      const { _tag, ...fields } = event
      return Order.Open.make(fields)
    }
    case "Shipped":
      return state._tag === "Open" ? Order.Delivered.make({ customerId: state.customerId, productIds: state.productIds }) : state
    case "Cancelled":
      return state._tag === "Open" ? Order.Closed.make({ customerId: state.customerId, productIds: state.productIds }) : state
  }
}

const checkCustomer = (customerId: string) =>
  Effect.flatMap(QueryEngine.get(Customers, customerId), (customer) =>
    Option.match(customer, {
      onNone: () => Effect.fail(new Order.CustomerNotActive({ customerId, reason: "unknown" })),
      onSome: (row) => row.active ? Effect.void : Effect.fail(new Order.CustomerNotActive({ customerId, reason: "deactivated" }))
    }))

const checkProducts = (productIds: ReadonlyArray<string>) =>
  Effect.forEach(productIds, (productId) =>
    Effect.flatMap(QueryEngine.get(CatalogProducts, productId), (product) =>
      Option.isSome(product) ? Effect.void : Effect.fail(new Order.UnknownProduct({ productId }))), { discard: true })

const samePlacement = (state: { readonly customerId: string; readonly productIds: ReadonlyArray<string> }, command: typeof Order.Place.Type) =>
  state.customerId === command.customerId && state.productIds.join("\u0000") === command.productIds.join("\u0000")

export const decide = (state: Order.State, command: Order.Command): Aggregate.Decision<Order.Event, Order.Rejection> => {
  switch (command._tag) {
    case "Place": {
      if (state._tag !== "NotPlaced") return samePlacement(state, command) ? Result.succeed([]) : Result.fail(new Order.OrderAlreadyPlaced())
      const { _tag, ...fields } = command
      return Effect.as(Effect.andThen(checkCustomer(command.customerId), checkProducts(command.productIds)), [Order.Placed.make(fields)])
    }
    case "Ship":
      switch (state._tag) {
        case "NotPlaced":
          return Result.fail(new Order.OrderNotFound())
        case "Delivered":
          return Result.succeed([])
        case "Closed":
          return Result.fail(new Order.OrderWasCancelled())
        case "Open":
          return state.shippingAddress === undefined
            ? Result.fail(new Order.NoShippingAddress())
            : Result.succeed([Order.Shipped.make({ shippingAddress: state.shippingAddress })])
      }
    case "Cancel":
      switch (state._tag) {
        case "NotPlaced":
          return Result.fail(new Order.OrderNotFound())
        case "Delivered":
          return Result.fail(new Order.OrderAlreadyShipped())
        case "Closed":
          return Result.succeed([])
        case "Open":
          return Result.succeed([Order.Cancelled.make({ reason: command.reason, productIds: state.productIds })])
      }
  }
}

export const OrderAggregate = Aggregate.make({
  name: "Order",
  command: Order.Command,
  event: Order.Event,
  rejection: Order.Rejection,
  state: Order.State,
  initialState,
  evolve,
  decide
})
