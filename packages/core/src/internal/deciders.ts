/**
 * What the command processor decides with: aggregates and state-change slices alike, each a
 * decider over a consistency boundary. An aggregate's boundary is its instance's stream (state
 * from a snapshot and the stream, the request holding the version it saw); a slice's is the DCB
 * query its command names (state folded from the events of the plugin's log that match it, the
 * request holding the condition that nothing matching arrived after what was read). The rest of
 * a command's way (a warm state, decide, commit, retries, parking) is the processor's, once for
 * both (internal/commands.ts).
 */
import { Effect, Option, Result, Schema } from "effect"
import * as Aggregate from "../Aggregate.ts"
import type { Decision } from "../Decision.ts"
import { matches, type Query } from "../DcbQuery.ts"
import { describeSchemaError, type InfrastructureError } from "../Errors.ts"
import type * as Event from "../Event.ts"
import type { CommitRequest, Decided, EventStore, NewEvent } from "../EventStore.ts"
import type { CommandMessage } from "../Message.ts"
import type * as Outcome from "../Outcome.ts"
import * as StateChangeSlice from "../StateChangeSlice.ts"
import * as EventType from "./eventType.ts"
import type { AggregateEntry, Registry, SliceEntry } from "./registry.ts"

/** A failure that retrying cannot fix: the command is parked at once. */
export class PermanentFailure extends Schema.TaggedError<PermanentFailure>()("PermanentFailure", {
  reason: Schema.String
}) {}

export const schemaFailure = (what: string, error: Schema.SchemaError): PermanentFailure => {
  const { detail, path } = describeSchemaError(error)
  return new PermanentFailure({ reason: `${what} at ${path}: ${detail}` })
}

/**
 * A state as of a point of its boundary (a stream version, or the log position read through),
 * kept warm by the processor and brought forward in place as its commands are stored.
 */
export interface Warm {
  state: unknown
  at: number
}

/** The reads a decider loads its state with: the store's effects, or the memory store's eager twins. */
export type Reads = Pick<EventStore["Service"], "readStream" | "readTagged" | "loadSnapshot">

/** A command, decoded, with the key of the state it decides on and, for a slice, the query it reads. */
export interface Target {
  readonly command: unknown
  readonly key: string
  readonly query?: Query | undefined
}

export interface Decider {
  readonly qualified: string
  /** The command decoded (or the sender's decoding of it, when at hand) and what it decides on. */
  readonly target: (message: CommandMessage, command?: unknown) => Target | PermanentFailure
  /** The state as stored. */
  readonly load: (reads: Reads, target: Target) => Effect.Effect<Warm, PermanentFailure | InfrastructureError>
  readonly decide: (state: unknown, target: Target, message: CommandMessage) => Decision<unknown, unknown>
  /** The request that stores a decision taken on the state as of `at`. */
  readonly request: (message: CommandMessage, target: Target, at: number, decided: Result.Result<ReadonlyArray<unknown>, unknown>) => CommitRequest | PermanentFailure
  /**
   * Brings `warm` forward over a committed outcome (the events decided, and as stored); returns
   * the snapshot to save when one falls due. Throws when `evolve` does.
   */
  readonly advance: (warm: Warm, target: Target, decided: ReadonlyArray<unknown>, outcome: typeof Outcome.Accepted.Type) => Effect.Effect<void, InfrastructureError> | undefined
}

/** What a decider decided, encoded for its request: its events (as `encodeEvent` stores them), or its rejection. */
const decidedOf = (
  qualified: string,
  codecs: { readonly encodeEvent: (event: unknown) => Result.Result<unknown, Schema.SchemaError>; readonly encodeRejection: (error: unknown) => Result.Result<unknown, Schema.SchemaError> },
  decided: Result.Result<ReadonlyArray<unknown>, unknown>,
  toNew: (event: unknown, data: unknown) => NewEvent
): Decided | PermanentFailure => {
  if (Result.isFailure(decided)) {
    const encoded = codecs.encodeRejection(decided.failure)
    return Result.isFailure(encoded) ? schemaFailure(`${qualified} rejected with an invalid error`, encoded.failure) : { _tag: "Rejected", error: encoded.success }
  }
  const events: Array<NewEvent> = []
  for (const event of decided.success) {
    const data = codecs.encodeEvent(event)
    if (Result.isFailure(data)) return schemaFailure(`${qualified} emitted an invalid event`, data.failure)
    events.push(toNew(event, data.success))
  }
  return { _tag: "Events", events }
}

/**
 * Folds an aggregate's stored events over a state, from a version: the state as of the last one.
 * An event that does not decode is a permanent failure (deciding without it would decide on a
 * wrong state).
 */
export const foldStream = (registry: Registry, entry: AggregateEntry, from: Warm, events: ReadonlyArray<Event.Envelope>): Result.Result<Warm, PermanentFailure> => {
  let state = from.state
  let at = from.at
  for (const event of events) {
    const decoded = registry.decodeEvent(entry, event)
    if (Result.isFailure(decoded)) return Result.fail(schemaFailure(`stored event ${event.id} does not decode`, decoded.failure))
    state = entry.aggregate.evolve(state, decoded.success)
    at = event.version
  }
  return Result.succeed({ state, at })
}

/**
 * An aggregate instance's state as stored: the snapshot when there is one that decodes (else the
 * initial state), then the stream after it.
 */
