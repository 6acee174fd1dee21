import { describe, it } from "@effect/vitest"
import { DeciderSpec, Properties } from "@reventless/testing"
import { Schema } from "effect"
import { Customer, CustomerAggregate } from "../src/index.ts"

const spec = DeciderSpec.make(CustomerAggregate)
const address = { street: "1 Leaf Lane", city: "Teatown", postalCode: "12345", country: "NL" }
const registered = Customer.Registered.make({ name: "Alice", email: "alice@example.com" })

describe("Customer", () => {
  it("registers once", () =>
    spec.given().when(Customer.Register.make({ name: "Alice", email: "alice@example.com" })).then(registered))
  it("cannot register twice", () =>
    spec.given(registered).when(Customer.Register.make({ name: "Al", email: "al@example.com" })).thenRejects(new Customer.CustomerAlreadyRegistered()))
  it("an unchanged email emits nothing", () => spec.given(registered).when(Customer.UpdateEmail.make({ email: "alice@example.com" })).then())
  it("records a new address", () =>
    spec.given(registered).when(Customer.UpdateAddress.make({ address })).then(Customer.AddressUpdated.make({ address })))
  it("updates need a registered customer", () =>
    spec.given().when(Customer.UpdateEmail.make({ email: "x@example.com" })).thenRejects(new Customer.CustomerNotFound()))
  it("a deactivated customer cannot be changed, and deactivating again emits nothing", () => {
    spec.given(registered, Customer.Deactivated.make({})).when(Customer.UpdateAddress.make({ address })).thenRejects(new Customer.CustomerDeactivated())
    spec.given(registered, Customer.Deactivated.make({})).when(Customer.Deactivate.make({})).then()
  })
  it.prop("replay is deterministic", [Schema.Array(Customer.Command)], ([commands]) => Properties.replayIsDeterministic(CustomerAggregate, commands))
  it.prop("a repeated command emits nothing the second time", [Schema.Array(Customer.Command), Customer.Command], ([history, command]) =>
    Properties.repeatIsIdempotent(CustomerAggregate, history, command))
})
