/** Sends the order confirmation when an order is placed (the seed's Order_EmailNotification.res). */
import { QueryEngine, SideEffect } from "@reventless/core"
import { Effect, Option } from "effect"
import { Customers } from "../Customer/Customers.readModel.ts"
import { EmailService } from "../EmailService.ts"
import { OrderAggregate } from "./Order.behavior.ts"

export const OrderConfirmationEmail = SideEffect.make({
  name: "OrderConfirmationEmail",
  source: OrderAggregate,
  execute: ({ event, id, idempotencyKey }) => {
    if (event._tag !== "Placed") return Effect.void
    return Effect.gen(function*() {
      const customer = yield* QueryEngine.get(Customers, event.customerId)
      const to = Option.match(customer, { onNone: () => event.customerId, onSome: (row) => row.email })
      const email = yield* EmailService
      yield* email.sendOrderConfirmation({ to, orderId: id, productIds: event.productIds, idempotencyKey })
    })
  }
})
