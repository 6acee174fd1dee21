/**
 * Demand per product, fed by Ordering.Orders through the Orders extension: recorded once per
 * (product, order), revoked only if recorded. The slice's partition is the product.
 */
import { StateChangeSlice } from "@reventless/core"
import { Result, Schema } from "effect"
import { DemandRecorded, DemandRevoked } from "./events.ts"

const Consumed = Schema.Union([DemandRecorded, DemandRevoked])

export const RecordDemand = Schema.TaggedStruct("RecordDemand", { productId: Schema.NonEmptyString, orderId: Schema.NonEmptyString })
export const RevokeDemand = Schema.TaggedStruct("RevokeDemand", { productId: Schema.NonEmptyString, orderId: Schema.NonEmptyString })

/** The orders with open demand, per product (events of other products may come in by order). */
const evolve = (open: ReadonlySet<string>, event: typeof Consumed.Type): ReadonlySet<string> => {
  const key = `${event.productId}/${event.orderId}`
  return event._tag === "DemandRecorded" ? new Set([...open, key]) : new Set([...open].filter((k) => k !== key))
}

export const RecordProductDemandSlice = StateChangeSlice.make({
  name: "RecordProductDemand",
  command: Schema.Union([RecordDemand, RevokeDemand]),
  event: Schema.Union([DemandRecorded, DemandRevoked]),
  consumedEvent: Consumed,
  rejection: Schema.Never,
  partition: "productId",
  initialState: new Set<string>() as ReadonlySet<string>,
  evolve,
  decide: (open, command) => {
    const recorded = open.has(`${command.productId}/${command.orderId}`)
    if (command._tag === "RecordDemand") return Result.succeed(recorded ? [] : [DemandRecorded.make({ productId: command.productId, orderId: command.orderId })])
    return Result.succeed(recorded ? [DemandRevoked.make({ productId: command.productId, orderId: command.orderId })] : [])
  }
})
