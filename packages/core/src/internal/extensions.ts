/**
 * Cross-plugin flow: the consumers of extension points (the owning plugin's outgoing mapping,
 * which appends extension-point events to the log) and of extensions (incoming: extension-point
 * events → commands for the delegate; outgoing: delegate events → commands for extension
 * points), and the handling of commands that arrive at an extension point.
 *
 * Every command derived here gets a deterministic message id (source event or message id,
 * consumer, action index), so a redelivery never commands twice (guarantee 7).
 */
import { type Context, Effect, Result, Schema } from "effect"
import type { CommandTopic } from "../CommandTopic.ts"
import { describeSchemaError, InfrastructureError } from "../Errors.ts"
import type * as Event from "../Event.ts"
import type { CommitRequest, EventStore } from "../EventStore.ts"
import * as Extension from "../Extension.ts"
import type { ExtensionPointTopic } from "../ExtensionPointTopic.ts"
import type * as ExtensionPoint from "../ExtensionPoint.ts"
import * as Message from "../Message.ts"
import type * as Plugin from "../Plugin.ts"
import type { QueryEngine } from "../QueryEngine.ts"
import type { Scheduler } from "../Scheduler.ts"
import {
  checkpointed,
  type ConsumerDeps,
  decodeFor,
  decoderFor,
  entryOf,
  guard,
  type Handler,
  HandlerFailure,
  infrastructure,
  unknownVariant
} from "./consumers.ts"
import { derive, type Origin } from "./derived.ts"
import type { ContractEntry, ExtensionPointEntry } from "./registry.ts"
import * as EventType from "./eventType.ts"

export interface LinkDeps {
  readonly consumers: ConsumerDeps
  readonly commands: CommandTopic["Service"]
  readonly store: EventStore["Service"]
  readonly scheduler: Scheduler["Service"]
  readonly queries: Context.Context<QueryEngine>
  /** Async actions of one event resolved at once. */
  readonly concurrency: number
}

/** Extension-point events are appended wherever their stream is: no decision read it. */
const anyVersion = { _tag: "Stream", expectedVersion: "any" } as const
const noEvents = { _tag: "Events", events: [] } as const

const permanent = (reason: string) => new HandlerFailure({ reason, retryable: false })
/** A failure of user code or a service: transient unless the error says it is not retryable. */
const transient = (what: string) => (error: unknown) =>
  new HandlerFailure({
    reason: `${what} failed: ${error instanceof Error ? error.message : String(error)}`,
    retryable: !(typeof error === "object" && error !== null && "retryable" in error && error.retryable === false)
  })

/** A command for an aggregate of `plugin`, encoded with its schema. */
const toAggregate = (
  deps: LinkDeps,
  origin: Origin,
  key: string,
  plugin: string,
  target: { readonly name: string },
  id: string,
  command: unknown
): Result.Result<Message.CommandMessage, HandlerFailure> =>
  Result.match(deps.consumers.registry.encodeCommand(plugin, target, command), {
    onFailure: (reason) => Result.fail(permanent(`${origin.consumer} ${reason}`)),
    onSuccess: (encoded) => Result.succeed(derive(deps.consumers.now(), origin, key, encoded, id))
  })

/** A command for an extension point, encoded with its contract. */
const toExtensionPoint = (
  deps: LinkDeps,
  origin: Origin,
  key: string,
  contract: ContractEntry,
  id: string,
  command: unknown
): Result.Result<Message.CommandMessage, HandlerFailure> => {
  const encoded = contract.encodeCommand(command)
  if (Result.isFailure(encoded)) {
    return Result.fail(permanent(`${origin.consumer} built an invalid ${contract.spec.name} command: ${encoded.failure.message}`))
  }
  return Result.succeed(derive(deps.consumers.now(), origin, key, { component: contract.spec.name, command: encoded.success }, id))
}

