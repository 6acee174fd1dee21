/**
 * The event log of the plugins: aggregate streams with contiguous versions, one global position
 * order over all of them, and beside it the outcome of every command by message id.
 *
 * Appending events and recording the command's outcome is one request, so a platform commits them
 * together: a command is processed at most once per message id (guarantee 1), and a version
 * conflict (another writer got there first, so the decision saw stale state) stores nothing,
 * whether the decision was events, no events, or a rejection. `commit` takes a batch of requests
 * (the command processor's batch per partition) so a platform can write them in one round trip;
 * each request still succeeds or fails on its own.
 *
 * @since 0.1.0
 */
import { Clock, Context, Deferred, Effect, Layer, Option, Schema } from "effect"
import { type AppendCondition, conflictOf, type DcbConflict, matches, type Query } from "./DcbQuery.ts"
import { InfrastructureError } from "./Errors.ts"
import * as Event from "./Event.ts"
import { Faults } from "./Faults.ts"
import { LogSignal } from "./internal/logSignal.ts"
import { MsgIdMap } from "./internal/msgIdMap.ts"
import { isoTime, type Meta } from "./Message.ts"
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
  /** The version the decision saw; `"any"` appends wherever the stream is (extension-point events). */
  readonly expectedVersion: number | "any"
  readonly events: ReadonlyArray<Event.NewEvent>
  readonly meta: Meta
}

/**
 * Events for a plugin's DCB log (`log`, e.g. `Ordering.DcbEventLog`): tagged, and appended only
 * if `condition` holds over that log. They are stored under the stream `id` (the command's
 * partition key) with their position as version.
 *
 * @since 0.1.0
 * @category models
 */
export interface TaggedAppendRequest {
  readonly msgId: string
  readonly log: string
  /** The component that decided (the slice's qualified name), for the outcome. */
  readonly component: string
  readonly id: string
  readonly events: ReadonlyArray<Event.NewEvent & { readonly tags: ReadonlyArray<string>; readonly meta?: Meta | undefined }>
  readonly condition?: AppendCondition | undefined
  /** The command's metadata, for events without their own. */
  readonly meta: Meta
}

/**
 * One command's result to store: its events (`Append`, `AppendTagged`) or its rejection
 * (`Reject`, `RejectTagged`). Each holds only if what the decision read is still current (the
 * stream version, or the DCB condition): a rejection decided on stale state is as wrong as stale
 * events.
 *
 * @since 0.1.0
 * @category models
 */
export type CommitRequest =
  | { readonly _tag: "Append"; readonly request: AppendRequest }
  | { readonly _tag: "Reject"; readonly expectedVersion: number; readonly outcome: typeof Outcome.Rejected.Type }
  | { readonly _tag: "AppendTagged"; readonly request: TaggedAppendRequest }
  | {
    readonly _tag: "RejectTagged"
    readonly log: string
    readonly condition?: AppendCondition | undefined
    readonly outcome: typeof Outcome.Rejected.Type
  }

/**
 * `Committed`: this request stored the outcome. `Duplicate`: the message id already had one,
 * which is returned and nothing was written. `Conflict`: the stream was not at the expected
 * version and nothing was written.
 *
 * @since 0.1.0
 * @category models
 */
export type CommitResult =
  | { readonly _tag: "Committed"; readonly outcome: Outcome.Final }
  | { readonly _tag: "Duplicate"; readonly outcome: Outcome.Final }
  | { readonly _tag: "Conflict"; readonly conflict: VersionConflict | DcbConflict }

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
 * @category models
 */
