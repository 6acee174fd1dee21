/**
 * Consumers of the log: projections, event mappings and side effects. Each pulls the events of
 * its sources after its own durable checkpoint, in global order (guarantee 4), handles them one
 * by one, and moves its checkpoint. A failing event is retried on the transient schedule, then
 * parked; the consumer waits until an operator replays or skips it (guarantee 6). An event whose
 * variant the consumer's schema does not know is skipped and counted.
 */
import { Cause, type Context, Effect, Option, PubSub, Result, Schedule, Schema } from "effect"
import type * as Aggregate from "../Aggregate.ts"
import * as DcbEventLog from "../DcbEventLog.ts"
import * as StateChangeSlice from "../StateChangeSlice.ts"
import { DeadLetters } from "../DeadLetters.ts"
import { describeSchemaError, InfrastructureError } from "../Errors.ts"
import type * as Event from "../Event.ts"
import type { EventMapping } from "../EventMapping.ts"
import { EventStore } from "../EventStore.ts"
import type { EventTopic } from "../EventTopic.ts"
import type { FaultSwitches } from "../Faults.ts"
import * as Message from "../Message.ts"
import type { QueryEngine } from "../QueryEngine.ts"
import * as ReadModel from "../ReadModel.ts"
import type { ReadModelStore, RowWrite } from "../ReadModelStore.ts"
import type { Checkpoints } from "../Checkpoints.ts"
import type { CommandTopic } from "../CommandTopic.ts"
import type { SideEffect } from "../SideEffect.ts"
import type { Activity } from "./activity.ts"
import { derive } from "./derived.ts"
import type { AggregateEntry, Registry } from "./registry.ts"

/** Why an event could not be handled. `skip` marks an unknown variant, which is not an error. */
export class HandlerFailure extends Schema.TaggedError<HandlerFailure>()("HandlerFailure", {
  reason: Schema.String,
  retryable: Schema.Boolean
}) {}

export const unknownVariant = new HandlerFailure({ reason: "unknown event variant", retryable: false })

export interface Handler {
  readonly name: string
  readonly sources: ReadonlySet<string>
  readonly handle: (event: Event.Envelope) => Effect.Effect<void, HandlerFailure>
  /**
   * Looks ahead at a page before its events are handled one by one (a projection reads the rows
   * the page touches in one query). Only an optimisation: whatever fails here is done again, and
   * reported, by `handle`.
   */
  readonly prepare?: ((events: ReadonlyArray<Event.Envelope>) => Effect.Effect<void>) | undefined
  /** Makes everything handled so far durable, up to `position`. */
  readonly flush: (position: Event.Position) => Effect.Effect<void, InfrastructureError>
  /** Forgets unflushed work (a redelivery after a crash starts over). */
  readonly reset: () => void
  /** Where a consumer without a checkpoint starts (default: the beginning of the log). */
  readonly startFrom?: "beginning" | "now" | undefined
}

export interface ConsumerStatus {
  readonly name: string
  position: Event.Position
  stalledOn: string | undefined
  skipped: number
  handled: number
}

export interface ConsumerDeps {
  readonly registry: Registry
  readonly store: EventStore["Service"]
  readonly topic: EventTopic["Service"]
  readonly checkpoints: Checkpoints["Service"]
  readonly deadLetters: DeadLetters["Service"]
  readonly activity: Activity
  readonly faults: FaultSwitches
  readonly retrySchedule: Schedule.Schedule<unknown, unknown>
  readonly batchSize: number
  readonly now: () => string
}

const decoded = (event: Event.Envelope, result: Result.Result<unknown, Schema.SchemaError>): Effect.Effect<unknown, HandlerFailure> => {
  if (Result.isSuccess(result)) return Effect.succeed(result.success)
  const { detail, path } = describeSchemaError(result.failure)
  return Effect.fail(path === "(root)" ? unknownVariant : new HandlerFailure({ reason: `event ${event.id} at ${path}: ${detail}`, retryable: false }))
}

export const decodeFor = (registry: Registry, entry: AggregateEntry, event: Event.Envelope): Effect.Effect<unknown, HandlerFailure> =>
  decoded(event, registry.decodeEvent(entry, event))

/**
 * How a consumer decodes the events of one of its sources: an aggregate's schema (with its
 * upcaster), or the consumer's own schema for the DCB log.
 */
