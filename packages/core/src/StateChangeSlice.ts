/**
 * A state-change slice (DCB write side): one command handler whose consistency boundary is not an
 * aggregate but a query over the plugin's DCB log. It declares the events it produces and the
 * events it consumes (a subset of some slices' produced events, possibly with fewer fields); its
 * decision model is the fold of the consumed events that concern the command's entities.
 *
 * Entities are tags: every `*Id` field of a command or event is a tag `field:value`, every
 * `*Ids` array gives one tag per element with the key singularised (`productIds` → `productId`);
 * `tag(schema)` makes any other field a tag, `noTag(schema)` keeps an `*Id` field out.
 * The query for a command reads the consumed event types carrying each of its tags; the append
 * then holds only if nothing matching that query arrived since the read (DcbEventStore). An
 * Effect-form `decide` may also read read models through the QueryEngine; those reads are not
 * covered by the condition (read models trail the log), so a rule that must hold under concurrency
 * belongs in the consumed events.
 *
 * Commands route by partition: one field of the command (or several, joined by "/"), declared,
 * or inferred when the command has exactly one `*Id` field, because routing happens before any
 * event exists.
 *
 * @since 0.1.0
 */
import { Effect, Predicate, Result, Schema } from "effect"
import * as Decision_ from "./Decision.ts"
import * as Codec from "./internal/codec.ts"
import * as Shape from "./internal/schemaShape.ts"
import type * as DcbEventStore from "./DcbEventStore.ts"
import type { InfrastructureError } from "./Errors.ts"
import type { QueryEngine } from "./QueryEngine.ts"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId = "~@reventless/core/StateChangeSlice" as const

/**
 * What `decide` answers: the events to append, or a rejection (`Decision`, the same for every
 * decider).
 *
 * @since 0.1.0
 * @category models
 */
export type Decision<Event, Rejection> = Decision_.Decision<Event, Rejection>

/**
 * @since 0.1.0
 * @category models
 */
export interface StateChangeSlice<Name extends string, State, Command, Event, ConsumedEvent, Rejection> {
  readonly [TypeId]: typeof TypeId
  readonly kind: "StateChangeSlice"
  readonly name: Name
  readonly command: Schema.Codec<Command, unknown>
  readonly event: Schema.Codec<Event, unknown>
  readonly consumedEvent: Schema.Codec<ConsumedEvent, unknown>
  readonly rejection: Schema.Codec<Rejection, unknown>
  readonly initialState: State
  /** The command fields whose values, joined by "/", group commands (FIFO per value). */
  readonly partition: ReadonlyArray<string>
  /** Sync answers the sender with the outcome; async queues per partition and answers Pending. */
  readonly mode: "sync" | "async"
  evolve(state: State, event: ConsumedEvent): State
  decide(state: State, command: Command): Decision<Event, Rejection>
  /** The routing key of a command (see `partition`); undefined when a field is missing. */
  partitionOf(command: unknown): string | undefined
}

/**
 * Any slice, its types erased.
 *
 * @since 0.1.0
 * @category models
 */
export interface Any extends StateChangeSlice<string, unknown, unknown, unknown, unknown, unknown> {}

/**
 * @since 0.1.0
 * @category guards
 */
export const isStateChangeSlice = (u: unknown): u is Any => Predicate.hasProperty(u, TypeId)

/**
 * The property names of every member of a tagged-union (or struct) schema, by `_tag`.
 *
 * @since 0.1.0
 * @category introspection
 */
export const fieldsByType = (schema: { readonly ast: unknown }): ReadonlyMap<string, ReadonlyArray<string>> =>
  new Map([...Shape.describe(schema)].map(([type, member]) => [type, [...member.fields.keys()]]))

/**
 * The shape of a schema as stored (its encoded side), checks left out: `string`, `number`,
 * `"Express" | "Standard"`, `string[]`, `{ city: string; zip?: string }`. Two schemas with the
 * same shape read and write the same JSON; plugin validation compares fields by it.
 *
 * @since 0.1.0
 * @category introspection
 */
export const shapeOf: (schema: { readonly ast: unknown }) => string = Shape.shapeOf

/**
 * A field that is a tag, and the key its tags take: `orderId` → `orderId`, `productIds` → one
 * `productId` tag per element, a field marked with `tag` → its own name.
 *
 * @since 0.1.0
 * @category tags
 */
export interface TagField extends Shape.TagField {}

/**
 * Marks a field schema as a tag though its name does not end in `Id` / `Ids`: its values (each
 * element, for an array) become tags `field:value`.
 *
 * @since 0.1.0
 * @category tags
 */
export const tag = <S extends Schema.Top>(schema: S): S["Rebuild"] => Shape.markTag(schema, true)

/**
 * Marks an `*Id` / `*Ids` field schema as no tag: a reference the log is never queried by.
 *
 * @since 0.1.0
 * @category tags
 */
export const noTag = <S extends Schema.Top>(schema: S): S["Rebuild"] => Shape.markTag(schema, false)

/**
 * The shape (see `shapeOf`) of every field of every member of a tagged-struct union, by `_tag`.
 *
 * @since 0.1.0
 * @category introspection
 */
