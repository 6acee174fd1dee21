/**
 * The envelope every command travels in, and the metadata every event inherits from it.
 *
 * A command is addressed by component name plus id (as in the seed's `publishToAggregates`), carries
 * its payload encoded (JSON-safe), and a `meta` block: who sent it, when, the message id used for
 * deduplication, and the correlation / causation chain with a W3C `traceparent`.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { createHash } from "node:crypto"
import * as MsgIds from "./internal/msgIds.ts"

/**
 * Message metadata, as in the seed's `Message.meta`, plus causation and trace context.
 *
 * @since 0.1.0
 * @category models
 */
export const Meta = Schema.Struct({
  service: Schema.String,
  time: Schema.String,
  ip: Schema.String,
  user: Schema.String,
  msgId: Schema.String,
  correlationId: Schema.String,
  causationId: Schema.optionalKey(Schema.String),
  traceparent: Schema.optionalKey(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Meta = typeof Meta.Type

/**
 * A command on its way to a component: `component` is the qualified name (`Catalog.Product`),
 * `id` the target instance, `command` the encoded payload.
 *
 * @since 0.1.0
 * @category models
 */
export const CommandMessage = Schema.Struct({
  component: Schema.String,
  id: Schema.String,
  msgId: Schema.String,
  meta: Meta,
  command: Schema.Unknown
})

/**
 * @since 0.1.0
 * @category models
 */
export type CommandMessage = typeof CommandMessage.Type

/**
 * The key that orders commands: one at a time, in arrival order, per key.
 *
 * @since 0.1.0
 * @category accessors
 */
export const partitionKey = (message: Pick<CommandMessage, "component" | "id">): string =>
  `${message.component}/${message.id}`

/**
 * Options a caller may set on a command's metadata; everything else gets a default.
 *
 * @since 0.1.0
 * @category models
 */
export interface MetaInput {
  readonly msgId?: string | undefined
  readonly user?: string | undefined
  readonly service?: string | undefined
  readonly ip?: string | undefined
  readonly correlationId?: string | undefined
  readonly causationId?: string | undefined
  readonly traceparent?: string | undefined
}

/**
 * A new unique message id: 96 random bits drawn once per process, then a counter. As unique as a
 * random UUID across processes, and several times cheaper to make and to use as a map key (the
 * command path makes one per command).
 *
 * @since 0.1.0
 * @category constructors
 */
export const newMsgId: () => string = MsgIds.next

let lastMillis = Number.NaN
let lastIso = ""

/**
 * `Date#toISOString`, reusing the last string within the same millisecond.
 *
 * @since 0.1.0
 * @category utils
 */
export const isoTime = (millis: number): string => {
  if (millis !== lastMillis) {
    lastMillis = millis
    lastIso = new Date(millis).toISOString()
  }
  return lastIso
}

/**
 * Builds metadata for a new command. Without a `msgId` a new one is made (`newMsgId`); the
 * correlation id defaults to the message id (the start of a new conversation).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMeta = (input: MetaInput, time: string): Meta => {
  const msgId = input.msgId ?? newMsgId()
  const meta: {
    -readonly [K in keyof Meta]: Meta[K]
  } = {
    service: input.service ?? "client",
    time,
    ip: input.ip ?? "",
    user: input.user ?? "anonymous",
    msgId,
    correlationId: input.correlationId ?? msgId
  }
  if (input.causationId !== undefined) meta.causationId = input.causationId
  if (input.traceparent !== undefined) meta.traceparent = input.traceparent
  return meta
}

/**
 * Metadata for a command derived from an event (a mapping, a task, a schedule): same
 * correlation, caused by the source message, attributed to the deriving consumer.
 *
 * @since 0.1.0
 * @category constructors
 */
export const derivedMeta = (parent: Meta, options: { readonly msgId: string; readonly service: string; readonly causationId: string; readonly time: string }): Meta => {
  const meta: {
    -readonly [K in keyof Meta]: Meta[K]
  } = {
    service: options.service,
    time: options.time,
    ip: parent.ip,
    user: parent.user,
    msgId: options.msgId,
    correlationId: parent.correlationId,
    causationId: options.causationId
  }
  if (parent.traceparent !== undefined) meta.traceparent = parent.traceparent
  return meta
}

/**
 * A deterministic message id for a command derived from an event: the same source event, consumer
 * and action index always give the same id (guarantee 7), so a redelivered event never produces
 * a second command.
 *
 * @since 0.1.0
 * @category constructors
 */
export const derivedMsgId = (sourceEventId: string, consumer: string, index: number | string): string =>
  stableId(`${sourceEventId}|${consumer}|${index}`)

/**
 * A short, stable id for any string (SHA-256, base64url, 22 characters).
 *
 * @since 0.1.0
 * @category constructors
 */
export const stableId = (input: string): string =>
  createHash("sha256").update(input).digest("base64url").slice(0, 22)