export const decoderFor = (
  registry: Registry,
  source: Aggregate.Any | DcbEventLog.Source<unknown>,
  qualified: string
): (event: Event.Envelope) => Effect.Effect<unknown, HandlerFailure> => {
  if (DcbEventLog.isSource(source)) {
    // A log holds every slice's events: a type the consumer does not declare is not for it.
    const types = StateChangeSlice.fieldsByType(source.event)
    const decode = Schema.decodeUnknownResult(source.event)
    return (event) => types.has(event.type) ? decoded(event, decode(event.data)) : Effect.fail(unknownVariant)
  }
  const entry = entryOf(registry, qualified)
  return (event) => decodeFor(registry, entry, event)
}

export const entryOf = (registry: Registry, qualified: string): AggregateEntry => registry.aggregates.get(qualified)!

export const guard = <A>(what: string, run: () => A): Effect.Effect<A, HandlerFailure> =>
  Effect.try({ try: run, catch: (error) => new HandlerFailure({ reason: `${what} threw: ${String(error)}`, retryable: false }) })

export const infrastructure = (error: InfrastructureError) => new HandlerFailure({ reason: error.message, retryable: error.retryable })

/** Runs a consumer until interrupted. */
export const run = (deps: ConsumerDeps, handler: Handler, status: ConsumerStatus): Effect.Effect<never, InfrastructureError> => {
  const withRetries = (event: Event.Envelope) => {
    let attempts = 0
    return Effect.suspend(() => {
      attempts++
      return handler.handle(event)
    }).pipe(
      Effect.catchDefect((defect) => Effect.fail(new HandlerFailure({ reason: `defect: ${Cause.pretty(Cause.die(defect))}`, retryable: false }))),
      Effect.retry({ schedule: deps.retrySchedule, while: (failure) => failure.retryable }),
      Effect.map(() => "handled" as const),
      Effect.catch((failure): Effect.Effect<"handled" | "skipped" | { readonly parked: HandlerFailure; readonly attempts: number }> =>
        Effect.succeed(failure === unknownVariant ? "skipped" as const : { parked: failure, attempts }))
    )
  }

  /** Handles one event to completion: parked events wait for an operator's decision. */
  const settle = (event: Event.Envelope, lastDone: Event.Position): Effect.Effect<void, InfrastructureError> =>
    Effect.flatMap(withRetries(event), (result) => {
      if (result === "handled") return Effect.sync(() => void status.handled++)
      if (result === "skipped") return Effect.sync(() => void status.skipped++)
      const letterId = Message.stableId(`${handler.name}|${event.id}`)
      return Effect.gen(function*() {
        yield* handler.flush(lastDone)
        status.position = lastDone
        yield* deps.deadLetters.park({
          _tag: "Event",
          id: letterId,
          consumer: handler.name,
          event,
          reason: result.parked.reason,
          attempts: result.attempts,
          parkedAt: deps.now()
        })
        status.stalledOn = letterId
        deps.activity.bump()
        const resolution = yield* deps.deadLetters.awaitResolution(letterId)
        status.stalledOn = undefined
        if (resolution === "Replay") return yield* settle(event, lastDone)
      })
    })

  const handleBatch = (events: ReadonlyArray<Event.Envelope>) =>
    Effect.gen(function*() {
      let lastDone = status.position
      for (const event of events) {
        if (event.position <= status.position) continue
        yield* settle(event, lastDone)
        lastDone = event.position
      }
    })

  return Effect.gen(function*() {
    const saved = yield* deps.checkpoints.load(handler.name)
    if (Option.isSome(saved)) status.position = saved.value
    else if (handler.startFrom === "now") {
      // A new consumer that only wants what comes next: remember where "next" began, once.
      status.position = yield* deps.store.head
      yield* deps.checkpoints.save(handler.name, status.position)
    } else status.position = 0
    while (true) {
      const { events, through } = yield* deps.store.readAll({ after: status.position, limit: deps.batchSize, sources: handler.sources })
      if (through <= status.position) {
        deps.activity.bump()
        yield* deps.topic.awaitAfter(status.position)
        continue
      }
      if (handler.prepare !== undefined && events.length > 0) yield* handler.prepare(events)
      yield* handleBatch(events)
      if (deps.faults.duplicateEvents && events.length > 0) {
        handler.reset()
        yield* handleBatch(events)
      }
      yield* handler.flush(through)
      status.position = through
      deps.activity.bump()
    }
  })
}

