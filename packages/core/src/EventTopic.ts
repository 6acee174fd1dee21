/**
 * Wakes the consumers of the log. Consumers pull events from the `EventStore` after their durable
 * checkpoint (`Checkpoints`); this service only tells them that there is something new, so a lost
 * wake-up delays a consumer but never loses an event.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import type { InfrastructureError } from "./Errors.ts"
import type { Position } from "./Event.ts"
import { LogSignal } from "./internal/logSignal.ts"

/**
 * @since 0.1.0
 * @category services
 */
export class EventTopic extends Context.Service<EventTopic, {
  /** Completes once the log has (or may have) an event after `position`. */
  readonly awaitAfter: (position: Position) => Effect.Effect<void, InfrastructureError>
}>()("@reventless/core/EventTopic") {}

/**
 * In-process wake-ups from the memory EventStore.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<EventTopic, never, LogSignal> = Layer.effect(
  EventTopic,
  Effect.map(Effect.service(LogSignal), (signal) => EventTopic.of({ awaitAfter: signal.awaitAfter }))
)
