/**
 * An automation slice (Event Modeling's TODO-list pattern): `collect` turns source events into
 * TODO items, `resolve` marks an item done when an event says so, and every `heartbeatInterval`
 * seconds a sweep sends `process`'s command for each pending item to the target. A command's
 * outcome settles its item: accepted → done, rejected → rejected for good; a failure is retried
 * under the same message id up to `maxRetries`, then `onExhausted` may send a last command and the
 * item is abandoned (listed with the dead letters).
 *
 * @since 0.1.0
 */
import { Predicate, type Schema } from "effect"
import type * as Aggregate from "./Aggregate.ts"
import type * as DcbEventLog from "./DcbEventLog.ts"
import type { Translated } from "./InboundTranslationSlice.ts"
import type { Meta } from "./Message.ts"
import type * as StateChangeSlice from "./StateChangeSlice.ts"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId = "~@reventless/core/AutomationSlice" as const

/**
 * @since 0.1.0
 * @category models
 */
export interface SourceInput<Event> {
  readonly event: Event
  readonly id: string
  readonly meta: Meta
}

/**
 * @since 0.1.0
 * @category models
 */
export interface AutomationSlice<Name extends string, Item, Command> {
  readonly [TypeId]: typeof TypeId
  readonly name: Name
  readonly todoItem: Schema.Codec<Item, unknown>
  readonly source: Aggregate.Any | DcbEventLog.Source<unknown>
  readonly target: Aggregate.Any | StateChangeSlice.Any
  readonly maxRetries: number
  /** Seconds between sweeps of the pending items. */
  readonly heartbeatInterval: number
  collect(input: SourceInput<unknown>): ReadonlyArray<readonly [string, Item]>
  resolve(input: SourceInput<unknown>): string | undefined
  process(id: string, item: Item): Translated<Command> | undefined
  onExhausted(id: string, item: Item, lastError: string): Translated<Command> | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Any extends AutomationSlice<string, unknown, unknown> {}

/**
 * @since 0.1.0
 * @category guards
 */
export const isAutomationSlice = (u: unknown): u is Any => Predicate.hasProperty(u, TypeId)

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = <const Name extends string, Item, Event, Command>(options: {
  readonly name: Name
  readonly todoItem: Schema.Codec<Item, unknown>
  readonly source: Aggregate.Aggregate<string, unknown, unknown, Event, unknown> | DcbEventLog.Source<Event>
  readonly target:
    | Aggregate.Aggregate<string, unknown, Command, unknown, unknown>
    | StateChangeSlice.StateChangeSlice<string, unknown, Command, unknown, unknown, unknown>
  readonly collect: (input: SourceInput<Event>) => ReadonlyArray<readonly [string, Item]>
  readonly resolve?: ((input: SourceInput<Event>) => string | undefined) | undefined
  readonly process: (id: string, item: Item) => Translated<Command> | undefined
  readonly onExhausted?: ((id: string, item: Item, lastError: string) => Translated<Command> | undefined) | undefined
  readonly maxRetries?: number | undefined
  readonly heartbeatInterval?: number | undefined
}): AutomationSlice<Name, Item, Command> => ({
  [TypeId]: TypeId,
  name: options.name,
  todoItem: options.todoItem,
  source: options.source as Aggregate.Any | DcbEventLog.Source<unknown>,
  target: options.target as Aggregate.Any | StateChangeSlice.Any,
  maxRetries: options.maxRetries ?? 3,
  heartbeatInterval: options.heartbeatInterval ?? 60,
  collect: options.collect as AutomationSlice<Name, Item, Command>["collect"],
  resolve: (options.resolve ?? (() => undefined)) as AutomationSlice<Name, Item, Command>["resolve"],
  process: options.process,
  onExhausted: options.onExhausted ?? (() => undefined)
})