/** A forwarded JSON command: decoded against the target contract, so a bad one names its path. */
const forwarded = (deps: LinkDeps, origin: Origin, key: string, forward: Extension.ForwardedCommand) => {
  const contract = deps.consumers.registry.contracts.get(forward.extensionPointName)
  if (contract === undefined || !deps.consumers.registry.extensionPoints.has(forward.extensionPointName)) {
    return Result.fail(permanent(`${origin.consumer} forwards to unknown extension point ${forward.extensionPointName}`))
  }
  const decoded = contract.decodeCommand(forward.commandJson)
  if (Result.isFailure(decoded)) {
    const { detail, path } = describeSchemaError(decoded.failure)
    return Result.fail(permanent(`${origin.consumer} forwards an invalid ${forward.extensionPointName} command at ${path}: ${detail}`))
  }
  return toExtensionPoint(deps, origin, key, contract, forward.id, decoded.success)
}

/** A slice command's routing key, from its partition field(s). */
const partitionOf = (slice: Extension.SliceDelegate<unknown>, command: unknown): Result.Result<string, HandlerFailure> => {
  const key = slice.partitionOf(command)
  return key === undefined ? Result.fail(permanent(`command for slice ${slice.name} has no partition key`)) : Result.succeed(key)
}

/** One resolved action: commands to publish, or a directive to run. */
type Step = { readonly _tag: "Commands"; readonly messages: ReadonlyArray<Message.CommandMessage> } | {
  readonly _tag: "Directive"
  readonly run: Effect.Effect<void, HandlerFailure>
}

const commandsStep = (results: ReadonlyArray<Result.Result<Message.CommandMessage, HandlerFailure>>): Effect.Effect<Step, HandlerFailure> =>
  Effect.map(Effect.all(results.map(Effect.fromResult)), (messages) => ({ _tag: "Commands", messages }))

/** Publishes commands and runs directives in the order of the actions that produced them. */
const perform = (deps: LinkDeps, steps: ReadonlyArray<Step>): Effect.Effect<void, HandlerFailure> =>
  Effect.forEach(steps, (step) =>
    step._tag === "Directive"
      ? step.run
      : step.messages.length === 0
      ? Effect.void
      : Effect.mapError(deps.commands.publish(step.messages), infrastructure), { discard: true })

const provide = <A, E>(deps: LinkDeps, effect: Effect.Effect<A, E, QueryEngine>, what: string) =>
  Effect.mapError(Effect.provideContext(effect, deps.queries), transient(what))

/** Turns an extension's actions into steps; Async variants run with bounded concurrency. */
const resolveExtensionActions = (
  deps: LinkDeps,
  origin: Origin,
  plugin: string,
  extension: Extension.Extension,
  contract: ContractEntry,
  actions: ReadonlyArray<Extension.IncomingCommandAction<unknown, unknown, unknown>>
): Effect.Effect<ReadonlyArray<Step>, HandlerFailure> => {
  const delegate = extension.delegate
  const aggregate = (key: string, id: string, command: unknown) =>
    Extension.isSliceDelegate(delegate)
      ? Result.fail(permanent(`${origin.consumer}: PublishAggregateCommand needs an aggregate delegate; ${delegate.name} is a StateChangeSlice`))
      : toAggregate(deps, origin, key, plugin, delegate, id, command)
  const slice = (key: string, command: unknown): Result.Result<Message.CommandMessage, HandlerFailure> => {
    if (!Extension.isSliceDelegate(delegate)) {
      return Result.fail(permanent(`${origin.consumer}: PublishStateChangeSliceCommand needs a StateChangeSlice delegate; ${delegate.name} is an aggregate`))
    }
    return Result.flatMap(partitionOf(delegate, command), (id) => {
      const encoded = Schema.encodeUnknownResult(delegate.command)(command)
      return Result.isFailure(encoded)
        ? Result.fail(permanent(`${origin.consumer} built an invalid ${delegate.name} command: ${encoded.failure.message}`))
        : Result.succeed(derive(deps.consumers.now(), origin, key, { component: `${plugin}.${delegate.name}`, command: encoded.success }, id))
    })
  }
  const what = `extension ${extension.name}`
  return Effect.forEach(actions, (action, index): Effect.Effect<Step, HandlerFailure> => {
    const key = String(index)
    switch (action._tag) {
      case "PublishAggregateCommand":
        return commandsStep([aggregate(key, action.id, action.command)])
      case "PublishAggregateCommandAsync":
        return Effect.flatMap(provide(deps, action.effect, what), ([id, command]) => commandsStep([aggregate(key, id, command)]))
      case "PublishAggregateCommandsAsync":
        return Effect.flatMap(provide(deps, action.effect, what), (pairs) =>
          commandsStep(pairs.map(([id, command], j) => aggregate(`${key}.${j}`, id, command))))
      case "PublishStateChangeSliceCommand":
        return commandsStep([slice(key, action.command)])
      case "PublishStateChangeSliceCommandAsync":
        return Effect.flatMap(provide(deps, action.effect, what), (command) => commandsStep([slice(key, command)]))
      case "PublishStateChangeSliceCommandsAsync":
        return Effect.flatMap(provide(deps, action.effect, what), (commands) =>
          commandsStep(commands.map((command, j) => slice(`${key}.${j}`, command))))
      case "PublishExtensionPointCommand":
        return commandsStep([toExtensionPoint(deps, origin, key, contract, action.id, action.command)])
      case "ForwardCommand":
        return commandsStep([forwarded(deps, origin, key, action.forward)])
      case "HandleDirective":
        return Effect.succeed({
          _tag: "Directive",
          run: Effect.mapError(Effect.suspend(() => action.handler(action.directive)), transient(`${what} directive`))
        })
    }
  }, { concurrency: deps.concurrency })
}

