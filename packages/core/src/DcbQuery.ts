/**
 * DCB queries and append conditions (dcb.events), shared by the DCB event store and the event
 * store that keeps a plugin's DCB log beside its aggregate streams.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * One clause of a query: the event's type is one of `types` (any type when empty or absent)
 * AND every tag of `tags` is on the event.
 *
 * @since 0.1.0
 * @category models
 */
export const QueryItem = Schema.Struct({
  types: Schema.optionalKey(Schema.Array(Schema.String)),
  tags: Schema.optionalKey(Schema.Array(Schema.String))
})

/**
 * @since 0.1.0
 * @category models
 */
export type QueryItem = typeof QueryItem.Type

/**
 * Clauses OR-ed together. An empty query matches nothing; `all` matches every event.
 *
 * @since 0.1.0
 * @category models
 */
export const Query = Schema.Array(QueryItem)

/**
 * @since 0.1.0
 * @category models
 */
export type Query = typeof Query.Type

/**
 * Matches every event.
 *
 * @since 0.1.0
 * @category constructors
 */
export const all: Query = [{}]

/**
 * Fail the append if any event matching `failIfEventsMatch` exists after `after` (or at all,
 * when `after` is absent).
 *
 * @since 0.1.0
 * @category models
 */
export interface AppendCondition {
  readonly failIfEventsMatch: Query
  readonly after?: number | undefined
}

/**
 * The condition did not hold: an event matching the query was appended after the position the
 * decision had read. Nothing was written.
 *
 * @since 0.1.0
 * @category errors
 */
export class DcbConflict extends Schema.TaggedError<DcbConflict>()("DcbConflict", {
  query: Query,
  after: Schema.optionalKey(Schema.Int),
  /** The first event that broke the condition. */
  position: Schema.Int
}) {
  override get message(): string {
    return `an event matching the condition was appended at position ${this.position}${this.after === undefined ? "" : ` (after ${this.after})`}`
  }
}

/**
 * The conflict for `condition`, broken by the event at `position`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const conflictOf = (condition: AppendCondition, position: number): DcbConflict =>
  new DcbConflict(
    condition.after === undefined
      ? { query: condition.failIfEventsMatch, position }
      : { query: condition.failIfEventsMatch, after: condition.after, position }
  )

/**
 * Whether `event` matches `query`.
 *
 * @since 0.1.0
 * @category predicates
 */
export const matches = (query: Query, event: { readonly type: string; readonly tags: ReadonlyArray<string> }): boolean =>
  query.some((item) =>
    (item.types === undefined || item.types.length === 0 || item.types.includes(event.type)) &&
    (item.tags === undefined || item.tags.every((tag) => event.tags.includes(tag)))
  )

