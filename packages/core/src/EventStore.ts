/**
 * The event log of the plugins: aggregate streams with contiguous versions, one global position
 * order over all of them, and beside it the outcome of every command by message id.
 *
 * Appending events and recording the command's outcome is one call, so a platform commits them
 * together: a command is processed at most once per message id (guarantee 1), and a version
 * conflict (another writer got there first) appends nothing.
 *
 * @since 0.1.0
 */
import { Context, Deferred, Effect, Layer, Option, Schema } from "effect"
import { InfrastructureError } from "./Errors.ts"
import * as Event from "./Event.ts"
import { Faults } from "./Faults.ts"
import { LogSignal } from "./internal/logSignal.ts"
import type { Meta } from "./Message.ts"
import type * as Outcome from "./Outcome.ts"

/**
 * The stream was not at the expected version: someone else appended first.
 *
 * @since 0.1.0
 * @category errors
 */
export class VersionConflict extends Schema.TaggedError<VersionConflict>()("VersionConflict", {
  source: Schema.String,
  streamId: Schema.String,
  expected: Schema.Int,
  actual: Schema.Int
}) {}

/**
 * @since 0.1.0
 * @category models
 */
export interface AppendRequest {
  readonly msgId: string
  readonly source: string
  readonly streamId: string
  readonly expectedVersion: number
  readonly events: ReadonlyArray<Event.NewEvent>
  readonly meta: Meta
}

/**
 * `Committed`: this call stored the outcome. `Duplicate`: the message id already had one, which
 * is returned and nothing was written.
 *
 * @since 0.1.0
 * @category models
 */
export type CommitResult =
  | { readonly _tag: "Committed"; readonly outcome: Outcome.Final }
  | { readonly _tag: "Duplicate"; readonly outcome: Outcome.Final }

/**
 * Events read in global order, and the position through which the log was scanned: a consumer
 * that filters by source moves its checkpoint to `through` even when no event matched.
 *
 * @since 0.1.0
 * @category models
 */
