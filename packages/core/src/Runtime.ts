/**
 * A running plugin graph. `layer` starts command processing, every consumer of the log, the
 * tasks, the scheduler and the heartbeats over whatever platform provides the services
 * (EventStore, CommandTopic, EventTopic, Checkpoints, ReadModelStore, Scheduler, BlobStore,
 * DeadLetters), and exposes what a client needs: send a command and get its outcome, query read
 * models, read streams, wait until every consumer has caught up, handle dead letters.
 *
 * @since 0.1.0
 */
import { Clock, Context, Effect, Layer, Option, PubSub, Result, Schedule, Schema, type Scope, Stream } from "effect"
import { hostname } from "node:os"
import * as Aggregate from "./Aggregate.ts"
import * as Authorization from "./Authorization.ts"
import { BlobStore } from "./BlobStore.ts"
import { Checkpoints } from "./Checkpoints.ts"
import * as CommandTopic from "./CommandTopic.ts"
import { type DeadLetter, DeadLetterNotFound, DeadLetters, type Resolution } from "./DeadLetters.ts"
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
import { Faults } from "./Faults.ts"
import * as Leases from "./Leases.ts"
import * as Limits from "./Limits.ts"
import * as Activity from "./internal/activity.ts"
import { makeProcessor, PermanentFailure } from "./internal/commands.ts"
import * as Consumers from "./internal/consumers.ts"
import * as Extensions from "./internal/extensions.ts"
import * as Todo from "./internal/todo.ts"
import * as Inbound from "./internal/inbound.ts"
import * as Ownership from "./internal/ownership.ts"
import * as Slices from "./internal/slices.ts"
import * as Registry from "./internal/registry.ts"
import * as Tasks from "./internal/tasks.ts"
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
 * A command the sender holds as its component's typed value, with the codecs that encoded it into
 * the request's `command` (`Aggregate.codecs`, `StateChangeSlice.codecs`). When they are the
 * registered component's own, encoding it has run the schema's checks already: the request is
 * not decoded again, and a processor in this process may decide on this very value.
 *
 * @since 0.1.0
 * @category models
 */
export interface TypedCommand {
  readonly codecs: object
  readonly command: unknown
}

const noMeta: Message.MetaInput = {}

