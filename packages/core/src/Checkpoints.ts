/**
 * Durable consumer checkpoints: for each consumer of the log (projection, mapping, side effect,
 * task), the position through which it has handled every event. Consumers resume after it. A
 * checkpoint moves only under its consumer's lease (`Leases`), checked in the same step as the
 * write, and only forward.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Option } from "effect"
import type { Position } from "./Event.ts"
import type { InfrastructureError, LeaseLost } from "./Errors.ts"
import * as Fence from "./internal/fence.ts"
import { LeaseTable } from "./internal/leaseTable.ts"
import type { Lease } from "./Leases.ts"

/**
 * @since 0.1.0
 * @category services
 */
export class Checkpoints extends Context.Service<Checkpoints, {
  /** The consumer's checkpoint; none for a consumer that never saved one (it decides where to start). */
  readonly load: (consumer: string) => Effect.Effect<Option.Option<Position>, InfrastructureError>
  /**
   * Moves the checkpoint of the consumer `lease.name` to `position`, only while `lease` is still
   * its owner's (else `LeaseLost`, nothing written) and never backward (a non-retryable error).
   */
  readonly save: (lease: Lease, position: Position) => Effect.Effect<void, InfrastructureError | LeaseLost>
  readonly all: Effect.Effect<ReadonlyMap<string, Position>, InfrastructureError>
}>()("@reventless/core/Checkpoints") {}

/**
 * The error of a checkpoint that would move backward: a consumer's bug, never retried.
 *
 * @since 0.1.0
 * @category errors
 */
export const backward: (consumer: string, position: Position) => InfrastructureError = Fence.backward

/**
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<Checkpoints, never, LeaseTable> = Layer.effect(
  Checkpoints,
  Effect.map(Effect.service(LeaseTable), (table) =>
    Checkpoints.of({
      load: (consumer) => Effect.sync(() => Option.fromUndefinedOr(table.positions.get(consumer))),
      save: (lease, position) => Fence.fenced(table, lease, position),
      all: Effect.sync(() => new Map(table.positions))
    }))
)
