/**
 * What happens after an order is placed, as TODO lists the platform keeps: Express orders ship
 * themselves (Standard ones wait for a ShipOrder), and every order gets a confirmation email.
 */
import { Customers, EmailService } from "@online-shop/ordering"
import { AutomationSlice, DcbEventLog, OutboundTranslationSlice, QueryEngine } from "@reventless/core"
import { Effect, Option, Schema } from "effect"
import { OrderCancelled, OrderPlaced, OrderShipped } from "./events.ts"
import { ShipOrder, ShipOrderSlice } from "./Order.slices.ts"

const OrderItem = Schema.Struct({ orderId: Schema.String })

/** An Express order is shipped at the next sweep; shipping or cancelling it by hand ticks it off. */
export const AutoShipOrder = AutomationSlice.make({
  name: "AutoShipOrder",
  todoItem: OrderItem,
  source: DcbEventLog.source(Schema.Union([OrderPlaced, OrderShipped, OrderCancelled])),
  target: ShipOrderSlice,
  collect: ({ event }) => event._tag === "OrderPlaced" && event.shippingMethod === "Express" ? [[event.orderId, { orderId: event.orderId }]] : [],
  resolve: ({ event }) => event._tag === "OrderPlaced" ? undefined : event.orderId,
  process: (_id, item) => ({ command: ShipOrder.make({ orderId: item.orderId }) }),
  maxRetries: 3,
  heartbeatInterval: 2
})

const Confirmation = Schema.Struct({ orderId: Schema.String, customerId: Schema.String, productIds: Schema.Array(Schema.String) })

/** Fire and forget: the email provider's answer brings no command back. */
export const SendOrderConfirmation = OutboundTranslationSlice.make({
  name: "SendOrderConfirmation",
  outboundItem: Confirmation,
  source: DcbEventLog.source(OrderPlaced),
  externalSystem: "EmailService",
  collect: ({ event }) => [[event.orderId, { orderId: event.orderId, customerId: event.customerId, productIds: event.productIds }]],
  translate: (id, item) =>
    Effect.gen(function*() {
      const customer = yield* QueryEngine.get(Customers, item.customerId)
      const email = yield* EmailService.EmailService
      yield* email.sendOrderConfirmation({
        to: Option.match(customer, { onNone: () => item.customerId, onSome: (row) => row.email }),
        orderId: item.orderId,
        productIds: item.productIds,
        idempotencyKey: `SendOrderConfirmation:${id}`
      })
      return undefined
    }),
  maxRetries: 5,
  heartbeatInterval: 2
})