export interface AwaitOptions {
  /**
   * Publishes the message once the waiter is registered, so that an outcome stored while it is
   * on its way still reaches the waiter.
   */
  readonly send?: Effect.Effect<void, InfrastructureError> | undefined
  /**
   * The message id was just made and `send` publishes it for the first time: no outcome can be
   * stored from before, so a platform need not look one up (a round trip saved per command).
   */
  readonly unseen?: boolean | undefined
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
  /**
   * Up to `limit` events of the DCB log `log` matching `query`, after `after`, in position order.
   * A page shorter than `limit` means the end of the log was reached; otherwise read on after
   * `through`.
   */
  readonly readTagged: (options: {
    readonly log: string
    readonly query: Query
    readonly after: Event.Position
    readonly limit: number
  }) => Effect.Effect<ReadAllResult, InfrastructureError>
  /** The position of the last committed event (0 for an empty log). */
  readonly head: Effect.Effect<Event.Position, InfrastructureError>
  /**
   * Stores each request's outcome (and events), in order, and returns one result per request.
   * Fails only when the store could not be reached; then none of the requests was written.
   */
  readonly commit: (requests: ReadonlyArray<CommitRequest>) => Effect.Effect<ReadonlyArray<CommitResult>, InfrastructureError>
  /**
   * The same store without effects, offered by one whose operations are synchronous (memory) so
   * that the runtime can settle a whole command in one synchronous step. Each behaves exactly as
   * its effectful twin; `commit` returns `undefined` when it cannot commit right now (nothing was
   * written, and the effectful `commit` is the way).
   */
  readonly sync?: SyncEventStore | undefined
  /** The stored outcome of a message id. */
  readonly outcome: (msgId: string) => Effect.Effect<Option.Option<Outcome.Final>, InfrastructureError>
  /** Waits for a message's outcome; `Failed` arrives when the command is parked. */
  readonly awaitOutcome: (msgId: string, options?: AwaitOptions) => Effect.Effect<Outcome.Outcome, InfrastructureError>
  /**
   * Tells waiters, present and later, that the command was parked; it stays unprocessed so a
   * replay can retry it, and the replay's outcome replaces the failure.
   */
  readonly fail: (outcome: typeof Outcome.Failed.Type) => Effect.Effect<void>
  /** Forgets a parked command's failure before it is tried again, so waiters wait for the new try. */
  readonly retry: (msgId: string) => Effect.Effect<void>
  readonly loadSnapshot: (source: string, streamId: string) => Effect.Effect<Option.Option<Snapshot>, InfrastructureError>
  readonly saveSnapshot: (source: string, streamId: string, snapshot: Snapshot) => Effect.Effect<void, InfrastructureError>
}>()("@reventless/core/EventStore") {}

/**
 * @since 0.1.0
 * @category models
 */
export interface SyncEventStore {
  readonly commit: (requests: ReadonlyArray<CommitRequest>) => ReadonlyArray<CommitResult> | undefined
  readonly readStream: (source: string, streamId: string, afterVersion?: number) => ReadonlyArray<Event.Envelope>
  readonly loadSnapshot: (source: string, streamId: string) => Option.Option<Snapshot>
  /**
   * What `awaitOutcome` would answer at once: the final outcome, or `Failed` while the command
   * is parked; `undefined` while it has neither.
   */
  readonly outcome: (msgId: string) => Outcome.Outcome | undefined
}

interface Waiting {
  readonly _tag: "Waiting"
  readonly deferreds: Array<Deferred.Deferred<Outcome.Outcome>>
}

/**
 * What the memory store keeps per message id: the final outcome, the senders waiting for it, or,
 * for the commonest outcome (an aggregate's command accepted with events), only its event, or
 * its events: the outcome is rebuilt from them when asked. Two objects fewer kept per command,
 * which the garbage collector would otherwise copy.
 */
type MsgRecord = Outcome.Final | Waiting | Event.Envelope | ReadonlyArray<Event.Envelope>

const isTagged = (record: MsgRecord): record is Outcome.Final | Waiting => "_tag" in record

/** The final outcome a record stands for, if it is one. */
const finalOf = (msgId: string, record: MsgRecord | undefined): Outcome.Final | undefined => {
  if (record === undefined) return undefined
  if (isTagged(record)) return record._tag === "Waiting" ? undefined : record
  const events: ReadonlyArray<Event.Envelope> = Array.isArray(record) ? record : [record as Event.Envelope]
  return { _tag: "Accepted", msgId, component: events[0]!.source, id: events[0]!.streamId, events }
}

