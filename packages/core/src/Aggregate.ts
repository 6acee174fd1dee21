/**
 * An aggregate: an entity-scoped event stream with sequential command processing. Its spec is a
 * set of schemas (id, commands, events, rejections, state); its behavior is `initialState`,
 * `evolve` and `decide`, as in the seed's `<Name>_Behavior.res`.
 *
 * `decide` is pure and returns a `Result` (events or a rejection); an already-applied command
 * returns no events. Where a decision needs other data it may return an Effect that reads
 * through the `QueryEngine`.
 *
 * @since 0.1.0
 */
import { Effect, Predicate, Result, Schema } from "effect"
import * as Decision_ from "./Decision.ts"
import * as Codec from "./internal/codec.ts"
import type { Upcaster } from "./Event.ts"
import type { InfrastructureError } from "./Errors.ts"
import type { QueryEngine } from "./QueryEngine.ts"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId = "~@reventless/core/Aggregate" as const

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * What `decide` answers: the events to append, or a rejection (`Decision`, the same for every
 * decider).
 *
 * @since 0.1.0
 * @category models
 */
export type Decision<Event, Rejection> = Decision_.Decision<Event, Rejection>

/**
 * What `decide` knows besides state and command: the instance id and the command's metadata.
 *
 * @since 0.1.0
 * @category models
 */
