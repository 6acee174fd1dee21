/**
 * The email service the order confirmation uses. The memory implementation keeps an outbox that
 * tests and the demo read, and sends each idempotency key once, as a real provider's idempotency
 * header would: the side effect runs at least once, the email goes out once.
 */
import { Context, Effect, Layer, Schema } from "effect"

export class EmailFailed extends Schema.TaggedError<EmailFailed>()("EmailFailed", { to: Schema.String, reason: Schema.String }) {}

export interface OrderConfirmation {
  readonly to: string
  readonly orderId: string
  readonly productIds: ReadonlyArray<string>
  readonly idempotencyKey: string
}

export class EmailService extends Context.Service<EmailService, {
  readonly sendOrderConfirmation: (email: OrderConfirmation) => Effect.Effect<void, EmailFailed>
  /** What was sent, in order (the memory outbox). */
  readonly sent: Effect.Effect<ReadonlyArray<OrderConfirmation>>
}>()("@online-shop/ordering/EmailService") {}

export const layerMemory: Layer.Layer<EmailService> = Layer.sync(EmailService, () => {
  const outbox: Array<OrderConfirmation> = []
  const keys = new Set<string>()
  return EmailService.of({
    sendOrderConfirmation: (email) =>
      Effect.sync(() => {
        if (keys.has(email.idempotencyKey)) return
        keys.add(email.idempotencyKey)
        outbox.push(email)
      }),
    sent: Effect.sync(() => [...outbox])
  })
})
