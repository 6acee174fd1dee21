/**
 * An extension point is a plugin's public contract for other plugins: events it publishes,
 * commands it accepts, directives (side effects) it offers. The contract (`spec`) lives in a
 * separate spec package that both sides import; the mapping (`make`) lives in the owning plugin
 * and translates between the contract and its internal aggregates, so internal refactoring never
 * breaks a consumer.
 *
 * Events published through an extension point are appended to the owning plugin's log (source =
 * the extension point's name, stream = the entity id), so an extension added later catches up
 * from the beginning.
 *
 * @since 0.1.0
 */
import { type Effect, Predicate, Schema } from "effect"
import type * as Aggregate from "./Aggregate.ts"
import type * as DcbEventLog from "./DcbEventLog.ts"
import type { InfrastructureError } from "./Errors.ts"
import type * as EventMapping from "./EventMapping.ts"
import type { Meta } from "./Message.ts"
import type { QueryEngine } from "./QueryEngine.ts"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId = "~@reventless/core/ExtensionPoint" as const

/**
 * The public contract: `name` is `Plugin.ExtensionPoint` (e.g. `Catalog.Products`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Spec<Name extends string, Command, Event, Directive> {
  readonly [TypeId]: typeof TypeId
  readonly name: Name
  readonly command: Schema.Codec<Command, unknown>
  readonly event: Schema.Codec<Event, unknown>
  readonly directive: Schema.Codec<Directive, unknown>
}

/**
 * Any contract, its types erased.
 *
 * @since 0.1.0
 * @category models
 */
export interface AnySpec extends Spec<string, unknown, unknown, unknown> {}

/**
 * @since 0.1.0
 * @category guards
 */
export const isSpec = (u: unknown): u is AnySpec => Predicate.hasProperty(u, TypeId)

/**
 * Declares a contract. A read-only extension point omits `command`; one without side effects
 * omits `directive`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const spec = <const Name extends `${string}.${string}`, Event, Command = never, Directive = never>(options: {
  readonly name: Name
  readonly event: Schema.Codec<Event, unknown>
  readonly command?: Schema.Codec<Command, unknown> | undefined
  readonly directive?: Schema.Codec<Directive, unknown> | undefined
}): Spec<Name, Command, Event, Directive> => ({
  [TypeId]: TypeId,
  name: options.name,
  event: options.event,
  command: options.command ?? (Schema.Never as unknown as Schema.Codec<Command, unknown>),
  directive: options.directive ?? (Schema.Never as unknown as Schema.Codec<Directive, unknown>)
})

/**
 * What the owning plugin does with one of its events (`mapOutgoingEvent`) or with a command that
 * arrived at the extension point (`mapIncomingCommand`): publish an extension-point event,
 * command one of its own aggregates, or run the extension point's directive handler.
 *
 * @since 0.1.0
 * @category models
 */
export type Action<Event, Directive> =
  | { readonly _tag: "PublishEvent"; readonly id: string; readonly event: Event }
  | { readonly _tag: "PublishCommand"; readonly publish: EventMapping.Publish }
  | { readonly _tag: "HandleDirective"; readonly directive: Directive }

/**
 * What a command arriving at the extension point may turn into (no extension-point events: those
 * come from the plugin's own events).
 *
 * @since 0.1.0
 * @category models
 */
export type IncomingAction<Directive> = Exclude<Action<never, Directive>, { readonly _tag: "PublishEvent" }>

/**
 * Publishes `event` under the entity `id` to every extension of this extension point.
 *
 * @since 0.1.0
 * @category constructors
 */
export const publishEvent = <Event>(id: string, event: Event): Action<Event, never> => ({ _tag: "PublishEvent", id, event })

/**
 * Commands an aggregate of the owning plugin.
 *
 * @since 0.1.0
 * @category constructors
 */
export const publishCommand = <Command>(
  target: Aggregate.Aggregate<string, unknown, Command, unknown, unknown>,
  id: string,
  command: Command
): IncomingAction<never> => ({ _tag: "PublishCommand", publish: { target: target as Aggregate.Any, id, command } })