const pluginDefinition = (plugin: Plugin.Plugin<unknown>): Extension.PluginDefinition => ({
  name: plugin.name,
  aggregates: plugin.aggregates.map((aggregate) => aggregate.name),
  extensionPoints: plugin.extensionPoints.map((extensionPoint) => extensionPoint.spec.name)
})

const actionsOf = <A>(
  deps: LinkDeps,
  what: string,
  mapped: ReadonlyArray<A> | Effect.Effect<ReadonlyArray<A>, unknown, QueryEngine>
): Effect.Effect<ReadonlyArray<A>, HandlerFailure> => Array.isArray(mapped) ? Effect.succeed(mapped) : provide(deps, mapped as Effect.Effect<ReadonlyArray<A>, unknown, QueryEngine>, what)

/** An extension's incoming side: the extension point's events, from the log, to commands. */
export const extensionIncomingHandler = (deps: LinkDeps, plugin: Plugin.Plugin<unknown>, extension: Extension.Extension): Handler => {
  const name = `extension:${plugin.name}.${extension.name}`
  const contract = deps.consumers.registry.contracts.get(extension.extensionPoint.name)!
  const definition = pluginDefinition(plugin)
  return {
    ...checkpointed(deps.consumers, name, extension.extensionPoint.name),
    startFrom: extension.startFrom,
    handle: (event) =>
      Effect.gen(function*() {
        const decoded = contract.decodeEvent(event.data)
        if (Result.isFailure(decoded)) {
          const { detail, path } = describeSchemaError(decoded.failure)
          return yield* (path === "(root)" ? unknownVariant : permanent(`event ${event.id} at ${path}: ${detail}`))
        }
        const mapped = yield* guard(`extension ${extension.name}`, () =>
          extension.mapIncomingEvent({ id: event.streamId, event: decoded.success, meta: event.meta, plugin: definition }))
        const actions = yield* actionsOf(deps, `extension ${extension.name}`, mapped)
        const origin = { consumer: name, causeId: event.id, meta: event.meta }
        yield* perform(deps, yield* resolveExtensionActions(deps, origin, plugin.name, extension, contract, actions))
      })
  }
}

