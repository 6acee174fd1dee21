/**
 * An extension is a plugin's subscription to another plugin's extension point: it turns the
 * extension point's events into commands for a local delegate (an aggregate, or a DCB
 * state-change slice), and may turn the delegate's events back into commands for extension
 * points. It imports only the other plugin's spec package.
 *
 * Both mappings return action lists (every variant of the seed's extension.md). The runtime runs
 * the `Async` variants' Effects with bounded concurrency and retries, and gives every command it
 * derives a deterministic message id (source event id, extension, action index), so redelivering
 * an event never commands twice.
 *
 * @since 0.1.0
 */
import type { Effect, Schema } from "effect"
import type * as Aggregate from "./Aggregate.ts"
import type * as ExtensionPoint from "./ExtensionPoint.ts"
import type { Meta } from "./Message.ts"
import type { QueryEngine } from "./QueryEngine.ts"

/**
 * A DCB state-change slice as an extension's delegate (`StateChangeSlice.make` gives one): its
 * commands carry their own routing key, so `PublishStateChangeSliceCommand` needs no id.
 *
 * @since 0.1.0
 * @category models
 */
export interface SliceDelegate<Command> {
  readonly kind: "StateChangeSlice"
  readonly name: string
  readonly command: Schema.Codec<Command, unknown>
  /** The routing key of a command, from its partition field(s); undefined when missing. */
  partitionOf(command: unknown): string | undefined
}

/**
 * What receives an extension's commands.
 *
 * @since 0.1.0
 * @category models
 */
export type Delegate<Command, Event> = Aggregate.Aggregate<string, unknown, Command, Event, unknown> | SliceDelegate<Command>

/**
 * A command for any extension point, as JSON, decoded against the target's command schema when
 * it is delivered (the seed's `forwardCommand`).
 *
 * @since 0.1.0
 * @category models
 */
export interface ForwardedCommand {
  readonly extensionPointName: string
  readonly id: string
  readonly commandJson: unknown
}

/**
 * A directive handler of an extension: a bare Effect (no scheduler, as in the seed).
 *
 * @since 0.1.0
 * @category models
 */
export type DirectiveHandler<Directive> = {
  // a method signature, so a handler of a wider directive type fits a narrower action and back
  bivariant(directive: Directive): Effect.Effect<void, unknown>
}["bivariant"]

/**
 * What a mapped incoming event may do.
 *
 * @since 0.1.0
 * @category models
 */
export type IncomingCommandAction<Command, EpCommand, Directive> =
  | { readonly _tag: "PublishAggregateCommand"; readonly id: string; readonly command: Command }
  | { readonly _tag: "PublishAggregateCommandAsync"; readonly effect: Effect.Effect<readonly [string, Command], unknown, QueryEngine> }
  | {
    readonly _tag: "PublishAggregateCommandsAsync"
    readonly effect: Effect.Effect<ReadonlyArray<readonly [string, Command]>, unknown, QueryEngine>
  }
  | { readonly _tag: "PublishStateChangeSliceCommand"; readonly command: Command }
  | { readonly _tag: "PublishStateChangeSliceCommandAsync"; readonly effect: Effect.Effect<Command, unknown, QueryEngine> }
  | { readonly _tag: "PublishStateChangeSliceCommandsAsync"; readonly effect: Effect.Effect<ReadonlyArray<Command>, unknown, QueryEngine> }
  | OutgoingCommandAction<EpCommand, Directive>

/**
 * What a mapped outgoing (delegate) event may do.
 *
 * @since 0.1.0
 * @category models
 */
export type OutgoingCommandAction<EpCommand, Directive> =
  | { readonly _tag: "PublishExtensionPointCommand"; readonly id: string; readonly command: EpCommand }
  | { readonly _tag: "ForwardCommand"; readonly forward: ForwardedCommand }
  | { readonly _tag: "HandleDirective"; readonly handler: DirectiveHandler<Directive>; readonly directive: Directive }

/**
 * @since 0.1.0
 * @category constructors
 */
export const publishAggregateCommand = <Command>(id: string, command: Command): IncomingCommandAction<Command, never, never> => ({
  _tag: "PublishAggregateCommand",
  id,
  command
})

/**
 * @since 0.1.0
 * @category constructors
 */
export const publishAggregateCommandAsync = <Command>(
  effect: Effect.Effect<readonly [string, Command], unknown, QueryEngine>
): IncomingCommandAction<Command, never, never> => ({ _tag: "PublishAggregateCommandAsync", effect })

/**
 * @since 0.1.0
 * @category constructors
 */
export const publishAggregateCommandsAsync = <Command>(
  effect: Effect.Effect<ReadonlyArray<readonly [string, Command]>, unknown, QueryEngine>
): IncomingCommandAction<Command, never, never> => ({ _tag: "PublishAggregateCommandsAsync", effect })

/**
 * @since 0.1.0
 * @category constructors
 */
