/**
 * An outbound translation slice: the door to the outside (an email provider, a carrier, a
 * partner's API). `collect` turns consumed events into items of a durable TODO list; every
 * `heartbeatInterval` seconds each pending item is handed to `translate`, an Effect over the
 * services it needs (its capabilities, plus the QueryEngine to read the plugin's views), which may
 * answer with a command back into the plugin.
 * A failing translate is retried up to `maxRetries`, then `onExhausted` may send a last command
 * and the item is abandoned (listed with the dead letters). It replaces fire-and-forget side
 * effects where the outside call must be tracked.
 *
 * @since 0.1.0
 */
import { type Effect, Predicate, type Schema } from "effect"
import type * as Aggregate from "./Aggregate.ts"
import type { SourceInput } from "./AutomationSlice.ts"
import type * as DcbEventLog from "./DcbEventLog.ts"
import type { Translated } from "./InboundTranslationSlice.ts"
import type { QueryEngine } from "./QueryEngine.ts"
import type * as StateChangeSlice from "./StateChangeSlice.ts"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId = "~@reventless/core/OutboundTranslationSlice" as const

/**
 * @since 0.1.0
 * @category models
 */
export interface OutboundTranslationSlice<R> {
  readonly [TypeId]: typeof TypeId
  readonly name: string
  readonly outboundItem: Schema.Codec<unknown, unknown>
  readonly source: Aggregate.Any | DcbEventLog.Source<unknown>
  /** Where commands answering the outside go; none for fire-and-forget. */
  readonly target: Aggregate.Any | StateChangeSlice.Any | undefined
  readonly externalSystem: string | undefined
  readonly maxRetries: number
  readonly heartbeatInterval: number
  collect(input: SourceInput<unknown>): ReadonlyArray<readonly [string, unknown]>
  translate(id: string, item: unknown): Effect.Effect<Translated<unknown> | undefined, unknown, R | QueryEngine>
  onExhausted(id: string, item: unknown, lastError: string): Translated<unknown> | undefined
}

/**
 * @since 0.1.0
 * @category guards
 */
export const isOutboundTranslationSlice = (u: unknown): u is OutboundTranslationSlice<unknown> => Predicate.hasProperty(u, TypeId)

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = <Item, Event, Command, E, R>(options: {
  readonly name: string
  readonly outboundItem: Schema.Codec<Item, unknown>
  readonly source: Aggregate.Aggregate<string, unknown, unknown, Event, unknown> | DcbEventLog.Source<Event>
  readonly target?:
    | Aggregate.Aggregate<string, unknown, Command, unknown, unknown>
    | StateChangeSlice.StateChangeSlice<string, unknown, Command, unknown, unknown, unknown>
    | undefined
  readonly collect: (input: SourceInput<Event>) => ReadonlyArray<readonly [string, Item]>
  readonly translate: (id: string, item: Item) => Effect.Effect<Translated<Command> | undefined, E, R>
  readonly onExhausted?: ((id: string, item: Item, lastError: string) => Translated<Command> | undefined) | undefined
  readonly externalSystem?: string | undefined
  readonly maxRetries?: number | undefined
  readonly heartbeatInterval?: number | undefined
}): OutboundTranslationSlice<Exclude<R, QueryEngine>> => ({
  [TypeId]: TypeId,
  name: options.name,
  outboundItem: options.outboundItem as Schema.Codec<unknown, unknown>,
  source: options.source as Aggregate.Any | DcbEventLog.Source<unknown>,
  target: options.target as Aggregate.Any | StateChangeSlice.Any | undefined,
  externalSystem: options.externalSystem,
  maxRetries: options.maxRetries ?? 3,
  heartbeatInterval: options.heartbeatInterval ?? 60,
  collect: options.collect as OutboundTranslationSlice<Exclude<R, QueryEngine>>["collect"],
  translate: options.translate as OutboundTranslationSlice<Exclude<R, QueryEngine>>["translate"],
  onExhausted: (options.onExhausted ?? (() => undefined)) as OutboundTranslationSlice<Exclude<R, QueryEngine>>["onExhausted"]
})
