/** ProductDemand: per-product order demand, fed by Ordering's extension point (no UI commands). */
import { Schema } from "effect"

export const Record = Schema.TaggedStruct("Record", { orderId: Schema.NonEmptyString })
export const Revoke = Schema.TaggedStruct("Revoke", { orderId: Schema.NonEmptyString })
export const Command = Schema.Union([Record, Revoke])
export type Command = typeof Command.Type

export const Recorded = Schema.TaggedStruct("Recorded", { orderId: Schema.String })
export const Revoked = Schema.TaggedStruct("Revoked", { orderId: Schema.String })
export const Event = Schema.Union([Recorded, Revoked])
export type Event = typeof Event.Type

export class DemandNotRecorded extends Schema.TaggedError<DemandNotRecorded>()("DemandNotRecorded", { orderId: Schema.String }) {}
export const Rejection = DemandNotRecorded
export type Rejection = DemandNotRecorded

export const State = Schema.Struct({ recorded: Schema.Array(Schema.String), revoked: Schema.Array(Schema.String) })
export type State = typeof State.Type
