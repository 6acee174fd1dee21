/**
 * An inbound translation slice: the door for input from outside (a supplier feed, a webhook, the
 * CLI now, HTTP later). `translate` turns one decoded input into commands for a target aggregate
 * or state-change slice, or refuses it with a reason. Every request is recorded in the plugin's
 * log (stream `<Plugin>.<Slice>` / request id: `Translated` with its commands, or `Refused`)
 * before its commands go out, so the audit trail is the log itself: a repeated request id gets the
 * recorded answer (its recorded commands published again, deduplicated by message id), and is
 * never translated twice.
 *
 * @since 0.1.0
 */
import { Predicate, type Result, Schema } from "effect"
import type * as Aggregate from "./Aggregate.ts"
import { CommandMessage } from "./Message.ts"
import type * as StateChangeSlice from "./StateChangeSlice.ts"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId = "~@reventless/core/InboundTranslationSlice" as const

/**
 * A command for the target: an aggregate needs the instance id; a slice routes by its command.
 *
 * @since 0.1.0
 * @category models
 */
export interface Translated<Command> {
  readonly id?: string | undefined
  readonly command: Command
}

/**
 * @since 0.1.0
 * @category models
 */
export interface InboundTranslationSlice<Name extends string, Input, Command> {
  readonly [TypeId]: typeof TypeId
  readonly name: Name
  readonly input: Schema.Codec<Input, unknown>
  readonly target: Aggregate.Any | StateChangeSlice.Any
  /** The external system it listens to, for the audit trail. */
  readonly externalSystem: string | undefined
  translate(input: Input): Result.Result<ReadonlyArray<Translated<Command>>, string>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Any extends InboundTranslationSlice<string, unknown, unknown> {}

/**
 * @since 0.1.0
 * @category guards
 */
export const isInboundTranslationSlice = (u: unknown): u is Any => Predicate.hasProperty(u, TypeId)

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = <const Name extends string, Input, Command>(options: {
  readonly name: Name
  readonly input: Schema.Codec<Input, unknown>
  readonly target:
    | Aggregate.Aggregate<string, unknown, Command, unknown, unknown>
    | StateChangeSlice.StateChangeSlice<string, unknown, Command, unknown, unknown, unknown>
  readonly translate: (input: Input) => Result.Result<ReadonlyArray<Translated<Command>>, string>
  readonly externalSystem?: string | undefined
}): InboundTranslationSlice<Name, Input, Command> => ({
  [TypeId]: TypeId,
  name: options.name,
  input: options.input,
  target: options.target as Aggregate.Any | StateChangeSlice.Any,
  externalSystem: options.externalSystem,
  translate: options.translate
})

/**
 * The audit events of a translation slice, in its own stream of the plugin's log.
 *
 * @since 0.1.0
 * @category models
 */
export const Audit = Schema.Union([
  Schema.TaggedStruct("Translated", {
    targetIds: Schema.Array(Schema.String),
    commandCount: Schema.Int,
    /** The commands, as published: a repeated request publishes these again (no second translation). */
    commands: Schema.Array(CommandMessage)
  }),
  Schema.TaggedStruct("Refused", { reason: Schema.String })
])

/**
 * @since 0.1.0
 * @category models
 */
export type Audit = typeof Audit.Type

/**
 * What `Runtime.receive` answers for a request: its id (the caller's, or a new one), the instances
 * its commands went to, and how many commands it turned into. A repeated request id gets the
 * recorded answer.
 *
 * @since 0.1.0
 * @category models
 */
export interface Receipt {
  readonly requestId: string
  readonly targetIds: ReadonlyArray<string>
  readonly commandCount: number
}