/** The projections of one read model. Writes and checkpoint are one `commit`. */
export const projectionHandler = (
  deps: ConsumerDeps,
  store: ReadModelStore["Service"],
  readModel: ReadModel.Any,
  qualifiedSource: (projection: ReadModel.Projection<unknown>) => string,
  changes: PubSub.PubSub<RowWrite> | undefined
): Handler => {
  const name = `projection:${readModel.name}`
  const bySource = new Map(readModel.projections.map((projection) => {
    const qualified = qualifiedSource(projection)
    return [qualified, { projection, decode: decoderFor(deps.registry, projection.source, qualified) }] as const
  }))
  const decodeRow = Schema.decodeUnknownResult(readModel.row)
  const encodeRow = Schema.encodeUnknownResult(readModel.row)
  let overlay = new Map<string, { readonly row: unknown; readonly encoded: unknown } | undefined>()
  /** Stored rows read ahead for the page being handled (`prepare`), as stored: absent ones too. */
  let fetched = new Map<string, Option.Option<unknown>>()
  /** The actions `prepare` already computed, by event position. */
  let projected = new Map<Event.Position, ReadonlyArray<ReadModel.Action<unknown>>>()

  const decodeStored = (id: string, row: Option.Option<unknown>): Effect.Effect<Option.Option<unknown>, HandlerFailure> => {
    if (Option.isNone(row)) return Effect.succeedNone
    const decoded = decodeRow(row.value)
    return Result.isSuccess(decoded)
      ? Effect.succeedSome(decoded.success)
      : Effect.fail(new HandlerFailure({ reason: `stored row "${id}" of ${readModel.name}: ${decoded.failure.message}`, retryable: false }))
  }

  const current = (id: string): Effect.Effect<Option.Option<unknown>, HandlerFailure> => {
    if (overlay.has(id)) return Effect.succeed(Option.fromUndefinedOr(overlay.get(id)?.row))
    const ahead = fetched.get(id)
    if (ahead !== undefined) return decodeStored(id, ahead)
    return store.get(readModel.name, id).pipe(Effect.mapError(infrastructure), Effect.flatMap((row) => decodeStored(id, row)))
  }

  const project = (event: Event.Envelope, source: { readonly projection: ReadModel.Projection<unknown>; readonly decode: (event: Event.Envelope) => Effect.Effect<unknown, HandlerFailure> }) =>
    Effect.flatMap(source.decode(event), (value) =>
      guard(`projection of ${readModel.name}`, () => {
        const actions = source.projection.project({ event: value, id: event.streamId, meta: event.meta, position: event.position, recordedAt: event.recordedAt ?? event.meta.time })
        return (Array.isArray(actions) ? actions : [actions]) as ReadonlyArray<ReadModel.Action<unknown>>
      }))

  /** Projects the page ahead and reads every row it touches that is not in hand, in one query. */
  const prepare = (events: ReadonlyArray<Event.Envelope>) =>
    Effect.gen(function*() {
      const wanted = new Set<string>()
      for (const event of events) {
        const source = bySource.get(event.source)
        if (source === undefined) continue
        const actions = yield* Effect.option(project(event, source))
        if (Option.isNone(actions)) continue
        projected.set(event.position, actions.value)
        for (const action of actions.value) if (action._tag !== "Ignore" && !overlay.has(action.id) && !fetched.has(action.id)) wanted.add(action.id)
      }
      if (wanted.size === 0) return
      const rows = yield* Effect.option(store.getMany(readModel.name, [...wanted]))
      if (Option.isNone(rows)) return
      for (const id of wanted) fetched.set(id, rows.value.has(id) ? Option.some(rows.value.get(id)) : Option.none())
    })

  const handle = (event: Event.Envelope) =>
    Effect.gen(function*() {
      const source = bySource.get(event.source)
      if (source === undefined) return
      const ahead = projected.get(event.position)
      projected.delete(event.position)
      const actions = ahead ?? (yield* project(event, source))
      const touched = new Map<string, unknown>()
      for (const action of actions) {
        if (action._tag === "Ignore") continue
        if (!touched.has(action.id)) touched.set(action.id, Option.getOrUndefined(yield* current(action.id)))
        const rows = new Map<string, unknown>()
        const before = touched.get(action.id)
        if (before !== undefined) rows.set(action.id, before)
        yield* guard(`projection of ${readModel.name}`, () => ReadModel.apply(rows, action))
        touched.set(action.id, rows.get(action.id))
      }
      const staged: Array<[string, { readonly row: unknown; readonly encoded: unknown } | undefined]> = []
      for (const [id, row] of touched) {
        if (row === undefined) {
          staged.push([id, undefined])
          continue
        }
        const encoded = encodeRow(row)
        if (Result.isFailure(encoded)) {
          return yield* new HandlerFailure({ reason: `row "${id}" of ${readModel.name} from event ${event.id}: ${encoded.failure.message}`, retryable: false })
        }
        staged.push([id, { row, encoded: encoded.success }])
      }
      for (const [id, value] of staged) overlay.set(id, value)
    })

  return {
    name,
    sources: new Set(bySource.keys()),
    handle,
    prepare,
    reset: () => {
      overlay = new Map()
      fetched = new Map()
      projected = new Map()
    },
    flush: (position) =>
      Effect.suspend(() => {
        const writes: Array<RowWrite> = []
        for (const [id, value] of overlay) {
          writes.push(value === undefined ? { _tag: "Delete", id } : { _tag: "Put", id, row: value.encoded })
        }
        overlay = new Map()
        fetched = new Map()
        projected = new Map()
        return Effect.tap(
          store.commit({ readModel: readModel.name, writes, checkpoint: { consumer: name, position } }),
          () => changes === undefined ? Effect.void : PubSub.publishAll(changes, writes)
        )
      })
  }
}

