/**
 * Command processing: dedup by message id → load state (warm cache, else snapshot + stream) →
 * decide → append with the expected version together with the outcome. Version conflicts are
 * retried at once with fresh state; retryable infrastructure failures are retried on the
 * transient schedule; what still fails is parked in the dead letters (guarantee 6).
 */
import { Cause, type Context, Effect, Option, Result, Schedule, Schema } from "effect"
import * as Aggregate from "../Aggregate.ts"
import { DeadLetters } from "../DeadLetters.ts"
import { describeSchemaError, InfrastructureError } from "../Errors.ts"
import type * as Event from "../Event.ts"
import { EventStore, VersionConflict } from "../EventStore.ts"
import type { CommandMessage } from "../Message.ts"
import type { QueryEngine } from "../QueryEngine.ts"
import type { AggregateEntry, Registry } from "./registry.ts"

/** A failure that retrying cannot fix: the command is parked at once. */
export class PermanentFailure extends Schema.TaggedError<PermanentFailure>()("PermanentFailure", {
  reason: Schema.String
}) {}

interface Warm {
  readonly state: unknown
  readonly version: number
}

export interface ProcessorOptions {
  readonly registry: Registry
  readonly store: EventStore["Service"]
  readonly deadLetters: DeadLetters["Service"]
  readonly queries: Context.Context<QueryEngine>
  readonly retrySchedule: Schedule.Schedule<unknown, unknown>
  readonly maxConflictRetries: number
  readonly cacheSize: number
  readonly now: () => string
}

const schemaFailure = (what: string, error: Schema.SchemaError) => {
  const { detail, path } = describeSchemaError(error)
  return new PermanentFailure({ reason: `${what} at ${path}: ${detail}` })
}

export const makeProcessor = (options: ProcessorOptions) => {
  const { deadLetters, registry, store } = options
  const cache = new Map<string, Warm>()

  const remember = (key: string, warm: Warm) => {
    if (!cache.has(key) && cache.size >= options.cacheSize) cache.delete(cache.keys().next().value!)
    cache.set(key, warm)
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
      let start: Warm = { state: entry.aggregate.initialState, version: 0 }
      if (Option.isSome(snapshot)) {
        const state = entry.decodeState(snapshot.value.state)
        if (Result.isSuccess(state)) start = { state: state.success, version: snapshot.value.version }
      }
      return Effect.flatMap(store.readStream(entry.qualified, id, start.version), (events) =>
        Effect.fromResult(foldStored(entry, start, events)))
    })

  const encodeAll = (entry: AggregateEntry, events: ReadonlyArray<unknown>): Result.Result<Array<Event.NewEvent>, PermanentFailure> => {
    const out: Array<Event.NewEvent> = []
    for (const event of events) {
      const data = entry.encodeEvent(event)
      if (Result.isFailure(data)) return Result.fail(schemaFailure(`${entry.qualified} emitted an invalid event`, data.failure))
      const tag = (data.success as { readonly _tag?: unknown })._tag
      out.push({
        type: typeof tag === "string" ? `${entry.qualified}.${tag}` : entry.qualified,
        schemaVersion: entry.aggregate.eventVersion,
        data: data.success
      })
    }
    return Result.succeed(out)
  }

  const commit = (
    entry: AggregateEntry,
    message: CommandMessage,
    key: string,
    warm: Warm,
    decision: Result.Result<ReadonlyArray<unknown>, unknown>
  ): Effect.Effect<void, VersionConflict | PermanentFailure | InfrastructureError> => {
    if (Result.isFailure(decision)) {
      const error = entry.encodeRejection(decision.failure)
      if (Result.isFailure(error)) return Effect.fail(schemaFailure(`${entry.qualified} rejected with an invalid error`, error.failure))
      return Effect.asVoid(store.reject({ _tag: "Rejected", msgId: message.msgId, component: entry.qualified, id: message.id, error: error.success }))
    }
    const events = decision.success
    const encoded = encodeAll(entry, events)
    if (Result.isFailure(encoded)) return Effect.fail(encoded.failure)
    return Effect.flatMap(
      store.append({
        msgId: message.msgId,
        source: entry.qualified,
        streamId: message.id,
        expectedVersion: warm.version,
        events: encoded.success,
        meta: message.meta
      }),
      (result) => {
        if (result._tag === "Duplicate" || events.length === 0) return Effect.void
        const next: Warm = { state: Aggregate.fold(entry.aggregate, events, warm.state), version: warm.version + events.length }
        remember(key, next)
        const every = entry.aggregate.snapshotEvery
        if (every > 0 && Math.floor(next.version / every) > Math.floor(warm.version / every)) {
          const state = entry.encodeState(next.state)
          if (Result.isSuccess(state)) return store.saveSnapshot(entry.qualified, message.id, { version: next.version, state: state.success })
        }
        return Effect.void
      }
    )
  }

  const attempt = (entry: AggregateEntry, message: CommandMessage, command: unknown) => {
    const key = `${entry.qualified}/${message.id}`
    const decideWith = (warm: Warm) => {
      const context = { id: message.id, user: message.meta.user, time: message.meta.time }
      const decision = entry.aggregate.decide(warm.state, command, context)
      return Result.isResult(decision)
        ? commit(entry, message, key, warm, decision)
        : Effect.flatMap(Effect.provideContext(Effect.result(decision), options.queries), (result) =>
          commit(entry, message, key, warm, result))
    }
    const warm = cache.get(key)
    return warm !== undefined
      ? decideWith(warm)
      : Effect.flatMap(load(entry, message.id), (loaded) => {
        remember(key, loaded)
        return decideWith(loaded)
      })
  }

  const park = (message: CommandMessage, reason: string, attempts: number) =>
    Effect.andThen(
      Effect.catch(
        deadLetters.park({ _tag: "Command", id: message.msgId, message, reason, attempts, parkedAt: options.now() }),
        (error) => Effect.logError(`could not park command ${message.msgId}: ${error.message}`)
      ),
      store.fail({ _tag: "Failed", msgId: message.msgId, component: message.component, id: message.id, reason })
    )

  const isRetryable = (error: VersionConflict | PermanentFailure | InfrastructureError) =>
    error._tag === "InfrastructureError" && error.retryable

  /** Processes one command message to its outcome; never fails. */
  const handle = (message: CommandMessage): Effect.Effect<void> =>
    Effect.suspend(() => {
      const entry = registry.aggregates.get(message.component)
      if (entry === undefined) return park(message, `unknown component "${message.component}"`, 1)
      const command = entry.decodeCommand(message.command)
      if (Result.isFailure(command)) return park(message, schemaFailure(`invalid command for ${entry.qualified}`, command.failure).reason, 1)
      let attempts = 0
      const once = Effect.suspend(() => {
        attempts++
        return attempt(entry, message, command.success)
      })
      const process = Effect.flatMap(store.outcome(message.msgId), (previous) =>
        Option.isSome(previous)
          ? Effect.void
          : once.pipe(
            Effect.tapError((error) =>
              Effect.sync(() => {
                if (error._tag === "VersionConflict") cache.delete(`${entry.qualified}/${message.id}`)
              })
            ),
            Effect.retry({ while: (error) => error._tag === "VersionConflict", times: options.maxConflictRetries })
          ))
      return process.pipe(
        Effect.retry({ schedule: options.retrySchedule, while: isRetryable }),
        Effect.catch((error) => park(message, error.message, attempts)),
        Effect.catchDefect((defect) => park(message, `defect: ${Cause.pretty(Cause.die(defect))}`, attempts))
      )
    })

  return { handle }
}
