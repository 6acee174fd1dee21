/**
 * A read model: rows of one schema, kept up to date by projections of the events of one or more
 * source components. Each projection maps an event to actions on rows, as in the seed's
 * `<Name>_Projections.res`: Set, Update, UpdateWithDefault, Delete or Ignore.
 *
 * A `ReadModelStream` is projected the same way and also publishes every row change as a stream
 * that clients can watch (the seed's stream-fed read model, serving subscriptions).
 *
 * @since 0.1.0
 */
import { Predicate, type Schema } from "effect"
import type * as Aggregate from "./Aggregate.ts"
import type * as DcbEventLog from "./DcbEventLog.ts"
import type { Position } from "./Event.ts"
import type { Meta } from "./Message.ts"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId = "~@reventless/core/ReadModel" as const

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * What a projection does with one event.
 *
 * @since 0.1.0
 * @category models
 */
export type Action<Row> =
  | { readonly _tag: "Set"; readonly id: string; readonly row: Row }
  | { readonly _tag: "Update"; readonly id: string; update(row: Row): Row }
  | { readonly _tag: "UpdateWithDefault"; readonly id: string; readonly default: Row; update(row: Row): Row }
  | { readonly _tag: "Delete"; readonly id: string }
  | { readonly _tag: "Ignore" }

/**
 * What a projection sees of an event.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProjectionInput<Event> {
  readonly event: Event
  /** The id of the source instance (the aggregate id). */
  readonly id: string
  readonly meta: Meta
  readonly position: Position
  /** When the store committed the event (`meta.time` is when its command was sent). */
  readonly recordedAt: string
}

/**
 * The projection of one source component's events.
 *
 * @since 0.1.0
 * @category models
 */
export interface Projection<Row> {
  /** An aggregate of the plugin, or the plugin's DCB log (`DcbEventLog.source`). */
  readonly source: Aggregate.Any | DcbEventLog.Source<unknown>
  project(input: ProjectionInput<unknown>): Action<Row> | ReadonlyArray<Action<Row>>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ReadModel<Name extends string, Row> {
  readonly [TypeId]: TypeId
  readonly kind: "ReadModel" | "ReadModelStream"
  readonly name: Name
  readonly row: Schema.Codec<Row, unknown>
  readonly projections: ReadonlyArray<Projection<Row>>
}

/**
 * Any read model, its row type erased.
 *
 * @since 0.1.0
 * @category models
 */
export interface Any {
  readonly [TypeId]: TypeId
  readonly kind: "ReadModel" | "ReadModelStream"
  readonly name: string
  readonly row: Schema.Codec<unknown, unknown>
  readonly projections: ReadonlyArray<Projection<unknown>>
}

/**
 * @since 0.1.0
 * @category guards
 */
export const isReadModel = (u: unknown): u is Any => Predicate.hasProperty(u, TypeId)

/**
 * @since 0.1.0
 * @category models
 */
export interface Options<Name extends string, Row> {
  readonly name: Name
  readonly row: Schema.Codec<Row, unknown>
  readonly projections: ReadonlyArray<Projection<Row>>
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = <const Name extends string, Row>(options: Options<Name, Row>): ReadModel<Name, Row> => ({
  [TypeId]: TypeId,
  kind: "ReadModel",
  ...options
})

/**
 * A read model whose row changes can also be watched as a stream.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeStream = <const Name extends string, Row>(options: Options<Name, Row>): ReadModel<Name, Row> => ({
  [TypeId]: TypeId,
  kind: "ReadModelStream",
  ...options
})

/**
 * The projection of one source's events into rows: an aggregate's, or the events of the plugin's
 * DCB log that decode with the source's schema.
 *
 * @since 0.1.0
 * @category constructors
 */
export const projection = <Event, Row>(
  source: Aggregate.Aggregate<string, unknown, unknown, Event, unknown> | DcbEventLog.Source<Event>,
  project: (input: ProjectionInput<Event>) => Action<Row> | ReadonlyArray<Action<Row>>
): Projection<Row> => ({
  source: source as Aggregate.Any | DcbEventLog.Source<unknown>,
  project: project as (input: ProjectionInput<unknown>) => Action<Row> | ReadonlyArray<Action<Row>>
})

/**
 * Replaces the row.
 *
 * @since 0.1.0
 * @category actions
 */
export const set = <Row>(id: string, row: Row): Action<Row> => ({ _tag: "Set", id, row })

/**
 * Changes an existing row; does nothing when there is none.
 *
 * @since 0.1.0
 * @category actions
 */
export const update = <Row>(id: string, update: (row: Row) => Row): Action<Row> => ({ _tag: "Update", id, update })

/**
 * Changes the row, starting from `default` when there is none.
 *
 * @since 0.1.0
 * @category actions
 */
export const updateWithDefault = <Row>(id: string, defaultRow: Row, update: (row: Row) => Row): Action<Row> => ({
  _tag: "UpdateWithDefault",
  id,
  default: defaultRow,
  update
})

/**
 * Removes the row.
 *
 * @since 0.1.0
 * @category actions
 */
export const remove = <Row = never>(id: string): Action<Row> => ({ _tag: "Delete", id })

/**
 * Leaves the read model as it is.
 *
 * @since 0.1.0
 * @category actions
 */
export const ignore: Action<never> = { _tag: "Ignore" }

/**
 * Applies actions to rows held in a map (the fold a platform performs, and what tests compare
 * a read model against).
 *
 * @since 0.1.0
 * @category combinators
 */
export const apply = <Row>(rows: Map<string, Row>, actions: Action<Row> | ReadonlyArray<Action<Row>>): void => {
  for (const action of (Array.isArray(actions) ? actions : [actions]) as ReadonlyArray<Action<Row>>) {
    switch (action._tag) {
      case "Set":
        rows.set(action.id, action.row)
        break
      case "Update": {
        const row = rows.get(action.id)
        if (row !== undefined) rows.set(action.id, action.update(row))
        break
      }
      case "UpdateWithDefault":
        rows.set(action.id, action.update(rows.get(action.id) ?? action.default))
        break
      case "Delete":
        rows.delete(action.id)
        break
      case "Ignore":
        break
    }
  }
}
