/**
 * A side effect does imperative work (send an email, call an API) when a source aggregate emits
 * an event, and produces no events or commands. It is hosted on a task, runs at least once with
 * retries, and receives a stable idempotency key (source event id plus side effect name) to pass
 * to the outside service, which makes "at least once" safe.
 *
 * @since 0.1.0
 */
import type { Effect } from "effect"
import type * as Aggregate from "./Aggregate.ts"
import type { Meta } from "./Message.ts"
import type { QueryEngine } from "./QueryEngine.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface ExecuteInput<Event> {
  readonly event: Event
  readonly id: string
  readonly meta: Meta
  readonly idempotencyKey: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface SideEffect<R> {
  readonly name: string
  readonly source: Aggregate.Any
  execute(input: ExecuteInput<unknown>): Effect.Effect<void, unknown, R | QueryEngine>
}

/**
 * Builds a side effect. It may read read models through the QueryEngine, which the runtime
 * provides; any other service it needs becomes a requirement of its plugin.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <Event, E, R>(options: {
  readonly name: string
  readonly source: Aggregate.Aggregate<string, unknown, unknown, Event, unknown>
  readonly execute: (input: ExecuteInput<Event>) => Effect.Effect<void, E, R>
}): SideEffect<Exclude<R, QueryEngine>> => ({
  name: options.name,
  source: options.source as Aggregate.Any,
  execute: options.execute as (input: ExecuteInput<unknown>) => Effect.Effect<void, unknown, Exclude<R, QueryEngine> | QueryEngine>
})