const waitingOf = (record: MsgRecord | undefined): Waiting | undefined =>
  record !== undefined && isTagged(record) && record._tag === "Waiting" ? record : undefined

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
    const clock = yield* Clock.Clock
    /** The commit time of the batch being committed. */
    let recordedAt = ""
    const log: Array<Event.Envelope> = []
    /** Source → stream id → events (nested, so a lookup builds no key string). */
    const streams = new Map<string, Map<string, Array<Event.Envelope>>>()
    const streamOf = (source: string, streamId: string) => streams.get(source)?.get(streamId)
    /** By message id: the final outcome, or the senders waiting for it (one record per id; ids this process made cost no hashing). */
    const records = new MsgIdMap<MsgRecord>()
    /** Parked commands: a sender that asks after the parking still hears Failed, until a replay settles it. */
    const failures = new Map<string, typeof Outcome.Failed.Type>()
    const snapshots = new Map<string, Snapshot>()
    const key = (source: string, streamId: string) => `${source}/${streamId}`

    const wake = (waiting: Waiting, outcome: Outcome.Outcome) => {
      for (const deferred of waiting.deferreds) Deferred.doneUnsafe(deferred, Effect.succeed(outcome))
    }
    const commitOutcome = (outcome: Outcome.Final, waiting: Waiting | undefined, kept: MsgRecord = outcome): CommitResult => {
      records.set(outcome.msgId, kept)
      if (failures.size > 0) failures.delete(outcome.msgId)
      if (waiting !== undefined) wake(waiting, outcome)
      return { _tag: "Committed", outcome }
    }

    const conflict = (source: string, streamId: string, expected: number): VersionConflict | undefined => {
      const actual = streamOf(source, streamId)?.length ?? 0
      return actual === expected ? undefined : new VersionConflict({ source, streamId, expected, actual })
    }

    const append = (request: AppendRequest, waiting: Waiting | undefined): CommitResult => {
      let stream = streamOf(request.source, request.streamId)
      const actual = stream?.length ?? 0
      if (request.expectedVersion !== "any" && request.expectedVersion !== actual) {
        return { _tag: "Conflict", conflict: new VersionConflict({ source: request.source, streamId: request.streamId, expected: request.expectedVersion, actual }) }
      }
      const appended: Array<Event.Envelope> = []
      if (request.events.length > 0) {
        if (stream === undefined) {
          stream = []
          let bySource = streams.get(request.source)
          if (bySource === undefined) streams.set(request.source, bySource = new Map())
          bySource.set(request.streamId, stream)
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
            meta: request.meta,
            recordedAt
          }
          stream.push(envelope)
          log.push(envelope)
          appended.push(envelope)
        }
      }
      const outcome = { _tag: "Accepted", msgId: request.msgId, component: request.source, id: request.streamId, events: appended } as const
      return commitOutcome(outcome, waiting, appended.length === 0 ? outcome : appended.length === 1 ? appended[0]! : appended)
    }

    /** Whether an event of `log` matching the condition exists after its position. */
    const broken = (log_: string, condition: AppendCondition | undefined): DcbConflict | undefined => {
      if (condition === undefined) return undefined
      for (let i = Math.max(0, condition.after ?? 0); i < log.length; i++) {
        const event = log[i]!
        if (event.source === log_ && matches(condition.failIfEventsMatch, { type: event.type, tags: event.tags ?? [] })) {
          return conflictOf(condition, event.position)
        }
      }
      return undefined
    }

    const appendTagged = (request: TaggedAppendRequest, waiting: Waiting | undefined): CommitResult => {
      const conflicting = broken(request.log, request.condition)
      if (conflicting !== undefined) return { _tag: "Conflict", conflict: conflicting }
      const appended: Array<Event.Envelope> = []
      for (const event of request.events) {
        const position = log.length + 1
        const envelope: Event.Envelope = {
          id: Event.eventId(request.log, request.id, position),
          type: event.type,
          source: request.log,
          streamId: request.id,
          version: position,
          position,
          schemaVersion: event.schemaVersion,
          data: event.data,
          meta: event.meta ?? request.meta,
          tags: event.tags,
          recordedAt
        }
        log.push(envelope)
        appended.push(envelope)
      }
      return commitOutcome({ _tag: "Accepted", msgId: request.msgId, component: request.component, id: request.id, events: appended }, waiting)
    }

    const commitOne = (request: CommitRequest): CommitResult => {
      const msgId = request._tag === "Append" || request._tag === "AppendTagged" ? request.request.msgId : request.outcome.msgId
      const record = records.get(msgId)
      const previous = finalOf(msgId, record)
      if (previous !== undefined) return { _tag: "Duplicate", outcome: previous }
      const waiting = waitingOf(record)
      switch (request._tag) {
        case "Append":
          return append(request.request, waiting)
        case "AppendTagged":
          return appendTagged(request.request, waiting)
        case "Reject": {
          const moved = conflict(request.outcome.component, request.outcome.id, request.expectedVersion)
          return moved !== undefined ? { _tag: "Conflict", conflict: moved } : commitOutcome(request.outcome, waiting)
        }
        case "RejectTagged": {
          const conflicting = broken(request.log, request.condition)
          return conflicting !== undefined ? { _tag: "Conflict", conflict: conflicting } : commitOutcome(request.outcome, waiting)
        }
      }
    }

    const commitNow = (requests: ReadonlyArray<CommitRequest>): ReadonlyArray<CommitResult> | undefined => {
      // An injected outage is the effectful commit's to report.
      if (faults.failAppends > 0) return undefined
      const before = log.length
      recordedAt = isoTime(clock.currentTimeMillisUnsafe())
      const results = requests.map(commitOne)
      if (log.length > before) signal.notify(log.length)
      return results
    }

    const commit = (requests: ReadonlyArray<CommitRequest>): Effect.Effect<ReadonlyArray<CommitResult>, InfrastructureError> =>
      Effect.suspend(() => {
        if (faults.failAppends > 0) {
          faults.failAppends--
          return Effect.fail(new InfrastructureError({ service: "EventStore", operation: "commit", detail: "injected fault", retryable: true }))
        }
        return Effect.succeed(commitNow(requests)!)
      })

    const outcomeNow = (msgId: string): Outcome.Outcome | undefined =>
      finalOf(msgId, records.get(msgId)) ?? (failures.size === 0 ? undefined : failures.get(msgId))

    const sync: SyncEventStore = {
      outcome: outcomeNow,
      commit: commitNow,
      readStream: (source, streamId, afterVersion = 0) => (streamOf(source, streamId) ?? []).slice(afterVersion),
      loadSnapshot: (source, streamId) => Option.fromUndefinedOr(snapshots.get(key(source, streamId)))
    }

    return EventStore.of({
      readStream: (source, streamId, afterVersion) => Effect.sync(() => sync.readStream(source, streamId, afterVersion)),
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
      readTagged: ({ after, limit, log: name, query }) =>
        Effect.sync(() => {
          const events: Array<Event.Envelope> = []
          let i = Math.max(0, after)
          for (; i < log.length && events.length < limit; i++) {
            const event = log[i]!
            if (event.source === name && matches(query, { type: event.type, tags: event.tags ?? [] })) events.push(event)
          }
          return { events, through: Math.max(after, i) }
        }),
      head: Effect.sync(() => log.length),
      commit,
      sync,
      outcome: (msgId) =>
        Effect.sync(() => Option.fromUndefinedOr(finalOf(msgId, records.get(msgId)))),
      awaitOutcome: (msgId, options) => {
        // Here every operation is synchronous, so looking for the outcome once the message is
        // sent and registering a waiter when there is none is atomic: nothing is stored in
        // between. A message handled during its send (the memory topic runs an awaited
        // command in the sender's fiber) is answered without a waiter at all.
        const settled = Effect.suspend(() => {
          const known = outcomeNow(msgId)
          if (known !== undefined) return Effect.succeed(known)
          const waiting = waitingOf(records.get(msgId))
          const deferred = Deferred.makeUnsafe<Outcome.Outcome>()
          if (waiting !== undefined) waiting.deferreds.push(deferred)
          else records.set(msgId, { _tag: "Waiting", deferreds: [deferred] })
          // A waiter that gives up is dropped.
          return Effect.onInterrupt(Deferred.await(deferred), () =>
            Effect.sync(() => {
              const waiting = waitingOf(records.get(msgId))
              if (waiting === undefined) return
              const rest = waiting.deferreds.filter((waiter) => waiter !== deferred)
              if (rest.length === 0) records.delete(msgId)
              else records.set(msgId, { _tag: "Waiting", deferreds: rest })
            }))
        })
        return options?.send === undefined ? settled : Effect.andThen(options.send, settled)
      },
      retry: (msgId) => Effect.sync(() => void failures.delete(msgId)),
      fail: (failed) =>
        Effect.sync(() => {
          failures.set(failed.msgId, failed)
          const waiting = waitingOf(records.get(failed.msgId))
          if (waiting === undefined) return
          records.delete(failed.msgId)
          wake(waiting, failed)
        }),
      loadSnapshot: (source, streamId) => Effect.sync(() => sync.loadSnapshot(source, streamId)),
      saveSnapshot: (source, streamId, snapshot) => Effect.sync(() => void snapshots.set(key(source, streamId), snapshot))
    })
  })
)
