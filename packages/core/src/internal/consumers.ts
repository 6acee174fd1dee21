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
import { describeDefect, describeSchemaError, InfrastructureError } from "../Errors.ts"
import type * as Event from "../Event.ts"
import type { EventMapping } from "../EventMapping.ts"
import { EventStore } from "../EventStore.ts"
import type { EventTopic } from "../EventTopic.ts"
import type { Lease, LeaseLost } from "../Leases.ts"
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

/**
 * Why an event could not be handled. `skip` marks an unknown variant, which is not an error.
 * `outage`: the platform's own stores failed (not the handler's code), so the event is not parked
 * when retries run out: the consumer stops and its supervisor starts it again once they are back.
 */
export class HandlerFailure extends Schema.TaggedError<HandlerFailure>()("HandlerFailure", {
  reason: Schema.String,
  retryable: Schema.Boolean,
  outage: Schema.optionalKey(Schema.Boolean)
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
  /** Makes everything handled so far durable, up to `position`, under the consumer's lease. */
  readonly flush: (position: Event.Position, lease: Lease) => Effect.Effect<void, InfrastructureError | LeaseLost>
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
  readonly retrySchedule: Schedule.Schedule<unknown, unknown>
  readonly batchSize: number
  readonly now: () => string
}

const decoded = (event: Event.Envelope, result: Result.Result<unknown, Schema.SchemaError>): Result.Result<unknown, HandlerFailure> => {
  if (Result.isSuccess(result)) return Result.succeed(result.success)
  const { detail, path } = describeSchemaError(result.failure)
  return Result.fail(path === "(root)" ? unknownVariant : new HandlerFailure({ reason: `event ${event.id} at ${path}: ${detail}`, retryable: false }))
}

export const decodeFor = (registry: Registry, entry: AggregateEntry, event: Event.Envelope): Effect.Effect<unknown, HandlerFailure> =>
  Effect.fromResult(decoded(event, registry.decodeEvent(entry, event)))

/**
 * How a consumer decodes the events of one of its sources: an aggregate's schema (with its
 * upcaster), or the consumer's own schema for the DCB log.
 */
export const decoderFor = (
  registry: Registry,
  source: Aggregate.Any | DcbEventLog.Source<unknown>,
  qualified: string
): (event: Event.Envelope) => Effect.Effect<unknown, HandlerFailure> => {
  const decode = resultDecoderFor(registry, source, qualified)
  return (event) => Effect.fromResult(decode(event))
}

/** `decoderFor` without an effect, for hot loops. */
const resultDecoderFor = (
  registry: Registry,
  source: Aggregate.Any | DcbEventLog.Source<unknown>,
  qualified: string
): (event: Event.Envelope) => Result.Result<unknown, HandlerFailure> => {
  if (DcbEventLog.isSource(source)) {
    // A log holds every slice's events: a type the consumer does not declare is not for it.
    const types = StateChangeSlice.fieldsByType(source.event)
    const decode = Schema.decodeUnknownResult(source.event)
    return (event) => types.has(event.type) ? decoded(event, decode(event.data)) : Result.fail(unknownVariant)
  }
  const entry = entryOf(registry, qualified)
  return (event) => decoded(event, registry.decodeEvent(entry, event))
}

export const entryOf = (registry: Registry, qualified: string): AggregateEntry => registry.aggregates.get(qualified)!

export const guard = <A>(what: string, run: () => A): Effect.Effect<A, HandlerFailure> => Effect.suspend(() => Effect.fromResult(guarded(what, run)))

/** `guard` without an effect, for hot loops. */
const guarded = <A>(what: string, run: () => A): Result.Result<A, HandlerFailure> => {
  try {
    return Result.succeed(run())
  } catch (error) {
    // A throw may be passing (a flaky dependency, a race): retried on the schedule like any
    // failure that may pass, then parked with the one-line reason.
    return Result.fail(new HandlerFailure({ reason: `${what} threw: ${describeDefect(error)}`, retryable: true }))
  }
}

export const infrastructure = (error: InfrastructureError) => new HandlerFailure({ reason: error.message, retryable: error.retryable, outage: error.retryable })

/**
 * Runs a consumer under its lease until interrupted, from its durable checkpoint. It fails when
 * its stores do (its supervisor restarts it) and with `LeaseLost` when another owner took it.
 */
export const run = (deps: ConsumerDeps, handler: Handler, status: ConsumerStatus, lease: Lease): Effect.Effect<never, InfrastructureError | LeaseLost> => {
  const { page, start } = pages(deps, handler, status, lease)
  return Effect.andThen(
    start,
    Effect.forever(Effect.flatMap(page, (moved) => moved ? Effect.void : deps.topic.awaitAfter(status.position)))
  )
}

/**
 * Runs a consumer from its durable checkpoint until it has passed `target`'s position, a page
 * at a time (a projection rebuild); its position is in `status`.
 */
export const catchUp = (
  deps: ConsumerDeps,
  handler: Handler,
  status: ConsumerStatus,
  lease: Lease,
  target: Effect.Effect<Event.Position, InfrastructureError>
): Effect.Effect<void, InfrastructureError | LeaseLost> => {
  const { page, start } = pages(deps, handler, status, lease)
  const loop: Effect.Effect<void, InfrastructureError | LeaseLost> = Effect.flatMap(target, (until) =>
    status.position >= until ? Effect.void : Effect.flatMap(page, (moved) => moved ? loop : Effect.void))
  return Effect.andThen(start, loop)
}

/** A consumer's start (from its durable checkpoint) and its next page (false: nothing after its position). */
const pages = (deps: ConsumerDeps, handler: Handler, status: ConsumerStatus, lease: Lease) => {
  /**
   * After a failed first attempt: retries on the transient schedule (the first failure counts as
   * the first attempt), and tells what became of the event.
   */
  const withRetries = (event: Event.Envelope, first: Cause.Cause<HandlerFailure>) => {
    let attempts = 0
    return Effect.suspend(() => {
      attempts++
      return attempts === 1 ? Effect.failCause(first) : handler.handle(event)
    }).pipe(
      Effect.catchDefect((defect) =>
        Effect.andThen(
          Effect.logError(`${handler.name}: event ${event.id} died`, Cause.die(defect)),
          Effect.fail(new HandlerFailure({ reason: `defect: ${describeDefect(defect)}`, retryable: true }))
        )),
      Effect.retry({ schedule: deps.retrySchedule, while: (failure) => failure.retryable }),
      Effect.map(() => "handled" as const),
      Effect.catch((failure): Effect.Effect<"handled" | "skipped" | { readonly parked: HandlerFailure; readonly attempts: number }, InfrastructureError> =>
        failure === unknownVariant
          ? Effect.succeed("skipped" as const)
          : failure.outage === true
          ? Effect.fail(new InfrastructureError({ service: "Consumer", operation: handler.name, detail: failure.reason, retryable: true }))
          : Effect.succeed({ parked: failure, attempts }))
    )
  }

  /** Handles one event to completion: parked events wait for an operator's decision. */
  const settle = (event: Event.Envelope, lastDone: Event.Position): Effect.Effect<void, InfrastructureError | LeaseLost> =>
    Effect.matchCauseEffect(Effect.suspend(() => handler.handle(event)), {
      onSuccess: () => {
        status.handled++
        return Effect.void
      },
      onFailure: (cause) => settleFailed(event, lastDone, cause)
    })

  /** The careful path of an event whose first attempt failed (skipped, retried, or parked). */
  const settleFailed = (event: Event.Envelope, lastDone: Event.Position, first: Cause.Cause<HandlerFailure>): Effect.Effect<void, InfrastructureError | LeaseLost> =>
    Effect.flatMap(withRetries(event, first), (result) => {
      if (result === "handled") return Effect.sync(() => void status.handled++)
      if (result === "skipped") return Effect.sync(() => void status.skipped++)
      const letterId = Message.stableId(`${handler.name}|${event.id}`)
      return Effect.gen(function*() {
        yield* handler.flush(lastDone, lease)
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

  /** The events of a page in order; each one settled before the next starts. */
  const handleBatch = (events: ReadonlyArray<Event.Envelope>, from = 0, lastDone = status.position): Effect.Effect<void, InfrastructureError | LeaseLost> => {
    for (let i = from; i < events.length; i++) {
      const event = events[i]!
      if (event.position <= status.position) continue
      return Effect.flatMap(settle(event, lastDone), () => handleBatch(events, i + 1, event.position))
    }
    return Effect.void
  }

  const start = Effect.gen(function*() {
    // A restart (after a failure, or taking the lease over) starts from what is durable.
    handler.reset()
    status.stalledOn = undefined
    status.handled = 0
    const saved = yield* deps.checkpoints.load(handler.name)
    if (Option.isSome(saved)) status.position = saved.value
    else if (handler.startFrom === "now") {
      // A new consumer that only wants what comes next: remember where "next" began, once.
      status.position = yield* deps.store.head
      yield* deps.checkpoints.save(lease, status.position)
    } else status.position = 0
  })

  const page = Effect.gen(function*() {
    const { events, through } = yield* deps.store.readAll({ after: status.position, limit: deps.batchSize, sources: handler.sources })
    if (through <= status.position) {
      deps.activity.bump()
      return false
    }
    if (handler.prepare !== undefined && events.length > 0) yield* handler.prepare(events)
    yield* handleBatch(events)
    yield* handler.flush(through, lease)
    status.position = through
    deps.activity.bump()
    return true
  })
  return { start, page }
}

/** The projections of one read model. Writes and checkpoint are one `commit`. */
export const projectionHandler = (
  deps: ConsumerDeps,
  store: ReadModelStore["Service"],
  readModel: ReadModel.Any,
  qualifiedSource: (projection: ReadModel.Projection<unknown>) => string,
  changes: PubSub.PubSub<RowWrite> | undefined,
  /** A rebuild's: its consumer name and the key space it writes (default: the read model's own). */
  into: { readonly name: string; readonly key: string } = { name: `projection:${readModel.name}`, key: readModel.name }
): Handler => {
  const { name } = into
  const bySource = new Map(readModel.projections.map((projection) => {
    const qualified = qualifiedSource(projection)
    return [qualified, { projection, decode: resultDecoderFor(deps.registry, projection.source, qualified) }] as const
  }))
  const decodeRow = Schema.decodeUnknownResult(readModel.row)
  const encodeRow = Schema.encodeUnknownResult(readModel.row)
  const what = `projection of ${readModel.name}`
  let overlay = new Map<string, { readonly row: unknown; readonly encoded: unknown } | undefined>()
  /** Stored rows read ahead for the page being handled (`prepare`), as stored: absent ones too. */
  let fetched = new Map<string, Option.Option<unknown>>()
  /** The actions `prepare` already computed, by event position. */
  let projected = new Map<Event.Position, ReadonlyArray<ReadModel.Action<unknown>>>()
  /** A watched read model's row changes of the page, one per event and row, in order (the overlay keeps only the last). */
  let changed: Array<RowWrite> = []

  /** The row as the page has left it so far (undefined: none), or undefined when it is not in hand. */
  const inHand = (id: string): Result.Result<unknown, HandlerFailure> | undefined => {
    if (overlay.has(id)) return Result.succeed(overlay.get(id)?.row)
    const stored = fetched.get(id)
    if (stored === undefined) return undefined
    if (Option.isNone(stored)) return Result.succeed(undefined)
    const decodedRow = decodeRow(stored.value)
    return Result.isSuccess(decodedRow)
      ? Result.succeed(decodedRow.success)
      : Result.fail(new HandlerFailure({ reason: `stored row "${id}" of ${readModel.name}: ${decodedRow.failure.message}`, retryable: false }))
  }

  const project = (
    event: Event.Envelope,
    source: { readonly projection: ReadModel.Projection<unknown>; readonly decode: (event: Event.Envelope) => Result.Result<unknown, HandlerFailure> }
  ): Result.Result<ReadonlyArray<ReadModel.Action<unknown>>, HandlerFailure> =>
    Result.flatMap(source.decode(event), (value) =>
      guarded(what, () => {
        const actions = source.projection.project({ event: value, id: event.streamId, meta: event.meta, position: event.position, recordedAt: event.recordedAt ?? event.meta.time })
        return (Array.isArray(actions) ? actions : [actions]) as ReadonlyArray<ReadModel.Action<unknown>>
      }))

  /** Projects the page ahead and reads every row it touches that is not in hand, in one query. */
  const prepare = (events: ReadonlyArray<Event.Envelope>) =>
    Effect.suspend(() => {
      const wanted = new Set<string>()
      for (const event of events) {
        const source = bySource.get(event.source)
        if (source === undefined) continue
        const actions = project(event, source)
        if (Result.isFailure(actions)) continue
        projected.set(event.position, actions.success)
        for (const action of actions.success) if (action._tag !== "Ignore" && !overlay.has(action.id) && !fetched.has(action.id)) wanted.add(action.id)
      }
      if (wanted.size === 0) return Effect.void
      return Effect.match(store.getMany(into.key, [...wanted]), {
        onFailure: () => {},
        onSuccess: (rows) => {
          for (const id of wanted) fetched.set(id, rows.has(id) ? Option.some(rows.get(id)) : Option.none())
        }
      })
    })

  /** Applies an event's actions to the rows in hand and stages the result; all or nothing. */
  const apply = (event: Event.Envelope, actions: ReadonlyArray<ReadModel.Action<unknown>>): Result.Result<void, HandlerFailure> => {
    const touched = new Map<string, unknown>()
    for (const action of actions) {
      if (action._tag === "Ignore") continue
      if (!touched.has(action.id)) {
        const before = inHand(action.id)!
        if (Result.isFailure(before)) return Result.fail(before.failure)
        touched.set(action.id, before.success)
      }
      const rows = new Map<string, unknown>()
      const before = touched.get(action.id)
      if (before !== undefined) rows.set(action.id, before)
      const applied = guarded(what, () => ReadModel.apply(rows, action))
      if (Result.isFailure(applied)) return applied
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
        return Result.fail(new HandlerFailure({ reason: `row "${id}" of ${readModel.name} from event ${event.id}: ${encoded.failure.message}`, retryable: false }))
      }
      staged.push([id, { row, encoded: encoded.success }])
    }
    for (const [id, value] of staged) {
      overlay.set(id, value)
      if (changes !== undefined) changed.push(value === undefined ? { _tag: "Delete", id } : { _tag: "Put", id, row: value.encoded })
    }
    return Result.void
  }

  /** Reads the rows the actions touch that are not in hand (one by one: `prepare` failed or missed them), then applies. */
  const applyWithRows = (event: Event.Envelope, actions: ReadonlyArray<ReadModel.Action<unknown>>): Effect.Effect<void, HandlerFailure> => {
    const missing = new Set<string>()
    for (const action of actions) if (action._tag !== "Ignore" && inHand(action.id) === undefined) missing.add(action.id)
    if (missing.size === 0) return Effect.fromResult(apply(event, actions))
    return Effect.andThen(
      Effect.forEach(missing, (id) =>
        Effect.map(Effect.mapError(store.get(into.key, id), infrastructure), (row) => void fetched.set(id, row)), { discard: true }),
      Effect.suspend(() => Effect.fromResult(apply(event, actions)))
    )
  }

  const handle = (event: Event.Envelope): Effect.Effect<void, HandlerFailure> =>
    Effect.suspend(() => {
      const source = bySource.get(event.source)
      if (source === undefined) return Effect.void
      let actions = projected.get(event.position)
      projected.delete(event.position)
      if (actions === undefined) {
        const fresh = project(event, source)
        if (Result.isFailure(fresh)) return Effect.fail(fresh.failure)
        actions = fresh.success
      }
      return applyWithRows(event, actions)
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
      changed = []
    },
    flush: (position, lease) =>
      Effect.suspend(() => {
        const writes: Array<RowWrite> = []
        for (const [id, value] of overlay) {
          writes.push(value === undefined ? { _tag: "Delete", id } : { _tag: "Put", id, row: value.encoded })
        }
        const published = changed
        overlay = new Map()
        fetched = new Map()
        projected = new Map()
        changed = []
        return Effect.tap(
          store.commit({ readModel: into.key, writes, checkpoint: { lease, position } }),
          () => changes === undefined ? Effect.void : PubSub.publishAll(changes, published)
        )
      })
  }
}

/** A consumer of one source whose checkpoint is a plain `Checkpoints` entry (no rows to commit with it). */
export const checkpointed = (deps: ConsumerDeps, name: string, source: string) => ({
  name,
  sources: new Set([source]),
  reset: () => {},
  flush: (position: Event.Position, lease: Lease) => deps.checkpoints.save(lease, position)
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

