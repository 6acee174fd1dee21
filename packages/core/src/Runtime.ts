/**
 * A running plugin graph. `layer` starts command processing, every consumer of the log, the
 * tasks, the scheduler and the heartbeats over whatever platform provides the services
 * (EventStore, CommandTopic, EventTopic, Checkpoints, ReadModelStore, Scheduler, BlobStore,
 * DeadLetters), and exposes what a client needs: send a command and get its outcome, query read
 * models, read streams, wait until every consumer has caught up, handle dead letters.
 *
 * @since 0.1.0
 */
import { Clock, Context, Effect, Layer, Option, Result, Schedule, Schema, type Scope, type Stream } from "effect"
import * as Aggregate from "./Aggregate.ts"
import * as Authorization from "./Authorization.ts"
import { BlobStore } from "./BlobStore.ts"
import { Checkpoints } from "./Checkpoints.ts"
import * as CommandTopic from "./CommandTopic.ts"
import { type DeadLetter, type DeadLetterNotFound, DeadLetters } from "./DeadLetters.ts"
import {
  CommandFailed,
  CommandRejected,
  describeSchemaError,
  InfrastructureError,
  type InputError,
  InvalidCommand,
  type InvalidInput,
  InvalidJson,
  MsgIdInUse,
  RebuildRunning,
  type TranslationRefused,
  type Unauthorized,
  UnknownComponent
} from "./Errors.ts"
import type * as Event from "./Event.ts"
import { EventStore } from "./EventStore.ts"
import { EventTopic } from "./EventTopic.ts"
import { ExtensionPointTopic } from "./ExtensionPointTopic.ts"
import type * as InboundTranslationSlice from "./InboundTranslationSlice.ts"
import * as Leases from "./Leases.ts"
import * as Limits from "./Limits.ts"
import * as Access from "./internal/access.ts"
import * as Activity from "./internal/activity.ts"
import * as Client from "./internal/client.ts"
import * as Lanes from "./internal/lanes.ts"
import * as Idle from "./internal/idle.ts"
import * as Operations from "./internal/operations.ts"
import * as Wiring from "./internal/wiring.ts"
import { makeProcessor, PermanentFailure } from "./internal/commands.ts"
import * as Consumers from "./internal/consumers.ts"
import * as Extensions from "./internal/extensions.ts"
import * as Inbound from "./internal/inbound.ts"
import * as Ownership from "./internal/ownership.ts"
import * as Registry from "./internal/registry.ts"
import * as Message from "./Message.ts"
import type * as Outcome from "./Outcome.ts"
import * as Plugin from "./Plugin.ts"
import * as Queries from "./QueryEngine.ts"
import { type ListOptions, type Page, ReadModelStore, type RowWrite } from "./ReadModelStore.ts"
import { Scheduler } from "./Scheduler.ts"
import * as StateChangeSlice from "./StateChangeSlice.ts"
import { TodoStore } from "./TodoStore.ts"

/**
 * A command addressed by component name (`Product` or `Catalog.Product`) with an encoded payload.
 *
 * @since 0.1.0
 * @category models
 */
export interface SendRequest {
  readonly component: string
  readonly id: string
  readonly command: unknown
  readonly meta?: Message.MetaInput | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface PluginHealth {
  readonly plugin: string
  readonly heartbeatInterval: number
  readonly beats: number
  readonly lastBeatAt: Option.Option<string>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ConsumerHealth {
  readonly name: string
  readonly position: Event.Position
  readonly handled: number
  /** Events of variants the consumer does not know, skipped. */
  readonly skipped: number
  /** The dead letter it waits on, if any. */
  readonly stalledOn: Option.Option<string>
}

/**
 * A process that holds a lease, as status shows it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Holder {
  readonly host: string
  readonly pid: number
  /** This very runtime. */
  readonly here: boolean
}

/**
 * One consumer of the log across every process: who runs it, how far it is, how far behind.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConsumerState {
  readonly name: string
  /** The process that runs it now; none between owners (a dead owner's lease not yet expired or taken). */
  readonly owner: Option.Option<Holder>
  /** Its durable checkpoint. */
  readonly checkpoint: Event.Position
  /** Positions between its checkpoint and the head; 0 when none of its sources' events is after it. */
  readonly behind: number
  /** Age of the oldest event of its sources that it has not handled yet (0 when caught up). */
  readonly lagSeconds: number
  /** Events it handled in this process since this process took it over; none when it runs elsewhere. */
  readonly handled: Option.Option<number>
  /** Its events parked as dead letters. */
  readonly parked: number
  /** Its last failure in this process (it was restarted), if any. */
  readonly lastError: Option.Option<string>
}

