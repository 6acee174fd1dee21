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
import { Clock, Context, Deferred, Effect, Exit, Layer, Option, Schema } from "effect"
import { type AppendCondition, conflictOf, type DcbConflict, matches, type Query } from "./DcbQuery.ts"
import { InfrastructureError } from "./Errors.ts"
import * as Event from "./Event.ts"
import * as Eager from "./internal/eager.ts"
import { LogSignal } from "./internal/logSignal.ts"
import { MsgIdMap } from "./internal/msgIdMap.ts"
import * as MsgIds from "./internal/msgIds.ts"
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
 * Where a decision's reads must still be current for it to be stored: its stream at the version
 * it saw (`"any"`: wherever the stream is, for events no decision read, such as extension-point
 * events), or, for a state-change slice, a DCB log on which nothing matching its query arrived
 * after what it read.
 *
 * @since 0.1.0
 * @category models
 */
export type Boundary =
  | { readonly _tag: "Stream"; readonly expectedVersion: number | "any" }
  | { readonly _tag: "Query"; readonly log: string; readonly condition?: AppendCondition | undefined }

/**
 * An event to store; on a DCB log with its tags, and with metadata of its own when it has some
 * (the command's otherwise; a stream's events always have the command's).
 *
 * @since 0.1.0
 * @category models
 */
export interface NewEvent extends Event.NewEvent {
  readonly tags?: ReadonlyArray<string> | undefined
  readonly meta?: Meta | undefined
}

/**
 * What was decided: events (none is an answer too), or the component's rejection, encoded.
 *
 * @since 0.1.0
 * @category models
 */
export type Decided =
  | { readonly _tag: "Events"; readonly events: ReadonlyArray<NewEvent> }
  | { readonly _tag: "Rejected"; readonly error: unknown }

/**
 * One command's result to store, with its outcome under `msgId`: two independent choices, where
 * the decision's reads must still hold (`boundary`) and what it decided (`decided`). A rejection
 * decided on stale state is as wrong as stale events, so both are checked alike. `component` and
 * `id` name the outcome; a stream's events are stored under them (`source`, `streamId`), a DCB
 * log's under the log and `id`.
 *
 * @since 0.1.0
 * @category models
 */
export interface CommitRequest {
  readonly msgId: string
  readonly component: string
  readonly id: string
  readonly boundary: Boundary
  readonly decided: Decided
  /** The command's metadata, for its events and for who sent it. */
  readonly meta: Meta
}

/**
 * The envelopes' source: the stream's component, or the DCB log.
 *
 * @since 0.1.0
 * @category accessors
 */
export const sourceOf = (request: CommitRequest): string => request.boundary._tag === "Stream" ? request.component : request.boundary.log

/**
 * The outcome a committed request stands for, its events' envelopes built from the first
 * version and position the store gave them (on a DCB log the version is the position). The one
 * place envelopes are made, for every store.
 *
 * @since 0.1.0
 * @category constructors
 */
export const committedOutcome = (request: CommitRequest, firstVersion: number, firstPosition: number, recordedAt: string): Outcome.Final => {
  const { component, decided, id, meta, msgId } = request
  if (decided._tag === "Rejected") return { _tag: "Rejected", msgId, component, id, error: decided.error, user: meta.user }
  const source = sourceOf(request)
  const tagged = request.boundary._tag === "Query"
  const events: Array<Event.Envelope> = []
  for (let i = 0; i < decided.events.length; i++) {
    const event = decided.events[i]!
    const version = (tagged ? firstPosition : firstVersion) + i
    const envelope: Event.Envelope = {
      id: Event.eventId(source, id, version),
      type: event.type,
      source,
      streamId: id,
      version,
      position: firstPosition + i,
      schemaVersion: event.schemaVersion,
      data: event.data,
      // Events of their own metadata only on a DCB log (a stream's events have the command's).
      meta: tagged ? event.meta ?? meta : meta,
      recordedAt
    }
    events.push(tagged ? { ...envelope, tags: event.tags ?? [] } : envelope)
  }
  return { _tag: "Accepted", msgId, component, id, events }
}

