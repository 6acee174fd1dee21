/**
 * A plugin's DCB log as a source for consumers: read models (state-view slices), extension-point
 * mappings. Each consumer declares the events it reads from the log with its own schema, a typed
 * subset of what the plugin's slices produce; events it does not know are skipped.
 *
 * The log itself is named `<Plugin>.DcbEventLog` (`Plugin.dcbLog`) and lives in the plugin's event
 * store, in the same global order as its aggregate streams.
 *
 * @since 0.1.0
 */
import { Predicate, type Schema } from "effect"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId = "~@reventless/core/DcbEventLog" as const

/**
 * The events a consumer reads from its plugin's DCB log.
 *
 * @since 0.1.0
 * @category models
 */
export interface Source<Event> {
  readonly [TypeId]: typeof TypeId
  readonly name: "DcbEventLog"
  readonly event: Schema.Codec<Event, unknown>
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const source = <Event>(event: Schema.Codec<Event, unknown>): Source<Event> => ({ [TypeId]: TypeId, name: "DcbEventLog", event })

/**
 * @since 0.1.0
 * @category guards
 */
export const isSource = (u: unknown): u is Source<unknown> => Predicate.hasProperty(u, TypeId)