/** An extension's outgoing side: the delegate's events to extension-point commands. */
export const extensionOutgoingHandler = (
  deps: LinkDeps,
  plugin: Plugin.Plugin<unknown>,
  extension: Extension.Extension & { readonly mapOutgoingEvent: NonNullable<Extension.Extension["mapOutgoingEvent"]> }
): Handler => {
  const name = `extension-out:${plugin.name}.${extension.name}`
  const source = `${plugin.name}.${extension.delegate.name}`
  const contract = deps.consumers.registry.contracts.get(extension.extensionPoint.name)!
  const definition = pluginDefinition(plugin)
  return {
    ...checkpointed(deps.consumers, name, source),
    startFrom: extension.startFrom,
    handle: (event) =>
      Effect.gen(function*() {
        const decoded = yield* decodeFor(deps.consumers.registry, entryOf(deps.consumers.registry, source), event)
        const actions = yield* guard(`extension ${extension.name}`, () =>
          extension.mapOutgoingEvent({ id: event.streamId, event: decoded, meta: event.meta, plugin: definition }))
        const origin = { consumer: name, causeId: event.id, meta: event.meta }
        yield* perform(deps, yield* resolveExtensionActions(deps, origin, plugin.name, extension, contract, actions))
      })
  }
}

/** The extension point's scheduler, bound to its plugin. */
const schedulerFor = (deps: LinkDeps, entry: ExtensionPointEntry, origin: Origin): ExtensionPoint.DirectiveScheduler => ({
  schedule: (target, options) =>
    Effect.flatMap(
      Effect.mapError(
        Effect.fromResult(toAggregate(deps, origin, `schedule:${options.key}`, entry.plugin.name, target, options.id, options.command)),
        (failure) => new InfrastructureError({ service: "Scheduler", operation: "schedule", detail: failure.reason, retryable: false })
      ),
      (message) => deps.scheduler.schedule({ key: options.key, dueAt: options.at, message })
    ),
  cancel: deps.scheduler.cancel
})

/** Resolves an extension point's own actions (outgoing mapping or incoming command) into steps. */
const resolveExtensionPointActions = (
  deps: LinkDeps,
  entry: ExtensionPointEntry,
  origin: Origin,
  actions: ReadonlyArray<ExtensionPoint.Action<unknown, unknown>>
): { readonly steps: Array<Step>; readonly events: Array<CommitRequest>; readonly failure: HandlerFailure | undefined } => {
  const steps: Array<Step> = []
  const events: Array<CommitRequest> = []
  const spec = entry.extensionPoint.spec
  for (let index = 0; index < actions.length; index++) {
    const action = actions[index]!
    switch (action._tag) {
      case "PublishEvent": {
        const data = entry.contract.encodeEvent(action.event)
        if (Result.isFailure(data)) return { steps, events, failure: permanent(`${origin.consumer} published an invalid ${spec.name} event: ${data.failure.message}`) }
        const msgId = Message.derivedMsgId(origin.causeId, origin.consumer, index)
        events.push({
          msgId,
          component: spec.name,
          id: action.id,
          boundary: anyVersion,
          decided: { _tag: "Events", events: [{ type: EventType.ofComponent(spec.name, data.success), schemaVersion: 1, data: data.success }] },
          meta: Message.derivedMeta(origin.meta, { msgId, service: origin.consumer, causationId: origin.causeId, time: deps.consumers.now() })
        })
        break
      }
      case "PublishCommand": {
        const message = toAggregate(deps, origin, String(index), entry.plugin.name, action.publish.target, action.publish.id, action.publish.command)
        if (Result.isFailure(message)) return { steps, events, failure: message.failure }
        steps.push({ _tag: "Commands", messages: [message.success] })
        break
      }
      case "HandleDirective":
        steps.push({
          _tag: "Directive",
          run: Effect.mapError(
            Effect.provideContext(Effect.suspend(() => entry.extensionPoint.handleDirective(action.directive, schedulerFor(deps, entry, origin))), deps.queries),
            transient(`${spec.name} directive`)
          )
        })
    }
  }
  return { steps, events, failure: undefined }
}

