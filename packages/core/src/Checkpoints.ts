/**
 * Durable consumer checkpoints: for each consumer of the log (projection, mapping, side effect,
 * task), the position through which it has handled every event. Consumers resume after it.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Option } from "effect"
import type { Position } from "./Event.ts"
import type { InfrastructureError } from "./Errors.ts"

/**
 * @since 0.1.0
 * @category services
 */
export class Checkpoints extends Context.Service<Checkpoints, {
  /** The consumer's checkpoint; none for a consumer that never saved one (it decides where to start). */
  readonly load: (consumer: string) => Effect.Effect<Option.Option<Position>, InfrastructureError>
  readonly save: (consumer: string, position: Position) => Effect.Effect<void, InfrastructureError>
  readonly all: Effect.Effect<ReadonlyMap<string, Position>, InfrastructureError>
}>()("@reventless/core/Checkpoints") {}

/**
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<Checkpoints> = Layer.sync(Checkpoints, () => {
  const positions = new Map<string, Position>()
  return Checkpoints.of({
    load: (consumer) => Effect.sync(() => Option.fromUndefinedOr(positions.get(consumer))),
    save: (consumer, position) => Effect.sync(() => void positions.set(consumer, position)),
    all: Effect.sync(() => new Map(positions))
  })
})