export const publishStateChangeSliceCommand = <Command>(command: Command): IncomingCommandAction<Command, never, never> => ({
  _tag: "PublishStateChangeSliceCommand",
  command
})

/**
 * @since 0.1.0
 * @category constructors
 */
export const publishStateChangeSliceCommandAsync = <Command>(
  effect: Effect.Effect<Command, unknown, QueryEngine>
): IncomingCommandAction<Command, never, never> => ({ _tag: "PublishStateChangeSliceCommandAsync", effect })

/**
 * @since 0.1.0
 * @category constructors
 */
export const publishStateChangeSliceCommandsAsync = <Command>(
  effect: Effect.Effect<ReadonlyArray<Command>, unknown, QueryEngine>
): IncomingCommandAction<Command, never, never> => ({ _tag: "PublishStateChangeSliceCommandsAsync", effect })

/**
 * Sends a command to the extension point this extension subscribes to.
 *
 * @since 0.1.0
 * @category constructors
 */
export const publishExtensionPointCommand = <EpCommand>(id: string, command: EpCommand): OutgoingCommandAction<EpCommand, never> => ({
  _tag: "PublishExtensionPointCommand",
  id,
  command
})

/**
 * Sends a JSON command to any extension point, by name.
 *
 * @since 0.1.0
 * @category constructors
 */
export const forwardCommand = (forward: ForwardedCommand): OutgoingCommandAction<never, never> => ({ _tag: "ForwardCommand", forward })

/**
 * Runs `handler` on `directive` (at least once: the handler should be idempotent).
 *
 * @since 0.1.0
 * @category constructors
 */
export const handleDirective = <Directive>(handler: DirectiveHandler<Directive>, directive: Directive): OutgoingCommandAction<never, Directive> => ({
  _tag: "HandleDirective",
  handler,
  directive
})

/**
 * What a mapping knows of its own plugin, for routing decisions.
 *
 * @since 0.1.0
 * @category models
 */
export interface PluginDefinition {
  readonly name: string
  readonly aggregates: ReadonlyArray<string>
  readonly extensionPoints: ReadonlyArray<string>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface MapInput<Event> {
  readonly id: string
  readonly event: Event
  readonly meta: Meta
  readonly plugin: PluginDefinition
}

/**
 * An extension, types erased.
 *
 * @since 0.1.0
 * @category models
 */
export interface Extension {
  readonly name: string
  /** Where a new extension starts: every event the extension point ever published, or only new ones. */
  readonly startFrom: "beginning" | "now"
  readonly extensionPoint: ExtensionPoint.AnySpec
  readonly delegate: Delegate<unknown, unknown>
  mapIncomingEvent(
    input: MapInput<unknown>
  ):
    | ReadonlyArray<IncomingCommandAction<unknown, unknown, unknown>>
    | Effect.Effect<ReadonlyArray<IncomingCommandAction<unknown, unknown, unknown>>, unknown, QueryEngine>
  readonly mapOutgoingEvent: ((input: MapInput<unknown>) => ReadonlyArray<OutgoingCommandAction<unknown, unknown>>) | undefined
}

/**
 * Builds an extension of `extensionPoint` delegating to `delegate`. `mapIncomingEvent` may read
 * through the QueryEngine (Effect form, or an Async action).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <EpCommand, EpEvent, Directive, Command, Event, E = never>(options: {
  readonly name: string
  /** Default "beginning": an extension added later catches up on everything published so far. */
  readonly startFrom?: "beginning" | "now" | undefined
  readonly extensionPoint: ExtensionPoint.Spec<string, EpCommand, EpEvent, Directive>
  readonly delegate: Delegate<Command, Event>
  readonly mapIncomingEvent: (
    input: MapInput<EpEvent>
  ) =>
    | ReadonlyArray<IncomingCommandAction<NoInfer<Command>, NoInfer<EpCommand>, NoInfer<Directive>>>
    | Effect.Effect<ReadonlyArray<IncomingCommandAction<NoInfer<Command>, NoInfer<EpCommand>, NoInfer<Directive>>>, E, QueryEngine>
  readonly mapOutgoingEvent?:
    | ((input: MapInput<Event>) => ReadonlyArray<OutgoingCommandAction<NoInfer<EpCommand>, NoInfer<Directive>>>)
    | undefined
}): Extension => ({
  name: options.name,
  startFrom: options.startFrom ?? "beginning",
  extensionPoint: options.extensionPoint as ExtensionPoint.AnySpec,
  delegate: options.delegate as Delegate<unknown, unknown>,
  mapIncomingEvent: options.mapIncomingEvent as Extension["mapIncomingEvent"],
  mapOutgoingEvent: options.mapOutgoingEvent as Extension["mapOutgoingEvent"]
})

/**
 * @since 0.1.0
 * @category guards
 */
export const isSliceDelegate = (delegate: Delegate<unknown, unknown>): delegate is SliceDelegate<unknown> =>
  "kind" in delegate && delegate.kind === "StateChangeSlice"