export const fieldShapesByType = (schema: { readonly ast: unknown }): ReadonlyMap<string, ReadonlyMap<string, string>> =>
  new Map([...Shape.describe(schema)].map(([type, member]) => [type, member.fields]))

/**
 * The tag fields of every member of a tagged-struct union, by `_tag`.
 *
 * @since 0.1.0
 * @category tags
 */
export const tagFieldsByType = (schema: { readonly ast: unknown }): ReadonlyMap<string, ReadonlyArray<TagField>> =>
  new Map([...Shape.describe(schema)].map(([type, member]) => [type, member.tags]))

/**
 * The tags of a command or event value, `key:value` for each tag field: as `schema` declares them
 * for the value's `_tag` (marks included), or by field names alone without a schema.
 *
 * @since 0.1.0
 * @category tags
 */
export const tagsOf: (value: unknown, schema?: { readonly ast: unknown }) => Array<string> = Shape.tagsOf

/**
 * The query a command's decision reads: for each of the command's tags, the consumed event types
 * that carry that tag's key (one OR-ed clause per tag). The partition plays no part here: it
 * routes commands, while the decision needs everything about each entity the command names.
 *
 * @since 0.1.0
 * @category queries
 */
export const queryFor = (slice: Any, command: unknown): DcbEventStore.Query => {
  const consumed = [...Shape.describe(slice.consumedEvent)]
  const clauses: Array<DcbEventStore.QueryItem> = []
  for (const tag of tagsOf(command, slice.command)) {
    const key = tag.slice(0, tag.indexOf(":"))
    const types = consumed.filter(([, member]) => member.tags.some((field) => field.key === key)).map(([type]) => type)
    if (types.length > 0) clauses.push({ types, tags: [tag] })
  }
  return clauses
}

/**
 * Builds a slice. `partition` names the command field(s) that route it; without it, the command's
 * only `*Id` field is used, and a command schema with several or none is an error here, at
 * definition time.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <const Name extends string, State, Command, Event, ConsumedEvent, Rejection>(options: {
  readonly name: Name
  readonly command: Schema.Codec<Command, unknown>
  readonly event: Schema.Codec<Event, unknown>
  readonly consumedEvent: Schema.Codec<ConsumedEvent, unknown>
  readonly rejection: Schema.Codec<Rejection, unknown>
  readonly initialState: State
  readonly evolve: (state: State, event: ConsumedEvent) => State
  readonly decide: (state: State, command: Command) => Decision<Event, Rejection>
  readonly partition?: string | ReadonlyArray<string> | undefined
  readonly mode?: "sync" | "async" | undefined
}): StateChangeSlice<Name, State, Command, Event, ConsumedEvent, Rejection> => {
  for (const [what, schema] of [["command", options.command], ["event", options.event], ["consumedEvent", options.consumedEvent]] as const) {
    if (fieldsByType(schema).size === 0) {
      throw new Error(`state-change slice ${options.name}: its ${what} schema must be TaggedStructs (or a union of them), whose fields give the tags`)
    }
  }
  const partition = options.partition === undefined
    ? inferPartition(options.name, options.command)
    : typeof options.partition === "string"
    ? [options.partition]
    : options.partition
  return {
    [TypeId]: TypeId,
    kind: "StateChangeSlice",
    name: options.name,
    command: options.command,
    event: options.event,
    consumedEvent: options.consumedEvent,
    rejection: options.rejection,
    initialState: options.initialState,
    partition,
    mode: options.mode ?? "sync",
    evolve: options.evolve,
    decide: options.decide,
    partitionOf: (command) => {
      if (typeof command !== "object" || command === null) return undefined
      const values = partition.map((field) => (command as Record<string, unknown>)[field])
      return values.every((value) => typeof value === "string" || typeof value === "number") ? values.join("/") : undefined
    }
  }
}

/**
 * A decision model several slices share: the events they consume, the state those fold into and
 * how. `make` builds a slice over it from the rest (name, command, event, rejection, decide, and
 * partition or mode when needed), so a family of slices over the same entities (a product's add,
 * rename, reprice and withdraw) states its model once.
 *
 * @since 0.1.0
 * @category models
 */
export interface DecisionModel<State, ConsumedEvent> {
  readonly consumedEvent: Schema.Codec<ConsumedEvent, unknown>
  readonly initialState: State
  readonly evolve: (state: State, event: ConsumedEvent) => State
  readonly make: <const Name extends string, Command, Event, Rejection>(options: {
    readonly name: Name
    readonly command: Schema.Codec<Command, unknown>
    readonly event: Schema.Codec<Event, unknown>
    readonly rejection: Schema.Codec<Rejection, unknown>
    readonly decide: (state: State, command: Command) => Decision<Event, Rejection>
    readonly partition?: string | ReadonlyArray<string> | undefined
    readonly mode?: "sync" | "async" | undefined
  }) => StateChangeSlice<Name, State, Command, Event, ConsumedEvent, Rejection>
}