/**
 * The rest of the background work (TODO sweeps, task buckets, the scheduler, extension-point
 * imports) and who runs it.
 *
 * @since 0.1.0
 * @category models
 */
export interface WorkState {
  readonly name: string
  readonly owner: Option.Option<Holder>
  readonly lastError: Option.Option<string>
}

/**
 * Where every piece of work runs and how far the consumers are, read from the stores: the same
 * answer from any process of a deployment, but for `handled` and `lastError`, which only the
 * process that runs a consumer knows.
 *
 * @since 0.1.0
 * @category models
 */
export interface Status {
  readonly head: Event.Position
  readonly consumers: ReadonlyArray<ConsumerState>
  readonly work: ReadonlyArray<WorkState>
  /** Command shards and the process that handles each (none where the transport assigns them, as SQS does). */
  readonly commands: ReadonlyArray<CommandTopic.PartitionOwner>
  readonly deadLetters: number
}

/**
 * How far a projection rebuild is, reported about once a second and when it ends.
 *
 * @since 0.1.0
 * @category models
 */
export interface RebuildProgress {
  readonly readModel: string
  /** rebuilding: the long stretch; swapping: the running projection stopped for the last stretch and the swap. */
  readonly phase: "rebuilding" | "swapping" | "done"
  /** Rebuilt through this position of the log. */
  readonly position: Event.Position
  /** The log's head when it last looked. */
  readonly head: Event.Position
  /** Where this run began (a resumed rebuild begins past 0). */
  readonly from: Event.Position
  readonly eventsPerSecond: number
  /** Seconds to the head at the current rate; none before a rate is known. */
  readonly etaSeconds: Option.Option<number>
}

/**
 * Who a read or an operator's action is for: the authorization hook decides with it
 * (`Authorization.anonymous` when not given). A claim the caller makes, see `Authorization`.
 *
 * @since 0.1.0
 * @category models
 */
export interface AsUser {
  readonly user?: string | undefined
}

/**
 * @since 0.1.0
 * @category errors
 */
export type SendError = InvalidJson | UnknownComponent | InvalidCommand | InvalidInput | Unauthorized | MsgIdInUse | InfrastructureError

/**
 * @since 0.1.0
 * @category services
 */
