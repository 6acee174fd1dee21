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
import { Context, Effect, Layer, Option, Schema, Stream } from "effect"
import type { AppendCondition, DcbConflict, Query } from "./DcbQuery.ts"
import type { InfrastructureError } from "./Errors.ts"
import type * as Event from "./Event.ts"
import * as EventStore from "./EventStore.ts"
import * as LogSignal from "./internal/logSignal.ts"
import * as Message from "./Message.ts"
import { Meta } from "./Message.ts"

export { all, type AppendCondition, conflictOf, DcbConflict, matches, Query, QueryItem } from "./DcbQuery.ts"

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

const sequenced = (event: Event.Envelope): SequencedEvent => ({
  position: event.position,
  type: event.type,
  tags: event.tags ?? [],
  data: event.data,
  meta: event.meta,
  recordedAt: event.recordedAt ?? event.meta.time
})

/**
 * The DCB log named `log` inside an event store, as a DcbEventStore. A platform keeps a plugin's
 * DCB log in its event store, so slice events share the global position order with aggregate
 * events and a slice's append commits together with its command's outcome.
 *
 * @since 0.1.0
 * @category layers
 */
export const fromEventStore = (log: string): Layer.Layer<DcbEventStore, never, EventStore.EventStore> =>
  Layer.effect(
    DcbEventStore,
    Effect.map(Effect.service(EventStore.EventStore), (store) =>
      DcbEventStore.of({
        read: (query, options) =>
          Stream.paginate(options?.after ?? 0, (after) =>
            Effect.map(store.readTagged({ log, query, after, limit: chunkSize }), ({ events, through }) =>
              [events.map(sequenced), events.length < chunkSize ? Option.none<number>() : Option.some(through)] as const)),
        append: (events, condition) =>
          Effect.flatMap(
            store.commit([{
              msgId: Message.newMsgId(),
              component: log,
              id: log,
              boundary: { _tag: "Query", log, condition },
              decided: { _tag: "Events", events: events.map((event) => ({ type: event.type, tags: event.tags, schemaVersion: 1, data: event.data, meta: event.meta })) },
              meta: events[0]?.meta ?? Message.makeMeta({ service: log }, new Date(0).toISOString())
            }]),
            ([result]): Effect.Effect<{ readonly position: number }, DcbConflict | InfrastructureError> => {
              if (result!._tag === "Conflict") return Effect.fail(result!.conflict as DcbConflict)
              const appended = result!.outcome._tag === "Accepted" ? result!.outcome.events : []
              return appended.length > 0 ? Effect.succeed({ position: appended[appended.length - 1]!.position }) : Effect.map(store.head, (position) => ({ position }))
            }
          ),
        head: store.head
      }))
  )

/**
 * A DCB store in memory: the DCB log "dcb" of a memory event store of its own.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<DcbEventStore> = fromEventStore("dcb").pipe(
  Layer.provide(EventStore.layerMemory),
  Layer.provide(LogSignal.layer)
)
