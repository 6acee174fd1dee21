/**
 * A state-view slice (DCB read side): a read model fed by the plugin's DCB log. It declares the
 * events it reads with its own schema (a subset of what the slices produce; others are skipped)
 * and projects them with the same actions as any read model (Set / Update / UpdateWithDefault /
 * Delete), checkpointed the same way. The stream variant also publishes its row changes to live
 * watchers (`Runtime.watch`).
 *
 * @since 0.1.0
 */
import type { Schema } from "effect"
import * as DcbEventLog from "./DcbEventLog.ts"
import * as ReadModel from "./ReadModel.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options<Name extends string, Row, Event> {
  readonly name: Name
  readonly row: Schema.Codec<Row, unknown>
  readonly consumedEvent: Schema.Codec<Event, unknown>
  readonly project: (input: ReadModel.ProjectionInput<Event>) => ReadModel.Action<Row> | ReadonlyArray<ReadModel.Action<Row>>
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = <const Name extends string, Row, Event>(options: Options<Name, Row, Event>): ReadModel.ReadModel<Name, Row> =>
  ReadModel.make({ name: options.name, row: options.row, projections: [ReadModel.projection(DcbEventLog.source(options.consumedEvent), options.project)] })

/**
 * A state-view slice whose row changes can also be watched as a stream.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeStream = <const Name extends string, Row, Event>(options: Options<Name, Row, Event>): ReadModel.ReadModel<Name, Row> =>
  ReadModel.makeStream({ name: options.name, row: options.row, projections: [ReadModel.projection(DcbEventLog.source(options.consumedEvent), options.project)] })