export const loadAggregate = (registry: Registry, entry: AggregateEntry, reads: Reads, id: string): Effect.Effect<Warm, PermanentFailure | InfrastructureError> =>
  Effect.flatMapEager(reads.loadSnapshot(entry.qualified, id), (snapshot) => {
    let start: Warm = { state: entry.aggregate.initialState, at: 0 }
    if (Option.isSome(snapshot)) {
      const state = entry.codecs.decodeState(snapshot.value.state)
      if (Result.isSuccess(state)) start = { state: state.success, at: snapshot.value.version }
    }
    return Effect.flatMapEager(reads.readStream(entry.qualified, id, start.at), (events) => Effect.fromResult(foldStream(registry, entry, start, events)))
  })

export const ofAggregate = (
  registry: Registry,
  entry: AggregateEntry,
  saveSnapshot: EventStore["Service"]["saveSnapshot"]
): Decider => {
  const { aggregate, codecs, qualified } = entry
  const eventType = EventType.cached()
  const toNew = (_event: unknown, data: unknown): NewEvent => ({ type: eventType(qualified, data), schemaVersion: aggregate.eventVersion, data })
  /** Whether moving a stream from one version to another crosses a `snapshotEvery` boundary. */
  const snapshotDue = (from: number, to: number) => aggregate.snapshotEvery > 0 && Math.floor(to / aggregate.snapshotEvery) !== Math.floor(from / aggregate.snapshotEvery)
  return {
    qualified,
    target: (message, command) => {
      if (command !== undefined) return { command, key: message.id }
      const decoded = codecs.decodeCommand(message.command)
      return Result.isFailure(decoded) ? schemaFailure(`invalid command for ${qualified}`, decoded.failure) : { command: decoded.success, key: message.id }
    },
    load: (reads, target) => loadAggregate(registry, entry, reads, target.key),
    decide: (state, target, message) => aggregate.decide(state, target.command, { id: message.id, user: message.meta.user, time: message.meta.time }),
    request: (message, _target, at, decision) => {
      const decided = decidedOf(qualified, codecs, decision, toNew)
      return decided instanceof PermanentFailure
        ? decided
        : { msgId: message.msgId, component: qualified, id: message.id, meta: message.meta, boundary: { _tag: "Stream", expectedVersion: at }, decided }
    },
    advance: (warm, target, decided) => {
      if (decided.length === 0) return undefined
      const state = Aggregate.fold(aggregate, decided, warm.state)
      const from = warm.at
      warm.state = state
      warm.at = from + decided.length
      if (!snapshotDue(from, warm.at)) return undefined
      const encoded = codecs.encodeState(state)
      if (Result.isFailure(encoded)) return Effect.logWarning(`${qualified} state does not encode; no snapshot`)
      return saveSnapshot(qualified, target.key, { version: warm.at, state: encoded.success })
    }
  }
}

/** How many events of the DCB log a slice's state is read in at a time. */
const pageSize = 512

export const ofSlice = (entry: SliceEntry): Decider => {
  const { codecs, log, qualified, slice } = entry
  const toNew = (event: unknown, data: unknown): NewEvent => ({ type: EventType.ofDcbLog(slice.name, data), schemaVersion: 1, data, tags: StateChangeSlice.tagsOf(event, slice.event) })
  const readAll = (reads: Reads, query: Query, after: number, read: Array<Event.Envelope>): Effect.Effect<Array<Event.Envelope>, InfrastructureError> =>
    Effect.flatMapEager(reads.readTagged({ log, query, after, limit: pageSize }), (page) => {
      read.push(...page.events)
      return page.events.length < pageSize ? Effect.succeed(read) : readAll(reads, query, page.through, read)
    })
  const folded = (from: Warm, events: ReadonlyArray<Event.Envelope>): Result.Result<Warm, PermanentFailure> => {
    const state = StateChangeSlice.fold(slice, events, from.state)
    return Result.isFailure(state)
      ? Result.fail(new PermanentFailure({ reason: state.failure.message }))
      : Result.succeed({ state: state.success, at: events.length === 0 ? from.at : events[events.length - 1]!.position })
  }
  return {
    qualified,
    target: (message, command) => {
      let decoded = command
      if (decoded === undefined) {
        const decoding = codecs.decodeCommand(message.command)
        if (Result.isFailure(decoding)) return schemaFailure(`invalid command for ${qualified}`, decoding.failure)
        decoded = decoding.success
      }
      const query = StateChangeSlice.queryFor(slice, decoded)
      return { command: decoded, key: JSON.stringify(query), query }
    },
    load: (reads, target) =>
      Effect.flatMapEager(readAll(reads, target.query!, 0, []), (events) => Effect.fromResult(folded({ state: slice.initialState, at: 0 }, events))),
    decide: (state, target) => slice.decide(state, target.command),
    request: (message, target, at, decision) => {
      const decided = decidedOf(qualified, codecs, decision, toNew)
      return decided instanceof PermanentFailure ? decided : {
        msgId: message.msgId,
        component: qualified,
        id: message.id,
        meta: message.meta,
        boundary: { _tag: "Query", log, condition: { failIfEventsMatch: target.query!, after: at } },
        decided
      }
    },
    advance: (warm, target, _decided, outcome) => {
      // The commit's condition held: nothing matching the query arrived between what was read and
      // these events, so the state as of the last of them is the state so far plus those that match.
      if (outcome.events.length === 0) return undefined
      const query = target.query!
      const next = folded(warm, outcome.events.filter((event) => matches(query, { type: event.type, tags: event.tags ?? [] })))
      if (Result.isFailure(next)) throw new Error(next.failure.reason)
      warm.state = next.success.state
      warm.at = outcome.events[outcome.events.length - 1]!.position
      return undefined
    }
  }
}
