/**
 * An event mapping routes a source aggregate's events to commands on the same or another
 * aggregate of the plugin, by name (the seed's `<Entity>_Mappings.res`). It is stateless; every
 * derived command gets a deterministic message id (source event id, mapping name, index), so
 * redelivering an event never issues a command twice.
 *
 * @since 0.1.0
 */
import type { Effect } from "effect"
import type * as Aggregate from "./Aggregate.ts"
import type { Meta } from "./Message.ts"
import type { QueryEngine } from "./QueryEngine.ts"

/**
 * A command for an aggregate instance, addressed by the aggregate's name.
 *
 * @since 0.1.0
 * @category models
 */
export interface Publish {
  readonly target: Aggregate.Any
  readonly id: string
  readonly command: unknown
}

/**
 * @since 0.1.0
 * @category models
 */
export interface MapInput<Event> {
  readonly event: Event
  readonly id: string
  readonly meta: Meta
}

/**
 * @since 0.1.0
 * @category models
 */
export type MapResult = ReadonlyArray<Publish> | Effect.Effect<ReadonlyArray<Publish>, never, QueryEngine>

/**
 * @since 0.1.0
 * @category models
 */
export interface EventMapping {
  readonly name: string
  readonly source: Aggregate.Any
  /** The aggregates it may command; the plugin checks that they exist. */
  readonly targets: ReadonlyArray<Aggregate.Any>
  map(input: MapInput<unknown>): MapResult
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = <Event>(options: {
  readonly name: string
  readonly source: Aggregate.Aggregate<string, unknown, unknown, Event, unknown>
  readonly targets: ReadonlyArray<Aggregate.Any>
  readonly map: (input: MapInput<Event>) => MapResult
}): EventMapping => ({
  name: options.name,
  source: options.source as Aggregate.Any,
  targets: options.targets,
  map: options.map as (input: MapInput<unknown>) => MapResult
})

/**
 * A command for `target`'s instance `id`, typed by the target's command schema.
 *
 * @since 0.1.0
 * @category constructors
 */
export const publish = <Command>(
  target: Aggregate.Aggregate<string, unknown, Command, unknown, unknown>,
  id: string,
  command: Command
): Publish => ({ target: target as Aggregate.Any, id, command })
