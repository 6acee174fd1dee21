/**
 * The Dynamic Consistency Boundary event store (dcb.events): one log of typed, tagged events with
 * increasing positions, read by query, and appended under a condition that no event matching a
 * query was appended after a position. A decision that read "everything matching Q up to
 * position p" appends with `{ failIfEventsMatch: Q, after: p }` and so fails if anything it
 * should have seen arrived in between, whatever entities the events concern.
 *
 * Every platform implements the same contract and passes the same conformance suite
 * (`@reventless/testing` DcbConformance), so conflicts mean the same thing everywhere.
 *
 * @since 0.1.0
 */
import { Clock, Context, Effect, Layer, Option, Schema, Stream } from "effect"
import type { InfrastructureError } from "./Errors.ts"
import { Meta } from "./Message.ts"

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
 * An event to append.
 *
 * @since 0.1.0
 * @category models
 */
export const NewEvent = Schema.Struct({
  type: Schema.NonEmptyString,
  tags: Schema.Array(Schema.String),
  data: Schema.Unknown,
  meta: Meta
})

/**
 * @since 0.1.0
 * @category models
 */
export type NewEvent = typeof NewEvent.Type

/**
 * A stored event: its position is unique and increases with every append (gaps allowed).
 *
 * @since 0.1.0
 * @category models
 */
export const SequencedEvent = Schema.Struct({
  position: Schema.Int,
  type: Schema.String,
  tags: Schema.Array(Schema.String),
  data: Schema.Unknown,
  meta: Meta,
  recordedAt: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
export type SequencedEvent = typeof SequencedEvent.Type

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

/**
 * @since 0.1.0
 * @category services
 */
export class DcbEventStore extends Context.Service<DcbEventStore, {
  /** Events matching `query` after `after` (default: from the start), in position order, a chunk at a time. */
  readonly read: (query: Query, options?: { readonly after?: number | undefined }) => Stream.Stream<SequencedEvent, InfrastructureError>
  /** Appends all of `events` or none; with a condition, only if it holds. Returns the last position written. */
  readonly append: (
    events: ReadonlyArray<NewEvent>,
    condition?: AppendCondition
  ) => Effect.Effect<{ readonly position: number }, DcbConflict | InfrastructureError>
  /** The position of the last event (0 for an empty log). */
  readonly head: Effect.Effect<number, InfrastructureError>
}>()("@reventless/core/DcbEventStore") {}

/** Events read per chunk. */
const chunkSize = 256

/** The index of the first event in `log` after position `after` (binary search: positions increase). */
const indexAfter = (log: ReadonlyArray<{ readonly position: number }>, after: number): number => {
  let low = 0
  let high = log.length
  while (low < high) {
    const mid = (low + high) >>> 1
    if (log[mid]!.position <= after) low = mid + 1
    else high = mid
  }
  return low
}

/**
 * The log in memory. The condition check and the write are one synchronous step, hence atomic.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<DcbEventStore> = Layer.sync(DcbEventStore, () => {
  const log: Array<SequencedEvent> = []
  let position = 0
  const firstMatch = (query: Query, after: number): Option.Option<SequencedEvent> => {
    for (let i = indexAfter(log, after); i < log.length; i++) {
      if (matches(query, log[i]!)) return Option.some(log[i]!)
    }
    return Option.none()
  }
  return DcbEventStore.of({
    read: (query, options) =>
      Stream.paginate(options?.after ?? 0, (after) =>
        Effect.sync(() => {
          const chunk: Array<SequencedEvent> = []
          let i = indexAfter(log, after)
          for (; i < log.length && chunk.length < chunkSize; i++) {
            if (matches(query, log[i]!)) chunk.push(log[i]!)
          }
          const next = i < log.length ? Option.some(log[i - 1]!.position) : Option.none<number>()
          return [chunk, next] as const
        })),
    append: (events, condition) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        if (condition !== undefined) {
          const conflict = firstMatch(condition.failIfEventsMatch, condition.after ?? 0)
          if (Option.isSome(conflict)) return Effect.fail(conflictOf(condition, conflict.value.position))
        }
        const recordedAt = new Date(now).toISOString()
        for (const event of events) log.push({ ...event, position: ++position, recordedAt })
        return Effect.succeed({ position })
      }),
    head: Effect.sync(() => position)
  })
})
