/**
 * The outcome of a command, stored by message id beside the log (guarantee 1): a redelivered
 * command appends nothing and gets the first outcome back. `Failed` is not stored as final: it
 * tells a waiting sender that the command went to the dead letters, from where it can be replayed.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { Envelope } from "./Event.ts"

/**
 * The component accepted the command and appended these events (none for an idempotent repeat).
 *
 * @since 0.1.0
 * @category models
 */
export const Accepted = Schema.TaggedStruct("Accepted", {
  msgId: Schema.String,
  component: Schema.String,
  id: Schema.String,
  events: Schema.Array(Envelope)
})

/**
 * The component rejected the command with this encoded domain error.
 *
 * @since 0.1.0
 * @category models
 */
export const Rejected = Schema.TaggedStruct("Rejected", {
  msgId: Schema.String,
  component: Schema.String,
  id: Schema.String,
  error: Schema.Unknown,
  /** Who sent the command: a repeated msgId gets this outcome only from the same user. */
  user: Schema.optionalKey(Schema.String)
})

/**
 * Processing failed after its retries; the command is parked.
 *
 * @since 0.1.0
 * @category models
 */
export const Failed = Schema.TaggedStruct("Failed", {
  msgId: Schema.String,
  component: Schema.String,
  id: Schema.String,
  reason: Schema.String,
  /** Who sent the command: a repeated msgId gets this outcome only from the same user. */
  user: Schema.optionalKey(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export const Outcome = Schema.Union([Accepted, Rejected, Failed])

/**
 * @since 0.1.0
 * @category models
 */
export type Outcome = typeof Outcome.Type

/**
 * @since 0.1.0
 * @category models
 */
export type Final = Exclude<Outcome, { readonly _tag: "Failed" }>
