/** CatalogProduct behavior: a replica, so a command that changes nothing emits nothing. */
import { Aggregate } from "@reventless/core"
import { Result } from "effect"
import * as CatalogProduct from "./CatalogProduct.ts"

export const initialState: CatalogProduct.State = CatalogProduct.Unknown.make({})

export const evolve = (state: CatalogProduct.State, event: CatalogProduct.Event): CatalogProduct.State => {
  switch (event._tag) {
    case "Synced":
      return CatalogProduct.Known.make({ name: event.name, price: event.price })
    case "PriceUpdated":
      return state._tag === "Known" ? { ...state, price: event.price } : state
  }
}

export const decide = (
  state: CatalogProduct.State,
  command: CatalogProduct.Command
): Result.Result<ReadonlyArray<CatalogProduct.Event>, CatalogProduct.Rejection> => {
  switch (command._tag) {
    case "Sync":
      return Result.succeed(
        state._tag === "Known" && state.name === command.name && state.price === command.price
          ? []
          : [CatalogProduct.Synced.make({ name: command.name, price: command.price })]
      )
    case "UpdatePrice":
      if (state._tag === "Unknown") return Result.fail(new CatalogProduct.ProductNotSynced())
      return Result.succeed(state.price === command.price ? [] : [CatalogProduct.PriceUpdated.make({ price: command.price })])
  }
}

export const CatalogProductAggregate = Aggregate.make({
  name: "CatalogProduct",
  command: CatalogProduct.Command,
  event: CatalogProduct.Event,
  rejection: CatalogProduct.Rejection,
  state: CatalogProduct.State,
  initialState,
  evolve,
  decide
})
