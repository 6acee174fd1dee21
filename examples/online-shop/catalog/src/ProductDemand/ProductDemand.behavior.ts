/** ProductDemand behavior: record once per order, revoke only what was recorded. */
import { Aggregate } from "@reventless/core"
import { Result } from "effect"
import * as ProductDemand from "./ProductDemand.ts"

export const initialState: ProductDemand.State = { recorded: [], revoked: [] }

export const evolve = (state: ProductDemand.State, event: ProductDemand.Event): ProductDemand.State => {
  switch (event._tag) {
    case "Recorded":
      return { ...state, recorded: [...state.recorded, event.orderId] }
    case "Revoked":
      return { recorded: state.recorded.filter((orderId) => orderId !== event.orderId), revoked: [...state.revoked, event.orderId] }
  }
}

export const decide = (
  state: ProductDemand.State,
  command: ProductDemand.Command
): Result.Result<ReadonlyArray<ProductDemand.Event>, ProductDemand.Rejection> => {
  switch (command._tag) {
    case "Record":
      return Result.succeed(state.recorded.includes(command.orderId) || state.revoked.includes(command.orderId) ? [] : [ProductDemand.Recorded.make({ orderId: command.orderId })])
    case "Revoke":
      if (state.revoked.includes(command.orderId)) return Result.succeed([])
      if (!state.recorded.includes(command.orderId)) return Result.fail(new ProductDemand.DemandNotRecorded({ orderId: command.orderId }))
      return Result.succeed([ProductDemand.Revoked.make({ orderId: command.orderId })])
  }
}

export const ProductDemandAggregate = Aggregate.make({
  name: "ProductDemand",
  command: ProductDemand.Command,
  event: ProductDemand.Event,
  rejection: ProductDemand.Rejection,
  state: ProductDemand.State,
  initialState,
  evolve,
  decide
})