export class Runtime extends Context.Service<Runtime, {
  readonly plugins: ReadonlyArray<Plugin.Plugin<unknown>>
  /** The input limits this runtime refuses past (`Limits`). */
  readonly limits: Limits.Limits
  /**
   * Validates a request as `send` would (the component, the id, the payload against its schema
   * and the limits, a slice's partition key), without authorizing or sending it: how a client
   * checks a whole batch before it sends any of it.
   */
  readonly check: (request: SendRequest) => Effect.Effect<void, InputError>
  /**
   * The first outcome of the request's msgId, when a command with it has settled and it is this
   * request's (the same component, instance and user: `MsgIdInUse` otherwise); none when none has,
   * or when the request names no msgId. Authorized as the send would be. Lets a client tell a
   * repeated request from a new one.
   */
  readonly outcome: (request: SendRequest) => Effect.Effect<Option.Option<Outcome.Final>, InputError | Unauthorized | MsgIdInUse | InfrastructureError>
  /** Validates, authorizes and publishes a command; returns its message id. Writes nothing on bad input. */
  readonly send: (request: SendRequest) => Effect.Effect<string, SendError>
  /** Sends and waits for the outcome, whatever it is (accepted, rejected, or failed and parked). */
  readonly submit: (request: SendRequest) => Effect.Effect<Outcome.Outcome, SendError>
  /**
   * `submit`, going on with what `onOutcome` makes of the outcome: the way for accessors with an
   * answer of their own (the typed `execute`). Where the platform settles a command in the
   * sender's call (memory), `onOutcome` runs in the same step.
   */
  readonly submitWith: <A, E>(
    request: SendRequest,
    onOutcome: (outcome: Outcome.Outcome) => Effect.Effect<A, E>
  ) => Effect.Effect<A, E | SendError>
  /** Sends and waits for the outcome: the appended events, or the rejection. */
  readonly execute: (request: SendRequest) => Effect.Effect<typeof Outcome.Accepted.Type, SendError | CommandRejected | CommandFailed>
  /** Like `execute`, with the payload given as JSON text. */
  readonly executeJson: (component: string, id: string, json: string, meta?: Message.MetaInput) => Effect.Effect<typeof Outcome.Accepted.Type, SendError | CommandRejected | CommandFailed>
  /** A read model's row; none when there is none, or the hook refuses the user that row. */
  readonly query: (readModel: string, id: string, options?: AsUser) => Effect.Effect<Option.Option<unknown>, UnknownComponent | InvalidInput | Unauthorized | InfrastructureError>
  /**
   * A page of a read model's rows, without those the hook refuses the user: a page may hold
   * fewer rows than `limit` (even none) while `next` says there are more.
   */
  readonly list: (readModel: string, options?: ListOptions & AsUser) => Effect.Effect<Page<unknown>, UnknownComponent | InvalidInput | Unauthorized | InfrastructureError>
  readonly readStream: (component: string, id: string, options?: AsUser) => Effect.Effect<ReadonlyArray<Event.Envelope>, UnknownComponent | InvalidInput | Unauthorized | InfrastructureError>
  /** The current state of an aggregate instance, encoded, with its version. */
  readonly state: (component: string, id: string, options?: AsUser) => Effect.Effect<{ readonly version: number; readonly state: unknown }, UnknownComponent | InvalidInput | Unauthorized | InfrastructureError>
  /** Row changes of a `ReadModelStream`, from now on; rows the hook refuses the user are left out. */
  readonly watch: (readModel: string, options?: AsUser) => Stream.Stream<RowWrite, UnknownComponent | InvalidInput | Unauthorized>
  /**
   * Completes when no command is pending or due on the scheduler, no task runs, and every consumer
   * has caught up (or waits on a dead letter).
   */
  readonly awaitIdle: Effect.Effect<void, InfrastructureError>
  /**
   * `awaitIdle`, then works every TODO list's pending items now, as their heartbeat would, and
   * waits again, until a sweep appends nothing (at most 10 rounds). The CLI's `settle` and tests
   * use it instead of waiting for heartbeats. A sweep never overlaps a heartbeat's.
   */
  readonly settle: Effect.Effect<void, InfrastructureError>
  readonly deadLetters: {
    readonly list: (options?: AsUser) => Effect.Effect<ReadonlyArray<DeadLetter>, InvalidInput | Unauthorized | InfrastructureError>
    /**
     * Tries a parked command, event or task again. A command is authorized again first, for the
     * user who sent it (the hook may have changed its mind since): refused, it stays parked.
     */
    readonly replay: (id: string, options?: AsUser) => Effect.Effect<DeadLetter, DeadLetterNotFound | InvalidInput | Unauthorized | InfrastructureError>
    /** Gives up on it: a parked event's consumer moves past it. */
    readonly skip: (id: string, options?: AsUser) => Effect.Effect<DeadLetter, DeadLetterNotFound | InvalidInput | Unauthorized | InfrastructureError>
  }
  readonly health: Effect.Effect<{ readonly plugins: ReadonlyArray<PluginHealth>; readonly consumers: ReadonlyArray<ConsumerHealth> }>
  /** Every consumer's and every other piece of work's owner and progress, across processes (`reventless status`). */
  readonly status: (options?: AsUser) => Effect.Effect<Status, InvalidInput | Unauthorized | InfrastructureError>
  /**
   * Rebuilds a read model from the start of the log with the projection code this process runs,
   * into a key space of its own, while the current rows keep answering queries; then swaps the
   * rebuilt rows in, in one step (the running projection is fenced off and carries on from
   * there). A crash leaves the current rows untouched; running it again resumes. One rebuild of
   * a read model at a time, across processes (`RebuildRunning`).
   */
  readonly rebuild: (
    readModel: string,
    options?: AsUser & { readonly onProgress?: ((progress: RebuildProgress) => Effect.Effect<void>) | undefined }
  ) => Effect.Effect<RebuildProgress, UnknownComponent | RebuildRunning | InvalidInput | Unauthorized | InfrastructureError | Leases.LeaseLost>
  /**
   * Hands outside input to an inbound translation slice: decoded (a bad one is refused with a
   * typed error and nothing recorded), translated, each command authorized, the request recorded
   * in the slice's audit stream with its commands, and the commands published. A repeated request
   * id gets the recorded answer (its commands published again; they dedupe by msgId).
   */
  readonly receive: (
    slice: string,
    input: unknown,
    options?: { readonly requestId?: string | undefined; readonly user?: string | undefined }
  ) => Effect.Effect<InboundTranslationSlice.Receipt, UnknownComponent | InvalidCommand | InvalidInput | TranslationRefused | Unauthorized | InfrastructureError>
}>()("@reventless/core/Runtime") {}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options<R> {
  readonly plugins: ReadonlyArray<Plugin.Plugin<R>>
  /** Command partitions processed at once (default 16). */
  readonly concurrency?: number | undefined
  /** Retries of transient failures (default: exponential from 10 ms, 4 retries). */
  readonly retrySchedule?: Schedule.Schedule<unknown, unknown> | undefined
  /**
   * Retries of a command whose append met a conflict (an aggregate's version, a slice's DCB
   * condition); each retry reads and decides again. Default: 3 at once, then up to 7 more with
   * jittered exponential backoff from 2 ms, so hot entities under contention spread out.
   */
  readonly conflictSchedule?: Schedule.Schedule<unknown, unknown> | undefined
  /** Events per consumer read (default 256). */
  readonly batchSize?: number | undefined
  /** Warm aggregate states kept, per aggregate (default 100,000). */
  readonly cacheSize?: number | undefined
  /** How often due scheduled commands are looked for (default 1000 ms). */
  readonly schedulerPollMillis?: number | undefined
  /**
   * Whether this runtime does background work (default true): handles commands and takes its
   * share of the consumers, TODO sweeps, task buckets and the scheduler. `false` makes a client
   * (an operator's tool, a web front end) that sends, queries and administers while the
   * deployment's workers do the work; it takes no leases, so it never shifts work around.
   */
  readonly background?: boolean | undefined
  /** Input limits, past which a command, a request or a query is refused (`Limits.defaults` for what is not set). */
  readonly limits?: Partial<Limits.Limits> | undefined
}