/**
 * States a decision model once for the slices that share it (see `DecisionModel`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const decisionModel = <State, ConsumedEvent>(model: {
  readonly consumedEvent: Schema.Codec<ConsumedEvent, unknown>
  readonly initialState: State
  readonly evolve: (state: State, event: ConsumedEvent) => State
}): DecisionModel<State, ConsumedEvent> => ({
  ...model,
  make: (options) => make({ ...options, consumedEvent: model.consumedEvent, initialState: model.initialState, evolve: model.evolve })
})

/** The one `*Id` field every command variant shares, or a definition error. */
const inferPartition = (name: string, command: { readonly ast: unknown }): ReadonlyArray<string> => {
  const variants = [...fieldsByType(command).values()]
  const ids = variants.map((fields) => fields.filter((field) => field.endsWith("Id")))
  const shared = ids[0]?.filter((field) => ids.every((fields) => fields.includes(field))) ?? []
  if (shared.length !== 1) {
    throw new Error(
      `state-change slice ${name}: cannot infer the partition (its commands share ${shared.length === 0 ? "no" : "several"} *Id fields: ${shared.join(", ")}); declare \`partition\``
    )
  }
  return shared
}

/**
 * A slice's schemas compiled into decoders and encoders, once per slice.
 *
 * @since 0.1.0
 * @category models
 */
export interface Codecs<Command, Event, ConsumedEvent, Rejection> {
  readonly decodeCommand: (input: unknown) => Result.Result<Command, Schema.SchemaError>
  readonly encodeCommand: (command: Command) => Result.Result<unknown, Schema.SchemaError>
  readonly encodeEvent: (event: Event) => Result.Result<unknown, Schema.SchemaError>
  readonly decodeEvent: (data: unknown) => Result.Result<Event, Schema.SchemaError>
  readonly decodeConsumed: (data: unknown) => Result.Result<ConsumedEvent, Schema.SchemaError>
  readonly encodeRejection: (error: Rejection) => Result.Result<unknown, Schema.SchemaError>
  readonly decodeRejection: (error: unknown) => Result.Result<Rejection, Schema.SchemaError>
}

const compiled = new WeakMap<object, Codecs<any, any, any, any>>()

/**
 * The compiled codecs of a slice (built on first use and kept).
 *
 * @since 0.1.0
 * @category accessors
 */
export const codecs = <Command, Event, ConsumedEvent, Rejection>(
  slice: StateChangeSlice<string, unknown, Command, Event, ConsumedEvent, Rejection>
): Codecs<Command, Event, ConsumedEvent, Rejection> => {
  let found = compiled.get(slice)
  if (found === undefined) {
    const [command, event, rejection] = [Codec.of(slice.command), Codec.of(slice.event), Codec.of(slice.rejection)]
    found = {
      decodeCommand: command.decode,
      encodeCommand: command.encode,
      encodeEvent: event.encode,
      decodeEvent: event.decode,
      decodeConsumed: Codec.of(slice.consumedEvent).decode,
      encodeRejection: rejection.encode,
      decodeRejection: rejection.decode
    }
    compiled.set(slice, found)
  }
  return found
}

/**
 * A stored event of a consumed type that does not decode as the slice declares it: the producer
 * and the consumer disagree, and deciding without it would be deciding on a wrong state.
 *
 * @since 0.1.0
 * @category errors
 */
export class UndecodableEvent extends Schema.TaggedError<UndecodableEvent>()("UndecodableEvent", {
  slice: Schema.String,
  type: Schema.String,
  position: Schema.Int,
  detail: Schema.String
}) {
  override get message(): string {
    return `${this.slice} cannot read its ${this.type} event at position ${this.position}: ${this.detail}`
  }
}

/**
 * Folds the stored events a decision may see (read with `queryFor`) into the state, in position
 * order: events of types the slice does not consume are skipped; one of a consumed type that does
 * not decode fails the fold.
 *
 * @since 0.1.0
 * @category combinators
 */
export const fold = <State, ConsumedEvent>(
  slice: StateChangeSlice<string, State, unknown, unknown, ConsumedEvent, unknown>,
  events: Iterable<{ readonly type: string; readonly data: unknown; readonly position?: number | undefined }>,
  from: State = slice.initialState
): Result.Result<State, UndecodableEvent> => {
  const { decodeConsumed } = codecs(slice)
  const consumed = fieldsByType(slice.consumedEvent)
  let state = from
  for (const event of events) {
    if (!consumed.has(event.type)) continue
    const decoded = decodeConsumed(event.data)
    if (Result.isFailure(decoded)) {
      return Result.fail(new UndecodableEvent({ slice: slice.name, type: event.type, position: event.position ?? 0, detail: decoded.failure.message }))
    }
    state = slice.evolve(state, decoded.success)
  }
  return Result.succeed(state)
}

/**
 * Runs `decide` and always returns an Effect, whichever form the behavior used.
 *
 * @since 0.1.0
 * @category combinators
 */
export const decideEffect = <State, Command, Event, Rejection>(
  slice: StateChangeSlice<string, State, Command, Event, unknown, Rejection>,
  state: State,
  command: Command
): Effect.Effect<ReadonlyArray<Event>, Rejection | InfrastructureError, QueryEngine> =>
  Decision_.toEffect(slice.decide(state, command))