/**
 * The conflict of a request whose stream was at `actual` instead of the version it expected.
 *
 * @since 0.1.0
 * @category constructors
 */
export const versionConflict = (request: CommitRequest, actual: number): VersionConflict => {
  const expected = request.boundary._tag === "Stream" ? request.boundary.expectedVersion : "any"
  return new VersionConflict({ source: request.component, streamId: request.id, expected: expected === "any" ? -1 : expected, actual })
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
 * What a store keeps, without the senders waiting for outcomes: `make` adds those, the same for
 * every store (as effect's cluster `MessageStorage.make` does over its encoded storage).
 *
 * @since 0.1.0
 * @category models
 */
export interface Storage extends Omit<EventStore["Service"], "awaitOutcome"> {
  /**
   * The outcome, or while the command is parked its failure, of each of `msgIds` that has one;
   * the others are left out.
   */
  readonly lookUp: (msgIds: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<readonly [string, Outcome.Outcome]>, InfrastructureError>
}

/**
 * A store and the hooks of its waiters: `wake` wakes the senders of what a commit of this
 * process stored (`make`'s `commit` calls it; a store that commits by another way too calls it
 * there), `recheck` looks up the outcomes of everyone waiting (another process may have stored
 * them: a store calls it when it hears of a commit elsewhere).
 *
 * @since 0.1.0
 * @category models
 */
export interface Made {
  readonly store: EventStore["Service"]
  readonly wake: (results: ReadonlyArray<CommitResult>) => void
  readonly recheck: Effect.Effect<void, InfrastructureError>
}

/**
 * Builds an EventStore over a storage, with the waiting for outcomes written once: a waiter is
 * registered before the message is sent, then the stored outcome is looked up (unless the msgId
 * was made for this very send, so none can exist), and whatever stores the outcome first wakes
 * it: this process's commit or park, or `recheck`. A waiter that gives up is dropped.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (storage: Storage): Made => {
  const waiting = new Map<string, Array<Deferred.Deferred<Outcome.Outcome>>>()
  const wake = (msgId: string, outcome: Outcome.Outcome) => {
    const deferreds = waiting.get(msgId)
    if (deferreds === undefined) return
    waiting.delete(msgId)
    for (const deferred of deferreds) Deferred.doneUnsafe(deferred, Effect.succeed(outcome))
  }
  const wakeAll = (results: ReadonlyArray<CommitResult>) => {
    if (waiting.size === 0) return
    for (const result of results) if (result._tag !== "Conflict") wake(result.outcome.msgId, result.outcome)
  }
  const lookUp = (msgIds: ReadonlyArray<string>) =>
    msgIds.length === 0 ? Effect.void : Effect.map(storage.lookUp(msgIds), (found) => {
      for (const [msgId, outcome] of found) wake(msgId, outcome)
    })
  const drop = (msgId: string, deferred: Deferred.Deferred<Outcome.Outcome>) =>
    Effect.sync(() => {
      const rest = (waiting.get(msgId) ?? []).filter((waiter) => waiter !== deferred)
      if (rest.length === 0) waiting.delete(msgId)
      else waiting.set(msgId, rest)
    })
  const awaitOutcome = (msgId: string, options?: AwaitOptions): Effect.Effect<Outcome.Outcome, InfrastructureError> => {
    // Taken when the call is made: the sender made this msgId for the send it passes. Only the
    // first run may skip the look-up: a second one comes after that send.
    let fresh = MsgIds.takeFresh(msgId)
    return Effect.suspend(() => {
      const skipLookUp = fresh
      fresh = false
      const deferred = Deferred.makeUnsafe<Outcome.Outcome>()
      const list = waiting.get(msgId)
      if (list === undefined) waiting.set(msgId, [deferred])
      else list.push(deferred)
      const send = options?.send ?? Effect.void
      return Effect.andThen(skipLookUp ? send : Effect.andThen(send, lookUp([msgId])), Deferred.await(deferred)).pipe(
        Effect.onExit((exit) => Exit.isSuccess(exit) ? Effect.void : drop(msgId, deferred))
      )
    })
  }
  const store = EventStore.of({
    readStream: storage.readStream,
    readAll: storage.readAll,
    readTagged: storage.readTagged,
    head: storage.head,
    commit: (requests) => Effect.tap(storage.commit(requests), (results) => Effect.sync(() => wakeAll(results))),
    outcome: storage.outcome,
    awaitOutcome,
    fail: (failed) => Effect.andThen(storage.fail(failed), Effect.sync(() => wake(failed.msgId, failed))),
    retry: storage.retry,
    loadSnapshot: storage.loadSnapshot,
    saveSnapshot: storage.saveSnapshot
  })
  return { store, wake: wakeAll, recheck: Effect.suspend(() => lookUp([...waiting.keys()])) }
}

/**
 * What the memory store keeps per message id: the final outcome or, for the commonest outcome (an
 * aggregate's command accepted with events), only its event, or its events: the outcome is
 * rebuilt from them when asked. Two objects fewer kept per command, which the garbage collector
 * would otherwise copy.
 */
type MsgRecord = Outcome.Final | Event.Envelope | ReadonlyArray<Event.Envelope>

/** The final outcome a record stands for. */
const finalOf = (msgId: string, record: MsgRecord | undefined): Outcome.Final | undefined => {
  if (record === undefined) return undefined
  if ("_tag" in record) return record
  const events: ReadonlyArray<Event.Envelope> = Array.isArray(record) ? record : [record as Event.Envelope]
  return { _tag: "Accepted", msgId, component: events[0]!.source, id: events[0]!.streamId, events }
}

/**
 * The log in memory: an array per stream and one array in global order, so positions are
 * contiguous here. Each operation is synchronous, hence atomic. The command processor of this
 * process reaches it without effects (internal/eager.ts), so that a whole command can run as one
 * synchronous step.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<EventStore, never, LogSignal> = Layer.effect(
  EventStore,
  Effect.gen(function*() {
    const signal = yield* LogSignal
    const clock = yield* Clock.Clock
    const log: Array<Event.Envelope> = []
    /** Source → stream id → events (nested, so a lookup builds no key string). */
    const streams = new Map<string, Map<string, Array<Event.Envelope>>>()
    const streamOf = (source: string, streamId: string) => streams.get(source)?.get(streamId)
    /** By message id, the final outcome (ids this process made cost no hashing). */
    const records = new MsgIdMap<MsgRecord>()
    /** Parked commands: a sender that asks after the parking still hears Failed, until a replay settles it. */
    const failures = new Map<string, typeof Outcome.Failed.Type>()
    const snapshots = new Map<string, Snapshot>()
    const key = (source: string, streamId: string) => `${source}/${streamId}`

    /** Whether an event of `log` matching the condition exists after its position. */
    const broken = (name: string, condition: AppendCondition | undefined): DcbConflict | undefined => {
      if (condition === undefined) return undefined
      for (let i = Math.max(0, condition.after ?? 0); i < log.length; i++) {
        const event = log[i]!
        if (event.source === name && matches(condition.failIfEventsMatch, { type: event.type, tags: event.tags ?? [] })) {
          return conflictOf(condition, event.position)
        }
      }
      return undefined
    }

    const commitOne = (request: CommitRequest, recordedAt: string): CommitResult => {
      const { boundary, component, decided, id, msgId } = request
      const previous = finalOf(msgId, records.get(msgId))
      if (previous !== undefined) return { _tag: "Duplicate", outcome: previous }
      // 1. The decision's reads still hold.
      let stream: Array<Event.Envelope> | undefined
      if (boundary._tag === "Stream") {
        stream = streamOf(component, id)
        const actual = stream?.length ?? 0
        if (boundary.expectedVersion !== "any" && boundary.expectedVersion !== actual) return { _tag: "Conflict", conflict: versionConflict(request, actual) }
      } else {
        const conflicting = broken(boundary.log, boundary.condition)
        if (conflicting !== undefined) return { _tag: "Conflict", conflict: conflicting }
      }
      // 2. Its events, after the log's and the stream's last.
      const outcome = committedOutcome(request, (stream?.length ?? 0) + 1, log.length + 1, recordedAt)
      if (outcome._tag === "Accepted" && outcome.events.length > 0) {
        if (boundary._tag === "Stream" && stream === undefined) {
          let bySource = streams.get(component)
          if (bySource === undefined) streams.set(component, bySource = new Map())
          bySource.set(id, stream = [])
        }
        for (const event of outcome.events) {
          log.push(event)
          stream?.push(event)
        }
      }
      // 3. Its outcome; an aggregate's accepted command keeps only its events.
      const events = outcome._tag === "Accepted" && decided._tag === "Events" && boundary._tag === "Stream" ? outcome.events : undefined
      records.set(msgId, events === undefined || events.length === 0 ? outcome : events.length === 1 ? events[0]! : events)
      if (failures.size > 0) failures.delete(msgId)
      return { _tag: "Committed", outcome }
    }

    const commitNow = (requests: ReadonlyArray<CommitRequest>): ReadonlyArray<CommitResult> => {
      const before = log.length
      const recordedAt = isoTime(clock.currentTimeMillisUnsafe())
      const results: Array<CommitResult> = []
      for (const request of requests) results.push(commitOne(request, recordedAt))
      if (log.length > before) signal.notify(log.length)
      return results
    }
    const readStream = (source: string, streamId: string, afterVersion = 0) => (streamOf(source, streamId) ?? []).slice(afterVersion)
    const scan = (after: Event.Position, limit: number, keep: (event: Event.Envelope) => boolean): ReadAllResult => {
      const events: Array<Event.Envelope> = []
      let i = Math.max(0, after)
      for (; i < log.length && events.length < limit; i++) if (keep(log[i]!)) events.push(log[i]!)
      return { events, through: Math.max(after, i) }
    }
    const readTagged = ({ after, limit, log: name, query }: { readonly log: string; readonly query: Query; readonly after: Event.Position; readonly limit: number }) =>
      scan(after, limit, (event) => event.source === name && matches(query, { type: event.type, tags: event.tags ?? [] }))
    const loadSnapshot = (source: string, streamId: string) => Option.fromUndefinedOr(snapshots.get(key(source, streamId)))

    const made = make({
      readStream: (source, streamId, afterVersion) => Effect.sync(() => readStream(source, streamId, afterVersion)),
      readAll: ({ after, limit, sources }) => Effect.sync(() => scan(after, limit, (event) => sources === undefined || sources.has(event.source))),
      readTagged: (options) => Effect.sync(() => readTagged(options)),
      head: Effect.sync(() => log.length),
      commit: (requests) => Effect.sync(() => commitNow(requests)),
      outcome: (msgId) => Effect.sync(() => Option.fromUndefinedOr(finalOf(msgId, records.get(msgId)))),
      lookUp: (msgIds) =>
        Effect.sync(() =>
          msgIds.flatMap((msgId) => {
            const outcome = finalOf(msgId, records.get(msgId)) ?? failures.get(msgId)
            return outcome === undefined ? [] : [[msgId, outcome] as const]
          })
        ),
      fail: (failed) => Effect.sync(() => void failures.set(failed.msgId, failed)),
      retry: (msgId) => Effect.sync(() => void failures.delete(msgId)),
      loadSnapshot: (source, streamId) => Effect.sync(() => loadSnapshot(source, streamId)),
      saveSnapshot: (source, streamId, snapshot) => Effect.sync(() => void snapshots.set(key(source, streamId), snapshot))
    })
    Eager.register(made.store, {
      readStream: (source, streamId, afterVersion) => Exit.succeed(readStream(source, streamId, afterVersion)),
      readTagged: (options) => Exit.succeed(readTagged(options)),
      loadSnapshot: (source, streamId) => Exit.succeed(loadSnapshot(source, streamId)),
      commit: (requests) => {
        const results = commitNow(requests)
        made.wake(results)
        return Exit.succeed(results)
      },
      outcome: (msgId) => finalOf(msgId, records.get(msgId)) ?? (failures.size === 0 ? undefined : failures.get(msgId))
    })
    return made.store
  })
)