/**
 * The platform services the runtime needs.
 *
 * @since 0.1.0
 * @category models
 */
export type Platform =
  | EventStore
  | CommandTopic.CommandTopic
  | EventTopic
  | ExtensionPointTopic
  | Checkpoints
  | ReadModelStore
  | Scheduler
  | BlobStore
  | DeadLetters
  | TodoStore
  | Leases.Leases

const defaultRetry: Schedule.Schedule<unknown, unknown> = Schedule.exponential("10 millis").pipe(Schedule.upTo({ times: 4 }))
const defaultConflictSchedule: Schedule.Schedule<unknown, unknown> = Schedule.concat(
  Schedule.recurs(3),
  Schedule.exponential("2 millis").pipe(Schedule.jittered, Schedule.upTo({ times: 7 }))
)

/** Names that must be unique across plugins: read models (the store's key) and extension points. */
const checkSharedNames = (plugins: ReadonlyArray<Plugin.Plugin<unknown>>) => {
  const owners = new Map<string, string>()
  const problems: Array<string> = []
  const claim = (kind: string, name: string, plugin: string) => {
    const owner = owners.get(`${kind} ${name}`)
    if (owner !== undefined) problems.push(`${kind} "${name}" is defined by both ${owner} and ${plugin}`)
    owners.set(`${kind} ${name}`, plugin)
  }
  for (const plugin of plugins) {
    for (const readModel of plugin.readModels) claim("read model", readModel.name, plugin.name)
    for (const extensionPoint of plugin.extensionPoints) claim("extension point", extensionPoint.spec.name, plugin.name)
  }
  return problems
}

