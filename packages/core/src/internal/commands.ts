/**
 * Command processing: load state (warm cache, else snapshot + stream) → decide → commit the
 * events with the expected version together with the outcome; the store's msgId check makes a
 * redelivered command a no-op (guarantee 1). A worker's batch is decided message by message and
 * committed in one call (one decision per partition per call). Version conflicts are retried at
 * once with fresh state; retryable infrastructure failures are retried on the transient
 * schedule; what still fails is parked in the dead letters (guarantee 6).
 */
import { Cause, type Context, Effect, Exit, Option, Result, Schedule, Schema } from "effect"
import * as Aggregate from "../Aggregate.ts"
import { DeadLetters } from "../DeadLetters.ts"
import * as Limits from "../Limits.ts"
import * as EventType from "./eventType.ts"
import { describeDefect, describeSchemaError, InfrastructureError, isInfrastructureError } from "../Errors.ts"
import type * as Event from "../Event.ts"
import type { DcbConflict } from "../DcbQuery.ts"
import type { AppendRequest, CommitRequest, EventStore, Snapshot, SyncEventStore, VersionConflict } from "../EventStore.ts"
import type { CommandMessage } from "../Message.ts"
import type { QueryEngine } from "../QueryEngine.ts"
import type { AggregateEntry, ExtensionPointEntry, Registry, SliceEntry } from "./registry.ts"

/** A failure that retrying cannot fix: the command is parked at once. */
export class PermanentFailure extends Schema.TaggedError<PermanentFailure>()("PermanentFailure", {
  reason: Schema.String
}) {}

/** A throw in the command's handling (decide, evolve, a codec), as a failure that may pass. */
class Threw extends Schema.TaggedError<Threw>()("Threw", { reason: Schema.String }) {}

/** What a commit reports when the decision's reads were stale. */
type Conflict = VersionConflict | DcbConflict

/** An instance's state as of a version, kept warm and brought forward in place as its commands are stored. */
interface Warm {
  state: unknown
  version: number
}

/** A decided message waiting to be stored. */
interface Pending {
  readonly message: CommandMessage
  readonly entry: AggregateEntry
  readonly warm: Warm
  readonly events: ReadonlyArray<unknown>
  readonly request: CommitRequest
}

export interface ProcessorOptions {
  readonly registry: Registry
  readonly store: EventStore["Service"]
  readonly deadLetters: DeadLetters["Service"]
  readonly queries: Context.Context<QueryEngine>
  readonly retrySchedule: Schedule.Schedule<unknown, unknown>
  readonly conflictSchedule: Schedule.Schedule<unknown, unknown>
  readonly cacheSize: number
  /** What a storable copy of an unstorable command is cut to. */
  readonly limits: Limits.Limits
  readonly now: () => string
  /** Handles a command of a state-change slice (internal/slices.ts); a DcbConflict is retried here. */
  readonly sliceCommand: (entry: SliceEntry, message: CommandMessage) => Effect.Effect<void, DcbConflict | PermanentFailure | InfrastructureError>
  /** Handles a command addressed to an extension point (internal/extensions.ts). */
  readonly extensionPointCommand: (
    entry: ExtensionPointEntry,
    message: CommandMessage
  ) => Effect.Effect<void, PermanentFailure | InfrastructureError>
}

const schemaFailure = (what: string, error: Schema.SchemaError) => {
  const { detail, path } = describeSchemaError(error)
  return new PermanentFailure({ reason: `${what} at ${path}: ${detail}` })
}

