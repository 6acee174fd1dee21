/** Customer: a registered buyer with contact details and account status. */
import { Schema } from "effect"

export const Address = Schema.Struct({
  street: Schema.NonEmptyString,
  city: Schema.NonEmptyString,
  postalCode: Schema.NonEmptyString,
  country: Schema.NonEmptyString
})
export type Address = typeof Address.Type

export const Email = Schema.String.check(Schema.isPattern(/^[^@\s]+@[^@\s]+$/))

export const Register = Schema.TaggedStruct("Register", { name: Schema.NonEmptyString, email: Email, address: Schema.optionalKey(Address) })
export const UpdateEmail = Schema.TaggedStruct("UpdateEmail", { email: Email })
export const UpdateAddress = Schema.TaggedStruct("UpdateAddress", { address: Address })
export const Deactivate = Schema.TaggedStruct("Deactivate", {})
export const Command = Schema.Union([Register, UpdateEmail, UpdateAddress, Deactivate])
export type Command = typeof Command.Type

export const Registered = Schema.TaggedStruct("Registered", { name: Schema.String, email: Schema.String, address: Schema.optionalKey(Address) })
export const EmailUpdated = Schema.TaggedStruct("EmailUpdated", { email: Schema.String })
export const AddressUpdated = Schema.TaggedStruct("AddressUpdated", { address: Address })
export const Deactivated = Schema.TaggedStruct("Deactivated", {})
export const Event = Schema.Union([Registered, EmailUpdated, AddressUpdated, Deactivated])
export type Event = typeof Event.Type

export class CustomerAlreadyRegistered extends Schema.TaggedError<CustomerAlreadyRegistered>()("CustomerAlreadyRegistered", {}) {}
export class CustomerNotFound extends Schema.TaggedError<CustomerNotFound>()("CustomerNotFound", {}) {}
export class CustomerDeactivated extends Schema.TaggedError<CustomerDeactivated>()("CustomerDeactivated", {}) {}
export const Rejection = Schema.Union([CustomerAlreadyRegistered, CustomerNotFound, CustomerDeactivated])
export type Rejection = typeof Rejection.Type

export const Unregistered = Schema.TaggedStruct("Unregistered", {})
export const Active = Schema.TaggedStruct("Active", { name: Schema.String, email: Schema.String, address: Schema.optionalKey(Address) })
export const Inactive = Schema.TaggedStruct("Inactive", {})
export const State = Schema.Union([Unregistered, Active, Inactive])
export type State = typeof State.Type