const make = Effect.fnUntraced(function*<R>(options: Options<R>) {
  for (const plugin of options.plugins) yield* Effect.fromResult(Plugin.validate(plugin))
  const names = new Set<string>()
  for (const plugin of options.plugins) {
    if (names.has(plugin.name)) return yield* new Plugin.PluginDefinitionError({ plugin: plugin.name, problems: ["two plugins have this name"] })
    names.add(plugin.name)
  }
  const sharedProblems = checkSharedNames(options.plugins)
  if (sharedProblems.length > 0) return yield* new Plugin.PluginDefinitionError({ plugin: "(all)", problems: sharedProblems })

  const store = yield* EventStore
  const commands = yield* CommandTopic.CommandTopic
  const topic = yield* EventTopic
  const checkpoints = yield* Checkpoints
  const rows = yield* ReadModelStore
  const scheduler = yield* Scheduler
  const blobs = yield* BlobStore
  const deadLetters = yield* DeadLetters
  const todos = yield* TodoStore
  const extensionPointTopic = yield* ExtensionPointTopic
  const leases = yield* Leases.Leases
  const authorization = yield* Authorization.Authorization
  const clock = yield* Clock.Clock
  const services = yield* Effect.context<R>()
  const queries = yield* Effect.context<Queries.QueryEngine>().pipe(Effect.provide(Queries.layer))
  const now = () => Message.isoTime(clock.currentTimeMillisUnsafe())

  const registry = Registry.make(options.plugins)
  const limits: Limits.Limits = { ...Limits.defaults, ...options.limits }
  const activity = Activity.make()
  const retrySchedule = options.retrySchedule ?? defaultRetry
  const consumerDeps: Consumers.ConsumerDeps = {
    registry,
    store,
    topic,
    checkpoints,
    deadLetters,
    activity,
    retrySchedule,
    batchSize: options.batchSize ?? 256,
    now
  }
  const linkDeps: Extensions.LinkDeps = { consumers: consumerDeps, commands, store, scheduler, queries, concurrency: 4 }
  /** Tasks and sweeps in progress, for `awaitIdle`. */
  const running = { count: 0 }

  // 1. Commands: the processor, fed by the topic, when this runtime does background work.
  const processor = makeProcessor({
    registry,
    store,
    deadLetters,
    queries,
    retrySchedule,
    conflictSchedule: options.conflictSchedule ?? defaultConflictSchedule,
    cacheSize: options.cacheSize ?? 100_000,
    limits,
    now,
    extensionPointCommand: (entry, message) =>
      Effect.mapError(Extensions.extensionPointCommand(linkDeps, entry, message), (error) =>
        error._tag === "HandlerFailure" && !error.retryable
          ? new PermanentFailure({ reason: error.reason })
          : new InfrastructureError({ service: "ExtensionPoint", operation: "command", detail: error.message, retryable: error.retryable }))
  })
  const background = options.background ?? true
  if (background) {
    const lane = Lanes.of(commands)
    if (lane !== undefined) lane.handler = processor.handleNow
    yield* commands.consume({
      handle: processor.handle,
      concurrency: options.concurrency ?? 16,
      settled: activity.bump,
      components: [...registry.aggregates.keys(), ...registry.slices.keys(), ...registry.extensionPoints.keys()]
    })
  }

  // 2. The rest of the background work, each piece run where its lease is held.
  const wiring = yield* Wiring.wire({
    plugins: options.plugins,
    consumers: consumerDeps,
    links: linkDeps,
    todos: { consumers: consumerDeps, todos, store, commands, deadLetters, running },
    tasks: { registry, commands, blobs, scheduler, deadLetters, activity, retrySchedule, now, running },
    store,
    commands,
    rows,
    blobs,
    extensionPointTopic,
    clock,
    schedulerPollMillis: options.schedulerPollMillis ?? 1000,
    services,
    queries
  })
  const ownership = background ? yield* Ownership.start(leases, wiring.works) : Ownership.none
  const heartbeats = yield* startHeartbeats(options.plugins, now)

  // 3. What callers use: the client side, reads, idle detection, operations.
  const client = Client.make({ registry, store, commands, authorization, limits, now })
  const access = Access.make({ registry, store, rows, authorization, limits, changeFeeds: wiring.changeFeeds })
  const idle = Idle.make({ store, commands, blobs, scheduler, checkpoints, deadLetters, clock, activity, running, statuses: wiring.statuses, ownership, sweeps: wiring.sweeps })
  const operations = Operations.make({
    registry,
    store,
    commands,
    blobs,
    todos,
    deadLetters,
    checkpoints,
    leases,
    rows,
    clock,
    activity,
    authorization,
    consumers: consumerDeps,
    statuses: wiring.statuses,
    ownership,
    sourcesOf: wiring.sourcesOf,
    works: wiring.works,
    operation: access.operation,
    authorized: client.authorized
  })

  const runtime = Runtime.of({
    plugins: options.plugins,
    limits,
    check: client.check,
    outcome: client.outcome,
    send: client.send,
    submit: client.submit,
    submitWith: client.submitWith,
    execute: client.execute,
    executeJson: client.executeJson,
    query: access.query,
    list: access.list,
    readStream: access.readStream,
    state: access.state,
    watch: access.watch,
    awaitIdle: idle.awaitIdle,
    settle: idle.settle,
    deadLetters: operations.deadLetters,
    status: operations.status,
    rebuild: operations.rebuild,
    receive: (name, input, receiveOptions = {}) => {
      const refused = Limits.checkRequest(limits, name, input, receiveOptions)
      if (refused !== undefined) return Effect.fail(refused)
      return Effect.flatMap(Effect.fromResult(registry.inboundSlice(name)), (entry) =>
        Inbound.receive({ store, commands, now, authorize: client.authorized }, entry, input, receiveOptions))
    },
    health: Effect.sync(() => ({
      plugins: options.plugins.map((plugin) => ({ plugin: plugin.name, heartbeatInterval: plugin.heartbeatInterval, ...heartbeats.get(plugin.name)! })),
      consumers: wiring.statuses.map((status) => ({
        name: status.name,
        position: status.position,
        handled: status.handled,
        skipped: status.skipped,
        stalledOn: Option.fromUndefinedOr(status.stalledOn)
      }))
    }))
  })
  typedSubmits.set(runtime, client.submitWith)
  return runtime
})