/** The owning plugin's side: its delegate's events to extension-point events (stored in the log). */
export const extensionPointHandler = (deps: LinkDeps, entry: ExtensionPointEntry): Handler => {
  const extensionPoint = entry.extensionPoint
  const name = `extensionPoint:${extensionPoint.spec.name}`
  const source = `${entry.plugin.name}.${extensionPoint.delegate.name}`
  const decode = decoderFor(deps.consumers.registry, extensionPoint.delegate, source)
  return {
    ...checkpointed(deps.consumers, name, source),
    handle: (event: Event.Envelope) =>
      Effect.gen(function*() {
        const decoded = yield* decode(event)
        const mapped = yield* guard(`extension point ${extensionPoint.spec.name}`, () =>
          extensionPoint.mapOutgoingEvent({ id: event.streamId, meta: event.meta, value: decoded }))
        const actions = yield* actionsOf(deps, `extension point ${extensionPoint.spec.name}`, mapped)
        const { events, failure, steps } = resolveExtensionPointActions(deps, entry, { consumer: name, causeId: event.id, meta: event.meta }, actions)
        if (failure !== undefined) return yield* failure
        if (events.length > 0) yield* Effect.mapError(deps.store.commit(events), infrastructure)
        yield* perform(deps, steps)
      })
  }
}

/**
 * The relay of an extension point whose events cross deployments: a consumer of the log that
 * publishes them in log order, a page at a time where it can, so the transport carries only
 * stored events and every stored event once its checkpoint passed it.
 */
export const extensionPointRelay = (deps: ConsumerDeps, topic: ExtensionPointTopic["Service"], extensionPoint: string): Handler => {
  /** Published with their page by `prepare`; `handle` publishes the rest one by one. */
  const published = new Set<string>()
  const checkpoint = checkpointed(deps, `relay:${extensionPoint}`, extensionPoint)
  return {
    ...checkpoint,
    prepare: (events) =>
      Effect.ignore(Effect.tap(topic.publish(extensionPoint, events), () =>
        Effect.sync(() => {
          for (const event of events) published.add(event.id)
        }))),
    handle: (event) => published.delete(event.id) ? Effect.void : Effect.mapError(topic.publish(extensionPoint, [event]), infrastructure),
    flush: (position, lease) => Effect.andThen(Effect.sync(() => published.clear()), checkpoint.flush(position, lease)),
    reset: () => published.clear()
  }
}

/**
 * Imports extension-point events received from another deployment into this deployment's log,
 * once per source event id (the id is the append's msgId), where the extensions consume them.
 */
export const importExtensionPointEvents = (store: EventStore["Service"]) => (events: ReadonlyArray<Event.Envelope>): Effect.Effect<void, InfrastructureError> =>
  events.length === 0 ? Effect.void : Effect.asVoid(store.commit(events.map((event): CommitRequest => ({
    msgId: `import:${event.id}`,
    component: event.source,
    id: event.streamId,
    boundary: anyVersion,
    decided: { _tag: "Events", events: [{ type: event.type, schemaVersion: event.schemaVersion, data: event.data }] },
    meta: event.meta
  }))))

/**
 * A command that arrived at an extension point: decoded against the contract, mapped onto the
 * owning plugin's aggregates and directive handler, and recorded as Accepted (no events) so a
 * redelivery does nothing.
 */
export const extensionPointCommand = (
  deps: LinkDeps,
  entry: ExtensionPointEntry,
  message: Message.CommandMessage
): Effect.Effect<void, HandlerFailure | InfrastructureError> =>
  Effect.gen(function*() {
    const spec = entry.extensionPoint.spec
    const command = entry.contract.decodeCommand(message.command)
    if (Result.isFailure(command)) {
      const { detail, path } = describeSchemaError(command.failure)
      return yield* permanent(`invalid command for ${spec.name} at ${path}: ${detail}`)
    }
    const actions = yield* guard(`extension point ${spec.name}`, () =>
      entry.extensionPoint.mapIncomingCommand({ id: message.id, meta: message.meta, value: command.success }))
    const origin = { consumer: spec.name, causeId: message.msgId, meta: message.meta }
    const { events, failure, steps } = resolveExtensionPointActions(deps, entry, origin, actions)
    if (failure !== undefined) return yield* failure
    if (events.length > 0) return yield* permanent(`${spec.name}: a command cannot publish extension-point events; they come from the plugin's own events`)
    yield* perform(deps, steps)
    yield* deps.store.commit([{ msgId: message.msgId, component: spec.name, id: message.id, boundary: anyVersion, decided: noEvents, meta: message.meta }])
  })