/** A request that passed validation: the message to publish and its command, decoded. */
interface Validated {
  readonly message: Message.CommandMessage
  readonly command: unknown
}

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
  /** Validates, authorizes and publishes a command; returns its message id. Writes nothing on bad input. */
  readonly send: (request: SendRequest) => Effect.Effect<string, SendError>
  /** Sends and waits for the outcome, whatever it is (accepted, rejected, or failed and parked). */
  readonly submit: (request: SendRequest) => Effect.Effect<Outcome.Outcome, SendError>
  /**
   * `submit`, going on with what `onOutcome` makes of the outcome: the way for accessors with an
   * answer of their own (the typed `execute`). Where the platform settles a command in the
   * sender's call (memory), `onOutcome` runs in the same step. `typed`: the command as the
   * sender holds it, see `TypedCommand`.
   */
  readonly submitWith: <A, E>(
    request: SendRequest,
    onOutcome: (outcome: Outcome.Outcome) => Effect.Effect<A, E>,
    typed?: TypedCommand
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
  ) => Effect.Effect<Inbound.Receipt, UnknownComponent | InvalidCommand | InvalidInput | TranslationRefused | Unauthorized | InfrastructureError>
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
  const faults = yield* Faults
  const leases = yield* Leases.Leases
  const authorization = yield* Authorization.Authorization
  const clock = yield* Clock.Clock
  const services = yield* Effect.context<R>()
  const queries = yield* Effect.context<Queries.QueryEngine>().pipe(Effect.provide(Queries.layer))
  const now = () => Message.isoTime(clock.currentTimeMillisUnsafe())

  const registry = Registry.make(options.plugins)
  const limits: Limits.Limits = { ...Limits.defaults, ...options.limits }
  /** An id a query asks for, refused as a command's would be. */
  const checkedId = (where: string, id: string) => {
    const refused = Limits.checkId(limits, where, "id", id)
    return refused === undefined ? Effect.void : Effect.fail(refused)
  }
  const checkedOptional = (where: string, path: string, value: string | undefined) =>
    value === undefined ? undefined : Limits.checkId(limits, where, path, value)
  const activity = Activity.make()
  const retrySchedule = options.retrySchedule ?? defaultRetry

  const consumerDeps: Consumers.ConsumerDeps = {
    registry,
    store,
    topic,
    checkpoints,
    deadLetters,
    activity,
    faults,
    retrySchedule,
    batchSize: options.batchSize ?? 256,
    now
  }
  const linkDeps: Extensions.LinkDeps = { consumers: consumerDeps, commands, store, scheduler, queries, concurrency: 4 }
  /** Tasks and sweeps in progress, for `awaitIdle`. */
  const running = { count: 0 }
  const todoDeps: Todo.TodoDeps = { consumers: consumerDeps, todos, store, commands, deadLetters, running }
  /** Every TODO list's sweep, by the name of its work: `settle` runs the ones this process owns. */
  const sweeps = new Map<string, Effect.Effect<void>>()
  /** The background work, each piece run by the one process that holds its lease. */
  const works: Array<Ownership.Work> = []

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
    sliceCommand: Slices.sliceCommand(store, queries),
    extensionPointCommand: (entry, message) =>
      Effect.mapError(Extensions.extensionPointCommand(linkDeps, entry, message), (error) =>
        error._tag === "HandlerFailure" && !error.retryable
          ? new PermanentFailure({ reason: error.reason })
          : new InfrastructureError({ service: "ExtensionPoint", operation: "command", detail: error.message, retryable: error.retryable }))
  })
  const background = options.background ?? true
  if (background) {
    yield* commands.consume({
      handle: processor.handle,
      handleNow: processor.handleNow,
      concurrency: options.concurrency ?? 16,
      settled: activity.bump,
      components: [...registry.aggregates.keys(), ...registry.slices.keys(), ...registry.extensionPoints.keys()]
    })
  }
  const statuses: Array<Consumers.ConsumerStatus> = []
  const changeFeeds = new Map<string, PubSub.PubSub<RowWrite>>()
  const handlers: Array<Consumers.Handler> = []
  for (const plugin of options.plugins) {
    for (const readModel of plugin.readModels) {
      const feed = readModel.kind === "ReadModelStream" ? yield* PubSub.unbounded<RowWrite>() : undefined
      if (feed !== undefined) changeFeeds.set(readModel.name, feed)
      handlers.push(Consumers.projectionHandler(consumerDeps, rows, readModel, (projection) => Plugin.qualify(plugin, projection.source), feed))
    }
    for (const mapping of plugin.eventMappings) handlers.push(Consumers.mappingHandler(consumerDeps, commands, mapping, plugin.name, queries))
    for (const task of plugin.tasks) {
      for (const sideEffect of task.sideEffects) handlers.push(Consumers.sideEffectHandler(consumerDeps, sideEffect, plugin.name, task.name, Context.merge(services, queries)))
    }
    for (const extensionPoint of plugin.extensionPoints) {
      handlers.push(Extensions.extensionPointHandler(linkDeps, registry.extensionPoints.get(extensionPoint.spec.name)!))
    }
    const todoSpecs = [
      ...plugin.automationSlices.map((automation) => Todo.fromAutomation(plugin, automation)),
      ...plugin.outboundTranslationSlices.map((outbound) => Todo.fromOutbound(plugin, outbound, Context.merge(services, queries)))
    ]
    for (const spec of todoSpecs) {
      handlers.push(Todo.collector(todoDeps, plugin, spec))
      const sweeper = Todo.sweeper(todoDeps, plugin, spec)
      sweeps.set(`sweep:${spec.list}`, sweeper.once)
      works.push({ name: `sweep:${spec.list}`, run: () => sweeper.forever })
    }
    for (const extension of plugin.extensions) {
      handlers.push(Extensions.extensionIncomingHandler(linkDeps, plugin, extension))
      const { mapOutgoingEvent } = extension
      if (mapOutgoingEvent !== undefined) handlers.push(Extensions.extensionOutgoingHandler(linkDeps, plugin, { ...extension, mapOutgoingEvent }))
    }
  }
  if (extensionPointTopic.crossesDeployments) {
    // Extension points of this deployment are relayed from its log; extensions of another
    // deployment's extension points import its events into this log.
    for (const name of registry.extensionPoints.keys()) handlers.push(Extensions.extensionPointRelay(consumerDeps, extensionPointTopic, name))
    for (const plugin of options.plugins) {
      for (const extension of plugin.extensions) {
        if (registry.extensionPoints.has(extension.extensionPoint.name)) continue
        const subscriber = `${plugin.name}.${extension.name}`
        works.push({
          name: `import:${subscriber}`,
          run: () => Effect.scoped(Effect.andThen(extensionPointTopic.subscribe(extension.extensionPoint.name, subscriber, Extensions.importExtensionPointEvents(store)), Effect.never))
        })
      }
    }
  }
  /** The sources of each consumer, by name. */
  const sourcesOf = new Map<string, ReadonlySet<string>>()
  for (const handler of handlers) {
    sourcesOf.set(handler.name, handler.sources)
    const status: Consumers.ConsumerStatus = { name: handler.name, position: 0, stalledOn: undefined, skipped: 0, handled: 0 }
    statuses.push(status)
    works.push({ name: handler.name, run: (lease) => Consumers.run(consumerDeps, handler, status, lease) })
  }

  const taskDeps: Tasks.TaskDeps = { registry, commands, blobs, scheduler, deadLetters, activity, retrySchedule, now, running }
  const taskServices = Context.merge(Context.merge(services, queries), Context.make(BlobStore, blobs))
  for (const plugin of options.plugins) {
    for (const task of plugin.tasks) {
      for (const bucket of task.buckets) {
        works.push({ name: `bucket:${plugin.name}.${task.name}.${bucket.bucket}`, run: () => Tasks.runBucket(taskDeps, plugin.name, task, bucket, taskServices) })
      }
    }
  }
  works.push({ name: "scheduler", run: () => Tasks.runScheduler(taskDeps, options.schedulerPollMillis ?? 1000, () => clock.currentTimeMillisUnsafe()) })
  const ownership = background ? yield* Ownership.start(leases, works) : Ownership.none

  const heartbeats = new Map<string, { beats: number; lastBeatAt: Option.Option<string> }>()
  for (const plugin of options.plugins) {
    const health = { beats: 0, lastBeatAt: Option.none<string>() }
    heartbeats.set(plugin.name, health)
    const beat = Effect.sync(() => {
      health.beats++
      health.lastBeatAt = Option.some(now())
    })
    yield* Effect.forkScoped(Effect.repeat(beat, Schedule.spaced(`${plugin.heartbeatInterval} seconds`)))
  }

  const invalid = (component: string, id: string, error: Schema.SchemaError, at?: string) => {
    const { detail, path } = describeSchemaError(error)
    return new InvalidCommand({ component, id, path: at ?? path, detail })
  }

  /** Lets the authorization hook see a validated command; nothing is published when it refuses. */
  const authorized = (message: Message.CommandMessage, command: unknown): Effect.Effect<Message.CommandMessage, Unauthorized> =>
    authorization === Authorization.allowAll
      ? Effect.succeed(message)
      : Effect.as(authorization.authorize({ _tag: "Command", user: message.meta.user, component: message.component, id: message.id, command }), message)

  /** The request's command, decoded; the sender's typed value when the component's own codecs encoded it. */
  const commandOf = (codecs: { readonly decodeCommand: (input: unknown) => Result.Result<unknown, Schema.SchemaError> }, request: SendRequest, typed: TypedCommand | undefined) =>
    typed !== undefined && typed.codecs === codecs ? Result.succeed(typed.command) : codecs.decodeCommand(request.command)

  /** A slice command is routed by its partition key; an id, when given, must be that key. */
  const validateSlice = (entry: Registry.SliceEntry, request: SendRequest, typed: TypedCommand | undefined): Result.Result<Validated, InputError> => {
    const command = commandOf(entry.codecs, request, typed)
    if (Result.isFailure(command)) return Result.fail(invalid(entry.qualified, request.id, command.failure))
    const id = entry.slice.partitionOf(command.success)
    if (id === undefined) {
      return Result.fail(new InvalidCommand({ component: entry.qualified, id: request.id, path: entry.slice.partition.join("/"), detail: "missing partition key" }))
    }
    // The partition key is the command's id: a key, held to an id's limits.
    const badKey = Limits.checkId(limits, `command for ${entry.qualified}`, `command.${entry.slice.partition.join(".")}`, id)
    if (badKey !== undefined) return Result.fail(badKey)
    if (request.id !== "" && request.id !== id) {
      return Result.fail(new InvalidCommand({ component: entry.qualified, id: request.id, path: "id", detail: `the command's partition key is "${id}"; leave the id empty or pass that` }))
    }
    const meta = Message.makeMeta(request.meta ?? noMeta, now())
    return Result.succeed({ message: { component: entry.qualified, id, msgId: meta.msgId, meta, command: request.command }, command: command.success })
  }

  /** Validates a request into the message to publish, with its command decoded. */
  const validate = (request: SendRequest, typed?: TypedCommand): Result.Result<Validated, InputError> => {
    const refused = Limits.checkCommand(limits, request)
    if (refused !== undefined) return Result.fail(refused)
    const found = registry.aggregate(request.component)
    if (Result.isFailure(found)) {
      const slice = registry.slice(request.component)
      return Result.isSuccess(slice) ? validateSlice(slice.success, request, typed) : Result.fail(found.failure)
    }
    const entry = found.success
    const id = entry.codecs.decodeId(request.id)
    if (Result.isFailure(id)) return Result.fail(invalid(entry.qualified, String(request.id), id.failure, "id"))
    const command = commandOf(entry.codecs, request, typed)
    if (Result.isFailure(command)) return Result.fail(invalid(entry.qualified, request.id, command.failure))
    const meta = Message.makeMeta(request.meta ?? noMeta, now())
    return Result.succeed({ message: { component: entry.qualified, id: request.id, msgId: meta.msgId, meta, command: request.command }, command: command.success })
  }

  /** Validates and authorizes a request into the message to publish; nothing is published when it fails. */
  const prepare = (request: SendRequest): Effect.Effect<Message.CommandMessage, SendError> => {
    const validated = validate(request)
    return Result.isFailure(validated) ? Effect.fail(validated.failure) : authorized(validated.success.message, validated.success.command)
  }

  const settle = (outcome: Outcome.Outcome): Effect.Effect<typeof Outcome.Accepted.Type, CommandRejected | CommandFailed> => {
    switch (outcome._tag) {
      case "Accepted":
        return Effect.succeed(outcome)
      case "Rejected":
        return Effect.fail(new CommandRejected({ component: outcome.component, id: outcome.id, msgId: outcome.msgId, error: outcome.error }))
      case "Failed":
        return Effect.fail(new CommandFailed({ component: outcome.component, id: outcome.id, msgId: outcome.msgId, reason: outcome.reason }))
    }
  }

  /**
   * Publishes a validated command and goes on with its outcome. Where the platform settles it in
   * this very call (`CommandTopic.publishNow` over a synchronous store, as in memory), the
   * outcome is read at once: no effect runs between the request and `onOutcome`.
   */
  const publishAwaited = <A, E>(
    { command, message }: Validated,
    unseen: boolean,
    onOutcome: (outcome: Outcome.Outcome) => Effect.Effect<A, E>
  ): Effect.Effect<A, E | MsgIdInUse | InfrastructureError> => {
    const answer = (outcome: Outcome.Outcome): Effect.Effect<A, E | MsgIdInUse> => belongsTo(outcome, message) ? onOutcome(outcome) : Effect.fail(inUse(message))
    const rest = commands.publishNow?.(message, command)
    if (rest === undefined) return Effect.flatMap(store.awaitOutcome(message.msgId, { send: commands.publish([message], { awaited: true }), unseen }), answer)
    const outcome = rest === Effect.void ? store.sync?.outcome(message.msgId) : undefined
    return outcome !== undefined ? answer(outcome) : Effect.flatMap(Effect.andThen(rest, store.awaitOutcome(message.msgId)), answer)
  }

  /**
   * Whether a stored outcome is this message's: the same component, instance and (where the
   * outcome knows it) user. A msgId is a sender's idempotency key, not a way to read someone else's
   * outcome (issue: a repeated msgId from another user answered with the first user's events).
   */
  const belongsTo = (outcome: Outcome.Outcome, message: Message.CommandMessage): boolean => {
    if (outcome.component !== message.component || outcome.id !== message.id) return false
    const user = outcome._tag === "Accepted" ? outcome.events[0]?.meta.user : outcome.user
    return user === undefined || user === message.meta.user
  }
  const inUse = (message: Message.CommandMessage) => new MsgIdInUse({ msgId: message.msgId, component: message.component, id: message.id })

  const submitWith = <A, E>(
    request: SendRequest,
    onOutcome: (outcome: Outcome.Outcome) => Effect.Effect<A, E>,
    typed?: TypedCommand
  ): Effect.Effect<A, E | SendError> =>
    Effect.suspend((): Effect.Effect<A, E | SendError> => {
      const validated = validate(request, typed)
      if (Result.isFailure(validated)) return Effect.fail(validated.failure)
      const unseen = request.meta?.msgId === undefined
      return authorization === Authorization.allowAll
        ? publishAwaited(validated.success, unseen, onOutcome)
        : Effect.flatMap(authorized(validated.success.message, validated.success.command), () => publishAwaited(validated.success, unseen, onOutcome))
    })
  const submit = (request: SendRequest) => submitWith(request, Effect.succeed)
  const execute = (request: SendRequest) => submitWith(request, settle)

  /** Asks the hook; nothing to ask when it allows everything. */
  const allowed = (request: Authorization.Request): Effect.Effect<void, Unauthorized> =>
    authorization === Authorization.allowAll ? Effect.void : authorization.authorize(request)
  const userOf = (options: AsUser | undefined) => options?.user ?? Authorization.anonymous
  /** The user a read or an operation names, refused as a command's would be. */
  const checkedUser = (where: string, options: AsUser | undefined) => {
    const refused = checkedOptional(where, "user", options?.user)
    return refused === undefined ? Effect.void : Effect.fail(refused)
  }
  /** Whether the hook lets the user see a row. */
  const mayRead = (user: string, readModel: string, id: string, row: unknown): Effect.Effect<boolean> =>
    authorization === Authorization.allowAll
      ? Effect.succeed(true)
      : Effect.match(authorization.authorize({ _tag: "Row", user, readModel, id, row }), { onFailure: () => false, onSuccess: () => true })
  const operation = (options: AsUser | undefined, op: Authorization.Operation, target?: string) =>
    Effect.andThen(checkedUser(op, options), allowed({ _tag: "Operation", user: userOf(options), operation: op, target }))

  /**
   * A watcher's view of a read model's changes: a row it may see, as it changes; a row that it
   * was shown and may no longer see, as deleted; a deletion only of a row it was shown (a
   * deletion carries no row for the hook to judge).
   */
  const visibleChanges = (changes: Stream.Stream<RowWrite>, user: string, readModel: string): Stream.Stream<RowWrite> => {
    const shown = new Set<string>()
    return Stream.filterMap(
      Stream.mapEffect(changes, (write): Effect.Effect<RowWrite | undefined> => {
        if (write._tag === "Delete") return Effect.succeed(shown.delete(write.id) ? write : undefined)
        return Effect.map(mayRead(user, readModel, write.id, write.row), (may): RowWrite | undefined => {
          if (may) {
            shown.add(write.id)
            return write
          }
          return shown.delete(write.id) ? { _tag: "Delete", id: write.id } : undefined
        })
      }),
      (write) => write === undefined ? Result.failVoid : Result.succeed(write)
    )
  }

  const readModelFor = (name: string, user: string | undefined, id?: string) =>
    Effect.flatMap(Effect.fromResult(registry.readModel(name)), (entry) =>
      Effect.as(allowed({ _tag: "Query", user: user ?? Authorization.anonymous, readModel: entry.readModel.name, id }), entry))
  /** An aggregate whose instance the user may read. */
  const streamFor = (component: string, id: string, options: AsUser | undefined) =>
    Effect.andThen(
      Effect.andThen(checkedId(`stream of ${component}`, id), checkedUser(`stream of ${component}`, options)),
      Effect.flatMap(Effect.fromResult(registry.aggregate(component)), (entry) =>
        Effect.as(allowed({ _tag: "Stream", user: userOf(options), component: entry.qualified, id }), entry))
    )

  const busy = Effect.gen(function*() {
    return (yield* commands.pending) > 0 || running.count > 0 || (yield* blobs.pending) > 0
  })
  /**
   * Nothing to do, and nothing started while we looked: a consumer publishes its commands before
   * its checkpoint moves, so work it began after the first look shows in the second, and a
   * command handled in between has moved the head.
   */
  const isIdle = Effect.gen(function*() {
    if (yield* busy) return false
    if ((yield* scheduler.due(clock.currentTimeMillisUnsafe(), 1)).length > 0) return false
    const head = yield* store.head
    if (!(yield* consumersCaughtUp(head))) return false
    if (yield* busy) return false
    return (yield* store.head) === head
  })

  /** Consumers another process runs (or nobody, between owners), by name. */
  const elsewhere = () => statuses.filter((status) => !ownership.runs(status.name))

  /**
   * Whether every consumer has reached `head` or waits on a dead letter: this process's own by
   * their status, the others by their durable checkpoints and the dead letters.
   */
  const consumersCaughtUp = (head: Event.Position) =>
    Effect.gen(function*() {
      const remote = elsewhere()
      for (const status of statuses) {
        if (!remote.includes(status) && status.stalledOn === undefined && status.position < head) return false
      }
      if (remote.length === 0) return true
      const saved = yield* checkpoints.all
      const behind = remote.filter((status) => (saved.get(status.name) ?? 0) < head)
      if (behind.length === 0) return true
      const stalled = new Set((yield* deadLetters.list).flatMap((letter) => letter._tag === "Event" ? [letter.consumer] : []))
      return behind.every((status) => stalled.has(status.name))
    })

  /** How often `awaitIdle` looks again while some consumer runs in another process (it hears nothing of it). */
  const remotePoll = "50 millis"

  const awaitIdle: Effect.Effect<void, InfrastructureError> = Effect.suspend(() => {
    const seen = activity.generation()
    return Effect.flatMap(isIdle, (idle) => {
      if (idle) return Effect.void
      const change = activity.awaitChange(seen)
      return Effect.andThen(elsewhere().length === 0 ? change : Effect.raceFirst(change, Effect.sleep(remotePoll)), awaitIdle)
    })
  })

  /** The sweeps of the TODO lists this process owns; another process's run on their heartbeat. */
  const sweepAll = Effect.suspend(() => Effect.forEach([...sweeps].filter(([name]) => ownership.runs(name)), ([, once]) => once, { discard: true }))
  const settleAll: Effect.Effect<void, InfrastructureError> = Effect.gen(function*() {
    yield* awaitIdle
    for (let round = 0; round < 10; round++) {
      const before = yield* store.head
      yield* sweepAll
      yield* awaitIdle
      if ((yield* store.head) === before) return
    }
  })

  const resolve = (id: string, resolution: Resolution) =>
    Effect.tap(deadLetters.resolve(id, resolution), (letter) => {
      if (letter._tag === "Event") {
        // The consumer has work again from now on, before its fiber wakes: awaitIdle must wait for it.
        for (const status of statuses) if (status.stalledOn === letter.id) status.stalledOn = undefined
      }
      activity.bump()
      if (resolution === "Skip") return Effect.void
      switch (letter._tag) {
        case "Command":
          return Effect.andThen(store.retry(letter.message.msgId), commands.publish([letter.message], { redelivery: true }))
        case "Task":
          return blobs.redeliver(letter.notification)
        case "Event":
          return Effect.void
        case "Todo":
          return Todo.retry(todos, letter.automation, letter.itemId)
      }
    })

  /**
   * A parked command is authorized again before it is replayed, for the user who sent it: the
   * hook sees it as it would a new send, its command decoded when its component's schema still
   * decodes it, else as stored (the hook is asked either way; the input limits do not apply to
   * what was accepted once).
   */
  const reauthorize = (id: string): Effect.Effect<void, Unauthorized | InfrastructureError> =>
    authorization === Authorization.allowAll ? Effect.void : Effect.flatMap(deadLetters.list, (letters) => {
      const letter = letters.find((candidate) => candidate.id === id)
      if (letter?._tag !== "Command") return Effect.void
      const { message } = letter
      const codecs = registry.aggregates.get(message.component)?.codecs ?? registry.slices.get(message.component)?.codecs
      const decoded = codecs === undefined ? undefined : codecs.decodeCommand(message.command)
      return Effect.asVoid(authorized(message, decoded !== undefined && Result.isSuccess(decoded) ? decoded.success : message.command))
    })

  const holderOf = (holding: Leases.Holding | undefined): Option.Option<Holder> =>
    holding === undefined || holding.expiresInMillis <= 0
      ? Option.none()
      : Option.some({ host: holding.host, pid: holding.pid, here: holding.owner === ownership.owner.id })

  const status = (statusOptions?: AsUser): Effect.Effect<Status, InvalidInput | Unauthorized | InfrastructureError> => Effect.gen(function*() {
    yield* operation(statusOptions, "Status")
    const head = yield* store.head
    const holdings = new Map((yield* leases.holdings).map((holding) => [holding.name, holding]))
    const saved = yield* checkpoints.all
    const letters = yield* deadLetters.list
    const parked = new Map<string, number>()
    for (const letter of letters) if (letter._tag === "Event") parked.set(letter.consumer, (parked.get(letter.consumer) ?? 0) + 1)
    const nowMillis = clock.currentTimeMillisUnsafe()
    const consumers = yield* Effect.forEach(statuses, (consumer) =>
      Effect.gen(function*() {
        const here = ownership.runs(consumer.name)
        const checkpoint = here ? consumer.position : saved.get(consumer.name) ?? 0
        const { events } = yield* store.readAll({ after: checkpoint, limit: 1, sources: sourcesOf.get(consumer.name)! })
        const oldest = events[0]
        return {
          name: consumer.name,
          owner: holderOf(holdings.get(consumer.name)),
          checkpoint,
          behind: oldest === undefined ? 0 : head - checkpoint,
          lagSeconds: oldest === undefined ? 0 : Math.max(0, (nowMillis - Date.parse(oldest.recordedAt ?? oldest.meta.time)) / 1000),
          handled: here ? Option.some(consumer.handled) : Option.none(),
          parked: parked.get(consumer.name) ?? 0,
          lastError: Option.fromUndefinedOr(ownership.statuses.get(consumer.name)?.lastError)
        }
      }), { concurrency: 8 })
    const work = works.filter((piece) => !sourcesOf.has(piece.name)).map((piece) => ({
      name: piece.name,
      owner: holderOf(holdings.get(piece.name)),
      lastError: Option.fromUndefinedOr(ownership.statuses.get(piece.name)?.lastError)
    }))
    return { head, consumers, work, commands: yield* commands.owners, deadLetters: letters.length }
  })

  const rebuild = (name: string, rebuildOptions: AsUser & { readonly onProgress?: ((progress: RebuildProgress) => Effect.Effect<void>) | undefined } = {}) =>
    Effect.gen(function*() {
      yield* operation(rebuildOptions, "Rebuild", name)
      const entry = yield* Effect.fromResult(registry.readModel(name))
      const model = entry.readModel
      const live = `projection:${model.name}`
      const into = { name: `rebuild:${model.name}`, key: `${model.name}~rebuild` }
      // Its own owner, not a worker: it takes no share of the deployment's work.
      const owner: Leases.Owner = { id: crypto.randomUUID(), host: hostname(), pid: process.pid, worker: false }
      yield* Effect.addFinalizer(() => Effect.ignore(leases.leave(owner.id)))
      yield* leases.renew(owner)
      const [lease] = yield* leases.acquire(owner.id, [into.name], 1)
      if (lease === undefined) {
        const holding = (yield* leases.holdings).find((held) => held.name === into.name)
        return yield* new RebuildRunning({ readModel: model.name, holder: holding === undefined ? "another process" : `${holding.host}:${holding.pid}` })
      }
      yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep(Ownership.renewEvery(leases)), Effect.ignore(leases.renew(owner)))))
      const handler = Consumers.projectionHandler(consumerDeps, rows, model, (projection) => Plugin.qualify(entry.plugin, projection.source), undefined, into)
      const progress: Consumers.ConsumerStatus = { name: into.name, position: 0, stalledOn: undefined, skipped: 0, handled: 0 }
      const from = Option.getOrElse(yield* checkpoints.load(into.name), () => 0)
      let head = yield* store.head
      let phase: RebuildProgress["phase"] = "rebuilding"
      const startedAt = clock.currentTimeMillisUnsafe()
      const report = (): RebuildProgress => {
        const seconds = (clock.currentTimeMillisUnsafe() - startedAt) / 1000
        const rate = seconds > 0 ? (progress.position - from) / seconds : 0
        return {
          readModel: model.name,
          phase,
          position: progress.position,
          head,
          from,
          eventsPerSecond: rate,
          etaSeconds: rate > 0 ? Option.some(Math.max(0, head - progress.position) / rate) : Option.none()
        }
      }
      const onProgress = rebuildOptions.onProgress ?? (() => Effect.void)
      yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep("1 second"), Effect.suspend(() => onProgress(report())))))
      const headNow = Effect.map(store.head, (position) => head = position)
      // The long stretch, while the running projection keeps the current rows up to date.
      yield* Consumers.catchUp(consumerDeps, handler, progress, lease, headNow)
      // The last stretch: the running projection is stopped (its lease seized: a new epoch fences
      // off a commit it still tries), so the rebuild reaches the head and swaps with nothing
      // moving under it; the swap releases the lease, and a worker carries on from there.
      phase = "swapping"
      const seized = yield* leases.seize(owner.id, live)
      yield* Consumers.catchUp(consumerDeps, handler, progress, lease, headNow)
      yield* rows.swap({ readModel: model.name, from: into.key, position: progress.position, rebuild: lease, live: seized })
      // Letters the old projection parked are moot: the rebuilt rows are past them.
      for (const letter of yield* deadLetters.list) {
        if (letter._tag === "Event" && letter.consumer === live) yield* Effect.ignore(resolve(letter.id, "Skip"))
      }
      phase = "done"
      activity.bump()
      const done = report()
      yield* onProgress(done)
      return done
    }).pipe(Effect.scoped)

  return Runtime.of({
    plugins: options.plugins,
    limits,
    check: (request) => {
      const validated = validate(request)
      return Result.isFailure(validated) ? Effect.fail(validated.failure) : Effect.void
    },
    status,
    rebuild,
    send: (request) =>
      Effect.flatMap(prepare(request), (message) => {
        const publish = Effect.as(commands.publish([message]), message.msgId)
        // A msgId the sender chose may be taken: refuse it rather than drop the command silently.
        return request.meta?.msgId === undefined
          ? publish
          : Effect.flatMap(store.outcome(message.msgId), (previous): Effect.Effect<string, InfrastructureError | MsgIdInUse> => Option.isSome(previous) && !belongsTo(previous.value, message) ? Effect.fail(inUse(message)) : publish)
      }),
    submit,
    submitWith,
    execute,
    executeJson: (component, id, json, meta) =>
      Effect.flatMap(
        Effect.try({
          try: () => JSON.parse(json) as unknown,
          catch: (error) => new InvalidJson({ where: `command for ${component} "${id}"`, input: json.slice(0, 200), detail: String(error) })
        }),
        (command) => execute({ component, id, command, meta })
      ),
    query: (name, id, queryOptions) =>
      Effect.andThen(
        Effect.andThen(checkedId(`query of ${name}`, id), checkedUser(`query of ${name}`, queryOptions)),
        Effect.flatMap(readModelFor(name, queryOptions?.user, id), (entry) =>
          Effect.flatMap(rows.get(entry.readModel.name, id), (row): Effect.Effect<Option.Option<unknown>> =>
            Option.isNone(row)
              ? Effect.succeed(row)
              : Effect.map(mayRead(userOf(queryOptions), entry.readModel.name, id, row.value), (may) => may ? row : Option.none())))
      ),
    list: (name, listOptions = {}) => {
      const where = `list of ${name}`
      const refused = Limits.checkPayload(limits, where, "where", listOptions.where ?? {}) ??
        checkedOptional(where, "after", listOptions.after) ??
        checkedOptional(where, "user", listOptions.user)
      if (refused !== undefined) return Effect.fail(refused)
      return Effect.flatMap(readModelFor(name, listOptions.user), (entry) =>
        Effect.flatMap(rows.list(entry.readModel.name, listOptions), (page) =>
          authorization === Authorization.allowAll
            ? Effect.succeed(page)
            : Effect.map(
              Effect.filter(page.items, (item) => mayRead(userOf(listOptions), entry.readModel.name, item.id, item.row), { concurrency: 8 }),
              (items) => ({ ...page, items })
            )))
    },
    readStream: (component, id, readOptions) => Effect.flatMap(streamFor(component, id, readOptions), (entry) => store.readStream(entry.qualified, id)),
    state: (component, id, readOptions) =>
      Effect.flatMap(streamFor(component, id, readOptions), (entry) =>
        Effect.flatMap(store.readStream(entry.qualified, id), (events) => {
          let state = entry.aggregate.initialState
          for (const event of events) {
            const decoded = registry.decodeEvent(entry, event)
            if (Result.isSuccess(decoded)) state = entry.aggregate.evolve(state, decoded.success)
          }
          return Effect.succeed({ version: events.length, state: Result.getOrElse(entry.codecs.encodeState(state), () => state) })
        })),
    watch: (name, watchOptions) =>
      Stream.unwrap(Effect.flatMap(Effect.fromResult(registry.readModel(name)), (entry) => {
        const user = userOf(watchOptions)
        const feed = changeFeeds.get(entry.readModel.name)
        const changes = feed === undefined ? Stream.empty : Stream.fromPubSub(feed)
        return Effect.as(
          Effect.andThen(checkedUser(`watch of ${name}`, watchOptions), allowed({ _tag: "Watch", user, readModel: entry.readModel.name })),
          authorization === Authorization.allowAll ? changes : visibleChanges(changes, user, entry.readModel.name)
        )
      })),
    awaitIdle,
    settle: settleAll,
    deadLetters: {
      list: (listOptions) => Effect.andThen(operation(listOptions, "ListDeadLetters"), deadLetters.list),
      replay: (id, replayOptions) =>
        Effect.andThen(
          operation(replayOptions, "ReplayDeadLetter", id),
          Effect.andThen(reauthorize(id), resolve(id, "Replay"))
        ),
      skip: (id, skipOptions) => Effect.andThen(operation(skipOptions, "SkipDeadLetter", id), resolve(id, "Skip"))
    },
    receive: (name, input, receiveOptions = {}) => {
      const where = `request to ${name}`
      const refused = Limits.checkPayload(limits, where, "input", input) ??
        checkedOptional(where, "requestId", receiveOptions.requestId) ??
        checkedOptional(where, "user", receiveOptions.user)
      if (refused !== undefined) return Effect.fail(refused)
      return Effect.flatMap(Effect.fromResult(registry.inboundSlice(name)), (entry) =>
        Inbound.receive({ store, commands, now, authorize: authorized }, entry, input, receiveOptions))
    },
    health: Effect.sync(() => ({
      plugins: options.plugins.map((plugin) => ({ plugin: plugin.name, heartbeatInterval: plugin.heartbeatInterval, ...heartbeats.get(plugin.name)! })),
      consumers: statuses.map((status) => ({
        name: status.name,
        position: status.position,
        handled: status.handled,
        skipped: status.skipped,
        stalledOn: Option.fromUndefinedOr(status.stalledOn)
      }))
    }))
  })
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
  return Effect.contextWith((context: Context.Context<Runtime>) =>
    Context.get(context, Runtime).submitWith({ component, id, command: encoded.success, meta }, settle, { codecs, command }))
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
