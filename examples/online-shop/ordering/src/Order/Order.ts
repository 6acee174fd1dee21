/** Order: a purchase of catalog products by a customer. Placed, then shipped or cancelled. */
import { Schema } from "effect"
import { Address } from "../Customer/Customer.ts"

export const ProductIds = Schema.NonEmptyArray(Schema.NonEmptyString)

export const Place = Schema.TaggedStruct("Place", {
  customerId: Schema.NonEmptyString,
  productIds: ProductIds,
  shippingAddress: Schema.optionalKey(Address)
})
export const Ship = Schema.TaggedStruct("Ship", {})
export const Cancel = Schema.TaggedStruct("Cancel", { reason: Schema.String })
export const Command = Schema.Union([Place, Ship, Cancel])
export type Command = typeof Command.Type

export const Placed = Schema.TaggedStruct("Placed", {
  customerId: Schema.String,
  productIds: ProductIds,
  shippingAddress: Schema.optionalKey(Address)
})
export const Shipped = Schema.TaggedStruct("Shipped", { shippingAddress: Address })
export const Cancelled = Schema.TaggedStruct("Cancelled", { reason: Schema.String, productIds: ProductIds })
export const Event = Schema.Union([Placed, Shipped, Cancelled])
export type Event = typeof Event.Type

export class OrderAlreadyPlaced extends Schema.TaggedError<OrderAlreadyPlaced>()("OrderAlreadyPlaced", {}) {}
export class OrderNotFound extends Schema.TaggedError<OrderNotFound>()("OrderNotFound", {}) {}
export class NoShippingAddress extends Schema.TaggedError<NoShippingAddress>()("NoShippingAddress", {}) {}
export class OrderAlreadyShipped extends Schema.TaggedError<OrderAlreadyShipped>()("OrderAlreadyShipped", {}) {}
export class OrderWasCancelled extends Schema.TaggedError<OrderWasCancelled>()("OrderWasCancelled", {}) {}
export class UnknownProduct extends Schema.TaggedError<UnknownProduct>()("UnknownProduct", { productId: Schema.String }) {}
export class CustomerNotActive extends Schema.TaggedError<CustomerNotActive>()("CustomerNotActive", {
  customerId: Schema.String,
  reason: Schema.Literals(["unknown", "deactivated"])
}) {}
export const Rejection = Schema.Union([
  OrderAlreadyPlaced,
  OrderNotFound,
  NoShippingAddress,
  OrderAlreadyShipped,
  OrderWasCancelled,
  UnknownProduct,
  CustomerNotActive
])
export type Rejection = typeof Rejection.Type

export const NotPlaced = Schema.TaggedStruct("NotPlaced", {})
export const Open = Schema.TaggedStruct("Open", { customerId: Schema.String, productIds: ProductIds, shippingAddress: Schema.optionalKey(Address) })
export const Delivered = Schema.TaggedStruct("Delivered", { customerId: Schema.String, productIds: ProductIds })
export const Closed = Schema.TaggedStruct("Closed", { customerId: Schema.String, productIds: ProductIds })
export const State = Schema.Union([NotPlaced, Open, Delivered, Closed])
export type State = typeof State.Type
