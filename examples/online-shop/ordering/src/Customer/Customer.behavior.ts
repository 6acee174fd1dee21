/** Customer behavior: register once, update while active, deactivate for good. */
import { Aggregate } from "@reventless/core"
import { Result } from "effect"
import * as Customer from "./Customer.ts"

export const initialState: Customer.State = Customer.Unregistered.make({})

export const evolve = (state: Customer.State, event: Customer.Event): Customer.State => {
  switch (event._tag) {
    case "Registered": {
      const { _tag, ...fields } = event
      return Customer.Active.make(fields)
    }
    case "EmailUpdated":
      return state._tag === "Active" ? { ...state, email: event.email } : state
    case "AddressUpdated":
      return state._tag === "Active" ? { ...state, address: event.address } : state
    case "Deactivated":
      return Customer.Inactive.make({})
  }
}

const sameAddress = (a: Customer.Address | undefined, b: Customer.Address) =>
  a !== undefined && a.street === b.street && a.city === b.city && a.postalCode === b.postalCode && a.country === b.country

export const decide = (state: Customer.State, command: Customer.Command): Result.Result<ReadonlyArray<Customer.Event>, Customer.Rejection> => {
  if (command._tag === "Register") {
    if (state._tag !== "Unregistered") return Result.fail(new Customer.CustomerAlreadyRegistered())
    const { _tag, ...fields } = command
    return Result.succeed([Customer.Registered.make(fields)])
  }
  if (state._tag === "Unregistered") return Result.fail(new Customer.CustomerNotFound())
  if (command._tag === "Deactivate") return Result.succeed(state._tag === "Inactive" ? [] : [Customer.Deactivated.make({})])
  if (state._tag === "Inactive") return Result.fail(new Customer.CustomerDeactivated())
  switch (command._tag) {
    case "UpdateEmail":
      return Result.succeed(command.email === state.email ? [] : [Customer.EmailUpdated.make({ email: command.email })])
    case "UpdateAddress":
      return Result.succeed(sameAddress(state.address, command.address) ? [] : [Customer.AddressUpdated.make({ address: command.address })])
  }
}

export const CustomerAggregate = Aggregate.make({
  name: "Customer",
  command: Customer.Command,
  event: Customer.Event,
  rejection: Customer.Rejection,
  state: Customer.State,
  initialState,
  evolve,
  decide
})