export interface DecideContext {
  readonly id: string
  readonly user: string
  readonly time: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Aggregate<Name extends string, State, Command, Event, Rejection> {
  readonly [TypeId]: TypeId
  readonly name: Name
  readonly id: Schema.Codec<string, string>
  readonly command: Schema.Codec<Command, unknown>
  readonly event: Schema.Codec<Event, unknown>
  readonly rejection: Schema.Codec<Rejection, unknown>
  readonly state: Schema.Codec<State, unknown>
  readonly initialState: State
  /** Written as methods so a concrete aggregate is assignable to `Aggregate.Any`. */
  evolve(state: State, event: Event): State
  decide(state: State, command: Command, context: DecideContext): Decision<Event, Rejection>
  /** Schema version written with new events, and how to read older ones. */
  readonly eventVersion: number
  readonly upcast: Upcaster
  /** Store a snapshot of the state every this many events (0 turns snapshots off). */
  readonly snapshotEvery: number
}

/**
 * Any aggregate, its types erased: what a plugin holds and the runtime works with.
 *
 * @since 0.1.0
 * @category models
 */
export interface Any extends Aggregate<string, unknown, unknown, unknown, unknown> {}

/**
 * @since 0.1.0
 * @category type-level
 */
export declare namespace Aggregate {
  /** The command type of an aggregate. */
  export type Command<A> = A extends Aggregate<string, unknown, infer C, unknown, unknown> ? C : never
  /** The event type of an aggregate. */
  export type Event<A> = A extends Aggregate<string, unknown, unknown, infer E, unknown> ? E : never
  /** The rejection type of an aggregate. */
  export type Rejection<A> = A extends Aggregate<string, unknown, unknown, unknown, infer R> ? R : never
  /** The state type of an aggregate. */
  export type State<A> = A extends Aggregate<string, infer S, unknown, unknown, unknown> ? S : never
}

/**
 * @since 0.1.0
 * @category guards
 */
export const isAggregate = (u: unknown): u is Any => Predicate.hasProperty(u, TypeId)

/**
 * Options of {@link make}: the spec (schemas) and the behavior.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<Name extends string, State, Command, Event, Rejection> {
  readonly name: Name
  readonly id?: Schema.Codec<string, string> | undefined
  readonly command: Schema.Codec<Command, unknown>
  readonly event: Schema.Codec<Event, unknown>
  readonly rejection: Schema.Codec<Rejection, unknown>
  readonly state: Schema.Codec<State, unknown>
  readonly initialState: State
  readonly evolve: (state: State, event: Event) => State
  readonly decide: (state: State, command: Command, context: DecideContext) => Decision<Event, Rejection>
  readonly eventVersion?: number | undefined
  readonly upcast?: Upcaster | undefined
  readonly snapshotEvery?: number | undefined
}

/**
 * Builds an aggregate descriptor.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <const Name extends string, State, Command, Event, Rejection>(
  options: Options<Name, State, Command, Event, Rejection>
): Aggregate<Name, State, Command, Event, Rejection> => ({
  [TypeId]: TypeId,
  name: options.name,
  id: options.id ?? Schema.NonEmptyString,
  command: options.command,
  event: options.event,
  rejection: options.rejection,
  state: options.state,
  initialState: options.initialState,
  evolve: options.evolve,
  decide: options.decide,
  eventVersion: options.eventVersion ?? 1,
  upcast: options.upcast ?? ((event) => event.data),
  snapshotEvery: options.snapshotEvery ?? 100
})

/**
 * An aggregate's schemas compiled into decoders and encoders, once per aggregate.
 *
 * @since 0.1.0
 * @category models
 */
export interface Codecs<State, Command, Event, Rejection> {
  readonly decodeId: (input: unknown) => Result.Result<string, Schema.SchemaError>
  readonly decodeCommand: (input: unknown) => Result.Result<Command, Schema.SchemaError>
  readonly encodeCommand: (command: Command) => Result.Result<unknown, Schema.SchemaError>
  readonly decodeEvent: (data: unknown) => Result.Result<Event, Schema.SchemaError>
  readonly encodeEvent: (event: Event) => Result.Result<unknown, Schema.SchemaError>
  readonly decodeRejection: (error: unknown) => Result.Result<Rejection, Schema.SchemaError>
  readonly encodeRejection: (error: Rejection) => Result.Result<unknown, Schema.SchemaError>
  readonly decodeState: (state: unknown) => Result.Result<State, Schema.SchemaError>
  readonly encodeState: (state: State) => Result.Result<unknown, Schema.SchemaError>
}

const compiled = new WeakMap<object, Codecs<any, any, any, any>>()

/**
 * The compiled codecs of an aggregate (built on first use and kept: compiling a schema costs far
 * more than running it).
 *
 * @since 0.1.0
 * @category accessors
 */
export const codecs = <State, Command, Event, Rejection>(
  aggregate: Aggregate<string, State, Command, Event, Rejection>
): Codecs<State, Command, Event, Rejection> => {
  let found = compiled.get(aggregate)
  if (found === undefined) {
    const [command, event, rejection, state] = [Codec.of(aggregate.command), Codec.of(aggregate.event), Codec.of(aggregate.rejection), Codec.of(aggregate.state)]
    found = {
      decodeId: Codec.of(aggregate.id).decode,
      decodeCommand: command.decode,
      encodeCommand: command.encode,
      decodeEvent: event.decode,
      encodeEvent: event.encode,
      decodeRejection: rejection.decode,
      encodeRejection: rejection.encode,
      decodeState: state.decode,
      encodeState: state.encode
    }
    compiled.set(aggregate, found)
  }
  return found
}

/**
 * Folds events over a state.
 *
 * @since 0.1.0
 * @category combinators
 */
export const fold = <State, Event>(
  aggregate: Aggregate<string, State, unknown, Event, unknown>,
  events: Iterable<Event>,
  from: State = aggregate.initialState
): State => {
  let state = from
  for (const event of events) state = aggregate.evolve(state, event)
  return state
}

/**
 * Runs `decide` and always returns an Effect, whichever form the behavior used.
 *
 * @since 0.1.0
 * @category combinators
 */
export const decideEffect = <State, Command, Event, Rejection>(
  aggregate: Aggregate<string, State, Command, Event, Rejection>,
  state: State,
  command: Command,
  context: DecideContext
): Effect.Effect<ReadonlyArray<Event>, Rejection | InfrastructureError, QueryEngine> =>
  Decision_.toEffect(aggregate.decide(state, command, context))
