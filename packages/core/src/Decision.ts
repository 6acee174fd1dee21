/**
 * What a decider answers a command with, the same for aggregates and state-change slices: the
 * events to append, or a rejection. The Effect form may query (`QueryEngine`); a query's
 * `InfrastructureError` is no rejection: the command is tried again on the transient schedule
 * (when the error is retryable), then parked.
 *
 * @since 0.1.0
 */
import { Effect, Result } from "effect"
import type { InfrastructureError } from "./Errors.ts"
import type { QueryEngine } from "./QueryEngine.ts"

/**
 * @since 0.1.0
 * @category models
 */
export type Decision<Event, Rejection> =
  | Result.Result<ReadonlyArray<Event>, Rejection>
  | Effect.Effect<ReadonlyArray<Event>, Rejection | InfrastructureError, QueryEngine>

/**
 * A decision as an Effect, whichever form it took.
 *
 * @since 0.1.0
 * @category combinators
 */
export const toEffect = <Event, Rejection>(
  decision: Decision<Event, Rejection>
): Effect.Effect<ReadonlyArray<Event>, Rejection | InfrastructureError, QueryEngine> => Result.isResult(decision) ? Effect.fromResult(decision) : decision
