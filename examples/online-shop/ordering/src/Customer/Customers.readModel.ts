/** Customers: contact details and whether the account is active (Order.Place reads it). */
import { ReadModel } from "@reventless/core"
import { Schema } from "effect"
import { Address } from "./Customer.ts"
import { CustomerAggregate } from "./Customer.behavior.ts"

export const Row = Schema.Struct({ name: Schema.String, email: Schema.String, address: Schema.NullOr(Address), active: Schema.Boolean })
export type Row = typeof Row.Type

export const Customers = ReadModel.make({
  name: "Customers",
  row: Row,
  projections: [
    ReadModel.projection(CustomerAggregate, ({ event, id }): ReadModel.Action<Row> => {
      switch (event._tag) {
        case "Registered":
          return ReadModel.set(id, { name: event.name, email: event.email, address: event.address ?? null, active: true })
        case "EmailUpdated":
          return ReadModel.update(id, (row) => ({ ...row, email: event.email }))
        case "AddressUpdated":
          return ReadModel.update(id, (row) => ({ ...row, address: event.address }))
        case "Deactivated":
          return ReadModel.update(id, (row) => ({ ...row, active: false }))
      }
    })
  ]
})