/**
 * The client side of each runtime, for the typed accessors: they pass the command as the sender
 * holds it, which a runtime does not decode again (internal/client.ts, `TypedCommand`).
 */
const typedSubmits = new WeakMap<Runtime["Service"], ReturnType<typeof Client.make>["submitWith"]>()
let lastRuntime: Runtime["Service"] | undefined
let lastTypedSubmit: ReturnType<typeof Client.make>["submitWith"] | undefined
/** The typed submit of a runtime; the last one asked for is kept at hand (a process has one runtime, mostly). */
const typedSubmitOf = (runtime: Runtime["Service"]) => {
  if (runtime !== lastRuntime) {
    lastRuntime = runtime
    lastTypedSubmit = typedSubmits.get(runtime)
  }
  return lastTypedSubmit
}

/** Each plugin's heartbeat, counted every `heartbeatInterval` seconds (`health`). */
const startHeartbeats = (plugins: ReadonlyArray<Plugin.Plugin<unknown>>, now: () => string) =>
  Effect.gen(function*() {
    const heartbeats = new Map<string, { beats: number; lastBeatAt: Option.Option<string> }>()
    for (const plugin of plugins) {
      const health = { beats: 0, lastBeatAt: Option.none<string>() }
      heartbeats.set(plugin.name, health)
      const beat = Effect.sync(() => {
        health.beats++
        health.lastBeatAt = Option.some(now())
      })
      yield* Effect.forkScoped(Effect.repeat(beat, Schedule.spaced(`${plugin.heartbeatInterval} seconds`)))
    }
    return heartbeats as ReadonlyMap<string, { readonly beats: number; readonly lastBeatAt: Option.Option<string> }>
  })