/**
 * Runs the extension point's directive handler on `directive`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const handleDirective = <Directive>(directive: Directive): IncomingAction<Directive> => ({ _tag: "HandleDirective", directive })

/**
 * The scheduler as a directive handler sees it: bound to the owning plugin, so a target is an
 * aggregate descriptor rather than a qualified name.
 *
 * @since 0.1.0
 * @category models
 */
export interface DirectiveScheduler {
  readonly schedule: <Command>(
    target: Aggregate.Aggregate<string, unknown, Command, unknown, unknown>,
    options: { readonly key: string; readonly at: number; readonly id: string; readonly command: Command }
  ) => Effect.Effect<void, InfrastructureError>
  readonly cancel: (key: string) => Effect.Effect<void, InfrastructureError>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface MapInput<A> {
  readonly id: string
  readonly meta: Meta
  readonly value: A
}

/**
 * The mapping of an extension point in its owning plugin, types erased.
 *
 * @since 0.1.0
 * @category models
 */
export interface ExtensionPoint {
  readonly spec: AnySpec
  /** The internal aggregate, or the plugin's DCB log, whose events `mapOutgoingEvent` translates. */
  readonly delegate: Aggregate.Any | DcbEventLog.Source<unknown>
  /** The aggregates its actions may command; the plugin checks that they exist. */
  readonly targets: ReadonlyArray<Aggregate.Any>
  mapOutgoingEvent(
    input: MapInput<unknown>
  ): ReadonlyArray<Action<unknown, unknown>> | Effect.Effect<ReadonlyArray<Action<unknown, unknown>>, unknown, QueryEngine>
  mapIncomingCommand(input: MapInput<unknown>): ReadonlyArray<IncomingAction<unknown>>
  handleDirective(directive: unknown, scheduler: DirectiveScheduler): Effect.Effect<void, unknown, QueryEngine>
}

/**
 * Builds the mapping. `mapOutgoingEvent` sees the delegate's events (`input.value`) and may read
 * through the QueryEngine (Effect form); `mapIncomingCommand` sees the contract's commands;
 * `handleDirective` gets a plugin-bound scheduler and the QueryEngine.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <Command, Event, Directive, DelegateEvent, E = never>(options: {
  readonly spec: Spec<string, Command, Event, Directive>
  readonly delegate: Aggregate.Aggregate<string, unknown, unknown, DelegateEvent, unknown> | DcbEventLog.Source<DelegateEvent>
  readonly targets?: ReadonlyArray<Aggregate.Any> | undefined
  readonly mapOutgoingEvent?:
    | ((
      input: MapInput<DelegateEvent>
    ) =>
      | ReadonlyArray<Action<NoInfer<Event>, NoInfer<Directive>>>
      | Effect.Effect<ReadonlyArray<Action<NoInfer<Event>, NoInfer<Directive>>>, E, QueryEngine>)
    | undefined
  readonly mapIncomingCommand?: ((input: MapInput<Command>) => ReadonlyArray<IncomingAction<NoInfer<Directive>>>) | undefined
  readonly handleDirective?: ((directive: Directive, scheduler: DirectiveScheduler) => Effect.Effect<void, E, QueryEngine>) | undefined
}): ExtensionPoint => ({
  spec: options.spec as AnySpec,
  delegate: options.delegate as Aggregate.Any | DcbEventLog.Source<unknown>,
  targets: options.targets ?? [],
  mapOutgoingEvent: (options.mapOutgoingEvent ?? (() => [])) as ExtensionPoint["mapOutgoingEvent"],
  mapIncomingCommand: (options.mapIncomingCommand ?? (() => [])) as ExtensionPoint["mapIncomingCommand"],
  handleDirective: (options.handleDirective ?? ((directive: unknown) => {
    throw new Error(`extension point ${options.spec.name} has no directive handler for ${JSON.stringify(directive)}`)
  })) as ExtensionPoint["handleDirective"]
})