export interface ReadAllResult {
  readonly events: ReadonlyArray<Event.Envelope>
  readonly through: Event.Position
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Snapshot {
  readonly version: number
  readonly state: unknown
}

/**
 * @since 0.1.0
 * @category services
 */
export class EventStore extends Context.Service<EventStore, {
  /** Events of one stream with a version above `afterVersion` (default 0), in version order. */
  readonly readStream: (
    source: string,
    streamId: string,
    afterVersion?: number
  ) => Effect.Effect<ReadonlyArray<Event.Envelope>, InfrastructureError>
  /** Up to `limit` events after `after` in global order, optionally only from some sources. */
  readonly readAll: (options: {
    readonly after: Event.Position
    readonly limit: number
    readonly sources?: ReadonlySet<string> | undefined
  }) => Effect.Effect<ReadAllResult, InfrastructureError>
  /** The position of the last committed event (0 for an empty log). */
  readonly head: Effect.Effect<Event.Position, InfrastructureError>
  /** Appends (when `expectedVersion` holds) and records the Accepted outcome. */
  readonly append: (request: AppendRequest) => Effect.Effect<CommitResult, VersionConflict | InfrastructureError>
  /** Records a rejection as the command's outcome. */
  readonly reject: (outcome: typeof Outcome.Rejected.Type) => Effect.Effect<CommitResult, InfrastructureError>
  /** The stored outcome of a message id. */
  readonly outcome: (msgId: string) => Effect.Effect<Option.Option<Outcome.Final>, InfrastructureError>
  /** Waits for a message's outcome; `Failed` arrives when the command is parked. */
  readonly awaitOutcome: (msgId: string) => Effect.Effect<Outcome.Outcome, InfrastructureError>
  /** Tells waiters that the command was parked; it stays unprocessed so a replay can retry it. */
  readonly fail: (outcome: typeof Outcome.Failed.Type) => Effect.Effect<void>
  readonly loadSnapshot: (source: string, streamId: string) => Effect.Effect<Option.Option<Snapshot>, InfrastructureError>
  readonly saveSnapshot: (source: string, streamId: string, snapshot: Snapshot) => Effect.Effect<void, InfrastructureError>
}>()("@reventless/core/EventStore") {}

/**
 * The log in memory: an array per stream and one array in global order, so positions are
 * contiguous here. Each operation is synchronous, hence atomic.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<EventStore, never, LogSignal> = Layer.effect(
  EventStore,
  Effect.gen(function*() {
    const faults = yield* Faults
    const signal = yield* LogSignal
    const log: Array<Event.Envelope> = []
    const streams = new Map<string, Array<Event.Envelope>>()
    const outcomes = new Map<string, Outcome.Final>()
    const waiters = new Map<string, Array<Deferred.Deferred<Outcome.Outcome>>>()
    const snapshots = new Map<string, Snapshot>()
    const key = (source: string, streamId: string) => `${source}/${streamId}`

    const settle = (outcome: Outcome.Outcome) => {
      const waiting = waiters.get(outcome.msgId)
      if (waiting === undefined) return
      waiters.delete(outcome.msgId)
      for (const deferred of waiting) Deferred.doneUnsafe(deferred, Effect.succeed(outcome))
    }
    const commit = (outcome: Outcome.Final): CommitResult => {
      outcomes.set(outcome.msgId, outcome)
      settle(outcome)
      return { _tag: "Committed", outcome }
    }

    const append = (request: AppendRequest): Effect.Effect<CommitResult, VersionConflict | InfrastructureError> =>
      Effect.suspend((): Effect.Effect<CommitResult, VersionConflict | InfrastructureError> => {
        const previous = outcomes.get(request.msgId)
        if (previous !== undefined) return Effect.succeed({ _tag: "Duplicate", outcome: previous } as const)
        if (faults.failAppends > 0) {
          faults.failAppends--
          return Effect.fail(
            new InfrastructureError({ service: "EventStore", operation: "append", detail: "injected fault", retryable: true })
          )
        }
        const streamKey = key(request.source, request.streamId)
        let stream = streams.get(streamKey)
        const actual = stream === undefined ? 0 : stream.length
        if (request.events.length > 0 && actual !== request.expectedVersion) {
          return Effect.fail(
            new VersionConflict({
              source: request.source,
              streamId: request.streamId,
              expected: request.expectedVersion,
              actual
            })
          )
        }
        const appended: Array<Event.Envelope> = []
        if (request.events.length > 0) {
          if (stream === undefined) {
            stream = []
            streams.set(streamKey, stream)
          }
          for (const event of request.events) {
            const version = stream.length + 1
            const envelope: Event.Envelope = {
              id: Event.eventId(request.source, request.streamId, version),
              type: event.type,
              source: request.source,
              streamId: request.streamId,
              version,
              position: log.length + 1,
              schemaVersion: event.schemaVersion,
              data: event.data,
              meta: request.meta
            }
            stream.push(envelope)
            log.push(envelope)
            appended.push(envelope)
          }
          signal.notify(log.length)
        }
        return Effect.succeed(
          commit({ _tag: "Accepted", msgId: request.msgId, component: request.source, id: request.streamId, events: appended })
        )
      })

    return EventStore.of({
      readStream: (source, streamId, afterVersion = 0) =>
        Effect.sync(() => (streams.get(key(source, streamId)) ?? []).slice(afterVersion)),
      readAll: ({ after, limit, sources }) =>
        Effect.sync(() => {
          const events: Array<Event.Envelope> = []
          let i = Math.max(0, after)
          for (; i < log.length && events.length < limit; i++) {
            const event = log[i]!
            if (sources === undefined || sources.has(event.source)) events.push(event)
          }
          return { events, through: Math.max(after, i) }
        }),
      head: Effect.sync(() => log.length),
      append,
      reject: (rejected) =>
        Effect.sync(() => {
          const previous = outcomes.get(rejected.msgId)
          return previous !== undefined ? { _tag: "Duplicate", outcome: previous } as const : commit(rejected)
        }),
      outcome: (msgId) => Effect.sync(() => Option.fromUndefinedOr(outcomes.get(msgId))),
      awaitOutcome: (msgId) =>
        Effect.suspend(() => {
          const done = outcomes.get(msgId)
          if (done !== undefined) return Effect.succeed<Outcome.Outcome>(done)
          const deferred = Deferred.makeUnsafe<Outcome.Outcome>()
          const waiting = waiters.get(msgId)
          if (waiting === undefined) waiters.set(msgId, [deferred])
          else waiting.push(deferred)
          return Deferred.await(deferred)
        }),
      fail: (failed) => Effect.sync(() => settle(failed)),
      loadSnapshot: (source, streamId) => Effect.sync(() => Option.fromUndefinedOr(snapshots.get(key(source, streamId)))),
      saveSnapshot: (source, streamId, snapshot) => Effect.sync(() => void snapshots.set(key(source, streamId), snapshot))
    })
  })
)