/**
 * Starts the plugins over the platform's services. Fails with `PluginDefinitionError` when a
 * plugin graph is inconsistent. `R` are the services the plugins' tasks and side effects use.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <R>(options: Options<R>): Layer.Layer<Runtime, Plugin.PluginDefinitionError, Platform | R> =>
  Layer.effect(Runtime, make(options) as Effect.Effect<Runtime["Service"], Plugin.PluginDefinitionError, Platform | R | Scope.Scope>)

/**
 * Sends a typed command to an aggregate and returns its events, decoded; a rejection fails with
 * the aggregate's own error type.
 *
 * @since 0.1.0
 * @category accessors
 */
export const execute = <Command, Event, Rejection>(
  aggregate: Aggregate.Aggregate<string, unknown, Command, Event, Rejection>,
  id: string,
  command: Command,
  meta?: Message.MetaInput
): Effect.Effect<ReadonlyArray<Event>, Rejection | SendError | CommandFailed, Runtime> =>
  submitTyped(aggregate.name, id, command, meta, Aggregate.codecs(aggregate))

/**
 * Sends a typed command to a state-change slice (routed by its partition key) and waits: its
 * events, decoded, or its rejection. The slice's `mode` is for clients that answer at once
 * (async: Pending); this accessor always waits for the outcome.
 *
 * @since 0.1.0
 * @category accessors
 */
export const executeSlice = <Command, Event, Rejection>(
  slice: StateChangeSlice.StateChangeSlice<string, unknown, Command, Event, unknown, Rejection>,
  command: Command,
  meta?: Message.MetaInput
): Effect.Effect<ReadonlyArray<Event>, Rejection | SendError | CommandFailed, Runtime> =>
  submitTyped(slice.name, "", command, meta, StateChangeSlice.codecs(slice))

const submitTyped = <Command, Event, Rejection>(
  component: string,
  id: string,
  command: Command,
  meta: Message.MetaInput | undefined,
  codecs: {
    readonly encodeCommand: (command: Command) => Result.Result<unknown, Schema.SchemaError>
    readonly decodeEvent: (data: unknown) => Result.Result<Event, Schema.SchemaError>
    readonly decodeRejection: (error: unknown) => Result.Result<Rejection, Schema.SchemaError>
  }
): Effect.Effect<ReadonlyArray<Event>, Rejection | SendError | CommandFailed, Runtime> => {
  const encoded = codecs.encodeCommand(command)
  if (Result.isFailure(encoded)) {
    const { detail, path } = describeSchemaError(encoded.failure)
    return Effect.fail(new InvalidCommand({ component, id, path, detail }))
  }
  const settle = (outcome: Outcome.Outcome): Effect.Effect<ReadonlyArray<Event>, Rejection | CommandFailed> => {
    switch (outcome._tag) {
      case "Accepted": {
        const events: Array<Event> = []
        for (const event of outcome.events) {
          const decoded = codecs.decodeEvent(event.data)
          if (Result.isFailure(decoded)) return Effect.die(decoded.failure)
          events.push(decoded.success)
        }
        return Effect.succeed(events)
      }
      case "Rejected": {
        const error = codecs.decodeRejection(outcome.error)
        return Result.isSuccess(error) ? Effect.fail(error.success) : Effect.die(error.failure)
      }
      case "Failed":
        return Effect.fail(new CommandFailed({ component: outcome.component, id: outcome.id, msgId: outcome.msgId, reason: outcome.reason }))
    }
  }
  return Effect.contextWith((context: Context.Context<Runtime>) => {
    const runtime = Context.get(context, Runtime)
    const request = { component, id, command: encoded.success, meta }
    const typed = typedSubmitOf(runtime)
    return typed !== undefined ? typed(request, settle, { codecs, command }) : runtime.submitWith(request, settle)
  })
}

/**
 * Waits until every consumer has caught up.
 *
 * @since 0.1.0
 * @category accessors
 */
export const awaitIdle: Effect.Effect<void, InfrastructureError, Runtime> = Effect.flatMap(Effect.service(Runtime), (runtime) => runtime.awaitIdle)

/**
 * Waits until every consumer has caught up and every TODO list's due work is done.
 *
 * @since 0.1.0
 * @category accessors
 */
export const settle: Effect.Effect<void, InfrastructureError, Runtime> = Effect.flatMap(Effect.service(Runtime), (runtime) => runtime.settle)