export const makeProcessor = (options: ProcessorOptions) => {
  const { deadLetters, registry, store } = options
  /**
   * Warm states, per aggregate by instance id (keyed by the message's own id string, so a lookup
   * builds no key), oldest evicted first beyond `cacheSize` per aggregate.
   */
  const caches = new Map<AggregateEntry, Map<string, Warm>>()
  for (const entry of registry.aggregates.values()) caches.set(entry, new Map())
  const warmOf = (entry: AggregateEntry, id: string) => caches.get(entry)!.get(id)
  const forget = (entry: AggregateEntry, id: string) => void caches.get(entry)!.delete(id)
  const remember = (entry: AggregateEntry, id: string, warm: Warm) => {
    const cache = caches.get(entry)!
    if (cache.size >= options.cacheSize && !cache.has(id)) cache.delete(cache.keys().next().value!)
    cache.set(id, warm)
  }

  const foldStored = (entry: AggregateEntry, from: Warm, events: ReadonlyArray<Event.Envelope>): Result.Result<Warm, PermanentFailure> => {
    let state = from.state
    let version = from.version
    for (const event of events) {
      const decoded = registry.decodeEvent(entry, event)
      if (Result.isFailure(decoded)) return Result.fail(schemaFailure(`stored event ${event.id} does not decode`, decoded.failure))
      state = entry.aggregate.evolve(state, decoded.success)
      version = event.version
    }
    return Result.succeed({ state, version })
  }

  const load = (entry: AggregateEntry, id: string): Effect.Effect<Warm, PermanentFailure | InfrastructureError> =>
    Effect.flatMap(store.loadSnapshot(entry.qualified, id), (snapshot) => {
      const start = startFrom(entry, snapshot)
      return Effect.flatMap(store.readStream(entry.qualified, id, start.version), (events) =>
        Effect.fromResult(foldStored(entry, start, events)))
    })

  /** Where a replay starts: the snapshot when there is one that decodes, else the initial state. */
  const startFrom = (entry: AggregateEntry, snapshot: Option.Option<Snapshot>): Warm => {
    if (Option.isSome(snapshot)) {
      const state = entry.codecs.decodeState(snapshot.value.state)
      if (Result.isSuccess(state)) return { state: state.success, version: snapshot.value.version }
    }
    return { state: entry.aggregate.initialState, version: 0 }
  }

  const eventType = EventType.cached()

  const encodeAll = (entry: AggregateEntry, events: ReadonlyArray<unknown>): Result.Result<Array<Event.NewEvent>, PermanentFailure> => {
    const out: Array<Event.NewEvent> = []
    for (const event of events) {
      const data = entry.codecs.encodeEvent(event)
      if (Result.isFailure(data)) return Result.fail(schemaFailure(`${entry.qualified} emitted an invalid event`, data.failure))
      out.push({
        type: eventType(entry.qualified, data.success),
        schemaVersion: entry.aggregate.eventVersion,
        data: data.success
      })
    }
    return Result.succeed(out)
  }

  const contextOf = (message: CommandMessage): Aggregate.DecideContext => ({ id: message.id, user: message.meta.user, time: message.meta.time })

  /** Turns a decision into the request that stores it, with what to remember once it is stored. */
  const pendingFor = (
    entry: AggregateEntry,
    message: CommandMessage,
    warm: Warm,
    decision: Result.Result<ReadonlyArray<unknown>, unknown>
  ): Result.Result<Pending, PermanentFailure> => {
    if (Result.isFailure(decision)) {
      const error = entry.codecs.encodeRejection(decision.failure)
      if (Result.isFailure(error)) return Result.fail(schemaFailure(`${entry.qualified} rejected with an invalid error`, error.failure))
      const outcome = { _tag: "Rejected", msgId: message.msgId, component: entry.qualified, id: message.id, error: error.success, user: message.meta.user } as const
      return Result.succeed({ message, entry, warm, events: [], request: { _tag: "Reject", expectedVersion: warm.version, outcome } })
    }
    const encoded = encodeAll(entry, decision.success)
    if (Result.isFailure(encoded)) return Result.fail(encoded.failure)
    const request: AppendRequest = {
      msgId: message.msgId,
      source: entry.qualified,
      streamId: message.id,
      expectedVersion: warm.version,
      events: encoded.success,
      meta: message.meta
    }
    return Result.succeed({ message, entry, warm, events: decision.success, request: { _tag: "Append", request } })
  }

  /** Whether moving a stream from one version to another crosses a `snapshotEvery` boundary. */
  const snapshotDue = (entry: AggregateEntry, from: number, to: number): boolean => {
    const every = entry.aggregate.snapshotEvery
    return every > 0 && Math.floor(to / every) !== Math.floor(from / every)
  }

  /**
   * Keeps the new state warm; returns the snapshot to save when one is due (best effort: a
   * snapshot only saves replay).
   */
  const committed = (pending: Pending): Effect.Effect<void> | undefined => {
    const { entry, events, warm } = pending
    if (events.length === 0) return undefined
    let state: unknown
    try {
      state = Aggregate.fold(entry.aggregate, events, warm.state)
    } catch (defect) {
      // The events are stored already; the next command reloads and meets the defect there.
      forget(entry, pending.message.id)
      return Effect.logError(`${entry.qualified} ${pending.message.id}: evolve threw after a commit: ${String(defect)}`)
    }
    // The cache holds this very object (unless it was evicted meanwhile: then it is loaded again when next needed).
    const from = warm.version
    const version = from + events.length
    warm.state = state
    warm.version = version
    if (!snapshotDue(entry, from, version)) return undefined
    const encoded = entry.codecs.encodeState(state)
    if (Result.isFailure(encoded)) return Effect.logWarning(`${entry.qualified} state does not encode; no snapshot`)
    return Effect.catch(
      store.saveSnapshot(entry.qualified, pending.message.id, { version, state: encoded.success }),
      (error) => Effect.logWarning(`snapshot of ${entry.qualified} ${pending.message.id} not saved: ${error.message}`)
    )
  }

  const commitOne = (pending: Pending): Effect.Effect<void, Conflict | InfrastructureError> =>
    Effect.flatMap(store.commit([pending.request]), ([result]) =>
      result!._tag === "Conflict" ? Effect.fail(result!.conflict) : (result!._tag === "Committed" && committed(pending)) || Effect.void)

  const attempt = (entry: AggregateEntry, message: CommandMessage, command: unknown) => {
    const decideWith = (warm: Warm) => {
      const decision = entry.aggregate.decide(warm.state, command, contextOf(message))
      const commitDecision = (result: Result.Result<ReadonlyArray<unknown>, unknown>) =>
        Effect.flatMap(Effect.fromResult(pendingFor(entry, message, warm, result)), commitOne)
      return Result.isResult(decision)
        ? commitDecision(decision)
        : Effect.flatMap(Effect.provideContext(Effect.result(decision), options.queries), (result) =>
          // A query that failed is the infrastructure's failure, not the aggregate's answer.
          Result.isFailure(result) && isInfrastructureError(result.failure) ? Effect.fail(result.failure) : commitDecision(result))
    }
    const warm = warmOf(entry, message.id)
    return warm !== undefined
      ? decideWith(warm)
      : Effect.flatMap(load(entry, message.id), (loaded) => {
        remember(entry, message.id, loaded)
        return decideWith(loaded)
      })
  }

  /**
   * Parks a command that failed for good. A command the stores cannot keep as it is (it came past
   * the edge's checks: a NUL in its id, a msgId past an index's size) is parked as a storable
   * copy (`Limits.storableMessage`), the reason saying so, so that it never blocks the commands
   * behind it. When even that fails (the stores are unreachable), the command is neither settled
   * nor parked: the failure goes up, so the platform keeps its message for a later delivery
   * instead of acknowledging it.
   */
  const park = (message: CommandMessage, reason: string, attempts: number): Effect.Effect<void, InfrastructureError> => {
    const parkAs = (parked: CommandMessage, why: string) =>
      Effect.andThen(
        deadLetters.park({ _tag: "Command", id: parked.msgId, message: parked, reason: why, attempts, parkedAt: options.now() }),
        store.fail({ _tag: "Failed", msgId: parked.msgId, component: parked.component, id: parked.id, reason: why, user: parked.meta.user })
      )
    return parkAs(message, reason).pipe(
      Effect.catch((error) =>
        error.retryable
          ? Effect.fail(error)
          : Effect.andThen(
            Effect.logError(`command ${JSON.stringify(message.msgId.slice(0, 64))} cannot be stored as sent (${error.detail}); parking a storable copy`),
            parkAs(
              Limits.storableMessage(options.limits, message),
              // The reason may echo the bad value (a schema error quoting it): made storable too.
              Limits.storableText(`${reason}; parked as a storable copy, the command as sent could not be stored: ${error.detail}`, 2000)
            )
          )),
      Effect.mapError((error) =>
        new InfrastructureError({
          service: "CommandProcessor",
          operation: "park",
          detail: `could not park command ${message.msgId.slice(0, 64)} (${reason}): ${error.message}`,
          retryable: error.retryable
        }))
    )
  }

  const isRetryable = (error: Conflict | PermanentFailure | InfrastructureError | Threw) =>
    error._tag === "Threw" || (error._tag === "InfrastructureError" && error.retryable)

  /**
   * One message on its own, to its outcome, with every safeguard: a dedup check, immediate
   * retries of version conflicts, the transient retry schedule, and parking. Fails only when it
   * cannot park.
   */
  const handleOne = (message: CommandMessage): Effect.Effect<void, InfrastructureError> =>
    Effect.suspend(() => {
      const entry = registry.aggregates.get(message.component)
      if (entry === undefined) {
        const slice = registry.slices.get(message.component)
        if (slice !== undefined) {
          return safely(
            message,
            Effect.retry(Effect.suspend(() => options.sliceCommand(slice, message)), {
              while: (error) => error._tag === "DcbConflict",
              schedule: options.conflictSchedule
            })
          )
        }
        const extensionPoint = registry.extensionPoints.get(message.component)
        if (extensionPoint === undefined) return park(message, `unknown component "${message.component}"`, 1)
        return safely(message, options.extensionPointCommand(extensionPoint, message))
      }
      const command = entry.codecs.decodeCommand(message.command)
      if (Result.isFailure(command)) return park(message, schemaFailure(`invalid command for ${entry.qualified}`, command.failure).reason, 1)
      const decided = Effect.suspend(() => attempt(entry, message, command.success)).pipe(
        Effect.tapError((error) =>
          Effect.sync(() => {
            if (error._tag !== "PermanentFailure" && error._tag !== "InfrastructureError") forget(entry, message.id)
          })
        ),
        Effect.retry({ while: (error) => error._tag === "VersionConflict" || error._tag === "DcbConflict", schedule: options.conflictSchedule })
      )
      return safely(message, decided)
    })

  /** Runs `once` unless the message already has an outcome; retries transient failures, then parks. */
  const safely = (message: CommandMessage, once: Effect.Effect<void, Conflict | PermanentFailure | InfrastructureError>): Effect.Effect<void, InfrastructureError> => {
    let attempts = 0
    const counted = Effect.suspend(() => {
      attempts++
      return once
    })
    return Effect.flatMap(store.outcome(message.msgId), (previous) => Option.isSome(previous) ? Effect.void : counted).pipe(
      // A throw (in decide, evolve, a codec) may be passing too: retried like a failure that may
      // pass, then parked with a one-line reason; its stack goes to the log, not the outcome.
      Effect.catchDefect((defect) =>
        Effect.andThen(
          Effect.logError(`${message.component} ${JSON.stringify(message.id.slice(0, 64))}: command ${message.msgId.slice(0, 64)} died`, Cause.die(defect)),
          Effect.fail(new Threw({ reason: `defect: ${describeDefect(defect)}` }))
        )),
      Effect.retry({ schedule: options.retrySchedule, while: isRetryable }),
      Effect.catch((error) => park(message, error._tag === "Threw" ? error.reason : error.message, attempts)),
      Effect.catchDefect((defect) => park(message, `defect: ${describeDefect(defect)}`, attempts))
    )
  }

  /** Stores a batch of decisions in one call, then settles each message by its result. */
  const flush = (batch: ReadonlyArray<Pending>): Effect.Effect<void, InfrastructureError> => {
    if (batch.length === 0) return Effect.void
    return Effect.matchEffect(store.commit(batch.map((pending) => pending.request)), {
      onFailure: () => {
        for (const pending of batch) forget(pending.entry, pending.message.id)
        return Effect.forEach(batch, (pending) => handleOne(pending.message), { discard: true })
      },
      onSuccess: (results) => {
        const after: Array<Effect.Effect<void, InfrastructureError>> = []
        results.forEach((result, i) => {
          const pending = batch[i]!
          if (result._tag === "Committed") {
            const snapshot = committed(pending)
            if (snapshot !== undefined) after.push(snapshot)
          } else if (result._tag === "Conflict") {
            forget(pending.entry, pending.message.id)
            after.push(handleOne(pending.message))
          }
        })
        return after.length === 0 ? Effect.void : Effect.forEach(after, (effect) => effect, { discard: true })
      }
    })
  }

  /**
   * The fast path: decides message after message against warm states and collects the decisions,
   * one per partition, into a batch that is stored in one call. A cold partition is loaded on the
   * way. A message that needs care (state that does not load, a bad payload, a throwing decide)
   * flushes the batch and goes the careful way; a second message of a partition already in the
   * batch flushes it first. Either way each partition sees its messages one at a time, in order.
   */
  const careful = (messages: ReadonlyArray<CommandMessage>, i: number, batch: ReadonlyArray<Pending>): Effect.Effect<void, InfrastructureError> =>
    Effect.andThen(flush(batch), Effect.andThen(handleOne(messages[i]!), Effect.suspend(() => pass(messages, i + 1, [], new Set()))))
  const add = (pending: Result.Result<Pending, PermanentFailure>, batch: Array<Pending>, inBatch: Set<Warm>): boolean => {
    if (Result.isFailure(pending)) return false
    batch.push(pending.success)
    inBatch.add(pending.success.warm)
    return true
  }

  const pass = (messages: ReadonlyArray<CommandMessage>, from: number, batch: Array<Pending>, inBatch: Set<Warm>): Effect.Effect<void, InfrastructureError> => {
    for (let i = from; i < messages.length; i++) {
      const message = messages[i]!
      const entry = registry.aggregates.get(message.component)
      if (entry === undefined) return careful(messages, i, batch)
      const warm = warmOf(entry, message.id)
      if (warm === undefined) {
        return Effect.flatMap(Effect.exit(load(entry, message.id)), (loaded) => {
          if (Exit.isFailure(loaded)) return careful(messages, i, batch)
          remember(entry, message.id, loaded.value)
          return pass(messages, i, batch, inBatch)
        })
      }
      if (inBatch.has(warm)) return Effect.andThen(flush(batch), Effect.suspend(() => pass(messages, i, [], new Set())))
      const command = entry.codecs.decodeCommand(message.command)
      if (Result.isFailure(command)) return careful(messages, i, batch)
      let decision: Aggregate.Decision<unknown, unknown>
      try {
        decision = entry.aggregate.decide(warm.state, command.success, contextOf(message))
      } catch {
        return careful(messages, i, batch)
      }
      if (Result.isResult(decision)) {
        if (!add(pendingFor(entry, message, warm, decision), batch, inBatch)) return careful(messages, i, batch)
        continue
      }
      return Effect.flatMap(Effect.exit(Effect.provideContext(decision, options.queries)), (exit) => {
        const result = Exit.isSuccess(exit)
          ? Result.succeed(exit.value)
          : Option.match(Exit.findErrorOption(exit), { onNone: () => undefined, onSome: (error) => isInfrastructureError(error) ? undefined : Result.fail(error) })
        return result !== undefined && add(pendingFor(entry, message, warm, result), batch, inBatch) ? pass(messages, i + 1, batch, inBatch) : careful(messages, i, batch)
      })
    }
    return flush(batch)
  }

  /**
   * Processes a batch of messages (one worker's, in order) to their outcomes. Fails only when a
   * message could be neither settled nor parked; those settled are no-ops when it comes again.
   */
  const handle = (messages: ReadonlyArray<CommandMessage>): Effect.Effect<void, InfrastructureError> =>
    Effect.catchDefect(Effect.suspend(() => pass(messages, 0, [], new Set())), (defect) =>
      // Whatever broke the fast path (a platform's commit dying, say), the careful path settles every
      // message: those already stored are skipped by their outcome, the rest retried or parked.
      Effect.andThen(
        Effect.logError(`command batch failed, settling its ${messages.length} messages one by one: ${String(defect)}`),
        Effect.forEach(messages, (message) => {
          const entry = registry.aggregates.get(message.component)
          if (entry !== undefined) forget(entry, message.id)
          return handleOne(message)
        }, { discard: true })
      ))

  /**
   * A whole command in one synchronous step, when every part of it can be: the store is
   * synchronous (`EventStore.sync`), the state loads, the command decodes, `decide` answers with a Result,
   * no snapshot falls due, and the commit neither conflicts nor fails. Then it returns what is
   * left to do (a log line at most); anything else returns `undefined` before a write (or after
   * a conflict, which writes nothing) and `handle` takes over. `decoded` is the command as the
   * sender decoded it, when it did (the runtime's `submit`, with the same codecs).
   */
  const handleNow = (message: CommandMessage, decoded?: unknown): Effect.Effect<void> | undefined => {
    const now = store.sync
    if (now === undefined) return undefined
    const entry = registry.aggregates.get(message.component)
    if (entry === undefined) return undefined
    let pending: Pending | undefined
    try {
      pending = decideNow(now, entry, message, decoded)
    } catch {
      // A codec, an evolve or a decide that throws: the careful path parks the command.
      return undefined
    }
    if (pending === undefined) return undefined
    const result = now.commit([pending.request])?.[0]
    if (result === undefined) return undefined
    if (result._tag === "Conflict") {
      forget(entry, message.id)
      return undefined
    }
    return (result._tag === "Committed" && committed(pending)) || Effect.void
  }

  /** The decision of `handleNow`, ready to store, or `undefined` when it takes the careful path. */
  const decideNow = (now: SyncEventStore, entry: AggregateEntry, message: CommandMessage, decoded: unknown): Pending | undefined => {
    let warm = warmOf(entry, message.id)
    if (warm === undefined) {
      const start = startFrom(entry, now.loadSnapshot(entry.qualified, message.id))
      const loaded = foldStored(entry, start, now.readStream(entry.qualified, message.id, start.version))
      if (Result.isFailure(loaded)) return undefined
      remember(entry, message.id, warm = loaded.success)
    }
    let command = decoded
    if (command === undefined) {
      const decoding = entry.codecs.decodeCommand(message.command)
      if (Result.isFailure(decoding)) return undefined
      command = decoding.success
    }
    const decision = entry.aggregate.decide(warm.state, command, contextOf(message))
    if (!Result.isResult(decision)) return undefined
    const pending = pendingFor(entry, message, warm, decision)
    if (Result.isFailure(pending)) return undefined
    if (snapshotDue(entry, warm.version, warm.version + pending.success.events.length)) return undefined
    return pending.success
  }

  return { handle, handleNow }
}
