import { describe, it } from "@effect/vitest"
import { DeciderSpec, Properties } from "@reventless/testing"
import { Schema } from "effect"
import { Order, OrderAggregate } from "../src/index.ts"

const address = { street: "1 Leaf Lane", city: "Teatown", postalCode: "12345", country: "NL" }
const queries = DeciderSpec.fixedQueries({
  Customers: {
    alice: { name: "Alice", email: "alice@example.com", address, active: true },
    carol: { name: "Carol", email: "carol@example.com", address: null, active: false }
  },
  CatalogProducts: { "tea-01": { name: "Green Tea", price: 4.9 }, "pot-01": { name: "Tea Pot", price: 39 } }
})
const spec = DeciderSpec.make(OrderAggregate, queries)
const place = Order.Place.make({ customerId: "alice", productIds: ["tea-01", "pot-01"], shippingAddress: address })
const placed = Order.Placed.make({ customerId: "alice", productIds: ["tea-01", "pot-01"], shippingAddress: address })
const placedWithoutAddress = Order.Placed.make({ customerId: "alice", productIds: ["tea-01"] })

describe("Order", () => {
  it("is placed for an active customer and known products", () => spec.given().when(place).then(placed))
  it("placing the same order again emits nothing; a different one is rejected", () => {
    spec.given(placed).when(place).then()
    spec.given(placed).when(Order.Place.make({ customerId: "alice", productIds: ["tea-01"] })).thenRejects(new Order.OrderAlreadyPlaced())
  })
  it("rejects unknown products and inactive or unknown customers", () => {
    spec.given().when(Order.Place.make({ customerId: "alice", productIds: ["tea-01", "mug-01"] })).thenRejects(new Order.UnknownProduct({ productId: "mug-01" }))
    spec.given().when(Order.Place.make({ customerId: "carol", productIds: ["tea-01"] })).thenRejects(
      new Order.CustomerNotActive({ customerId: "carol", reason: "deactivated" })
    )
    spec.given().when(Order.Place.make({ customerId: "dave", productIds: ["tea-01"] })).thenRejects(
      new Order.CustomerNotActive({ customerId: "dave", reason: "unknown" })
    )
  })
  it("ships to the address it was placed with, once", () => {
    spec.given(placed).when(Order.Ship.make({})).then(Order.Shipped.make({ shippingAddress: address }))
    spec.given(placed, Order.Shipped.make({ shippingAddress: address })).when(Order.Ship.make({})).then()
  })
  it("cannot ship without an address, and can still be cancelled", () => {
    spec.given(placedWithoutAddress).when(Order.Ship.make({})).thenRejects(new Order.NoShippingAddress())
    spec.given(placedWithoutAddress).when(Order.Cancel.make({ reason: "no address" })).then(
      Order.Cancelled.make({ reason: "no address", productIds: ["tea-01"] })
    )
  })
  it("a shipped order cannot be cancelled; a cancelled one cannot be shipped", () => {
    spec.given(placed, Order.Shipped.make({ shippingAddress: address })).when(Order.Cancel.make({ reason: "late" })).thenRejects(
      new Order.OrderAlreadyShipped()
    )
    spec.given(placed, Order.Cancelled.make({ reason: "x", productIds: ["tea-01", "pot-01"] })).when(Order.Ship.make({})).thenRejects(
      new Order.OrderWasCancelled()
    )
  })
  it("an order that was never placed cannot be shipped or cancelled", () => {
    spec.given().when(Order.Ship.make({})).thenRejects(new Order.OrderNotFound())
    spec.given().when(Order.Cancel.make({ reason: "x" })).thenRejects(new Order.OrderNotFound())
  })
  it.prop("replay is deterministic", [Schema.Array(Order.Command)], ([commands]) => Properties.replayIsDeterministic(OrderAggregate, commands, queries))
  it.prop("a repeated command emits nothing the second time", [Schema.Array(Order.Command), Order.Command], ([history, command]) =>
    Properties.repeatIsIdempotent(OrderAggregate, history, command, queries))
})