/** A consumer of one source whose checkpoint is a plain `Checkpoints` entry (no rows to commit with it). */
export const checkpointed = (deps: ConsumerDeps, name: string, source: string) => ({
  name,
  sources: new Set([source]),
  reset: () => {},
  flush: (position: Event.Position) => deps.checkpoints.save(name, position)
})

/** An event mapping: publishes derived commands with deterministic message ids (guarantee 7). */
export const mappingHandler = (
  deps: ConsumerDeps,
  commands: CommandTopic["Service"],
  mapping: EventMapping,
  plugin: string,
  queries: Context.Context<QueryEngine>
): Handler => {
  const name = `mapping:${plugin}.${mapping.name}`
  const source = `${plugin}.${mapping.source.name}`
  return {
    ...checkpointed(deps, name, source),
    handle: (event) =>
      Effect.gen(function*() {
        const decoded = yield* decodeFor(deps.registry, entryOf(deps.registry, source), event)
        const mapped = yield* guard(`event mapping ${mapping.name}`, () => mapping.map({ event: decoded, id: event.streamId, meta: event.meta }))
        const publishes = Array.isArray(mapped) ? mapped : yield* Effect.provideContext(mapped as Exclude<typeof mapped, ReadonlyArray<unknown>>, queries)
        const origin = { consumer: name, causeId: event.id, meta: event.meta }
        const messages: Array<Message.CommandMessage> = []
        for (let index = 0; index < publishes.length; index++) {
          const publish = publishes[index]!
          const target = deps.registry.encodeCommand(plugin, publish.target, publish.command)
          if (Result.isFailure(target)) return yield* new HandlerFailure({ reason: `event mapping ${mapping.name} ${target.failure}`, retryable: false })
          messages.push(derive(deps.now(), origin, index, target.success, publish.id))
        }
        if (messages.length > 0) yield* Effect.mapError(commands.publish(messages), infrastructure)
      })
  }
}

/** A side effect: at least once, with a stable idempotency key (guarantee 4). */
export const sideEffectHandler = <R>(
  deps: ConsumerDeps,
  sideEffect: SideEffect<R>,
  plugin: string,
  task: string,
  services: Context.Context<R | QueryEngine>
): Handler => {
  const name = `sideEffect:${plugin}.${task}.${sideEffect.name}`
  const source = `${plugin}.${sideEffect.source.name}`
  return {
    ...checkpointed(deps, name, source),
    handle: (event) =>
      Effect.flatMap(decodeFor(deps.registry, entryOf(deps.registry, source), event), (decoded) =>
        sideEffect.execute({ event: decoded, id: event.streamId, meta: event.meta, idempotencyKey: `${event.id}|${name}` }).pipe(
          Effect.provideContext(services),
          Effect.mapError((error) => new HandlerFailure({ reason: `side effect ${sideEffect.name}: ${String(error)}`, retryable: true }))
        ))
  }
}

