/**
 * The errors a running platform reports to its callers. Bad input (guarantee 8) gets one of
 * `InvalidJson`, `UnknownComponent`, `InvalidCommand`, `InvalidInput`: each names what was wrong and where, and
 * nothing is written. A business rejection is an outcome (`CommandRejected`), never retried; an
 * infrastructure failure that outlived its retries is `CommandFailed` and sits in the dead letters.
 *
 * @since 0.1.0
 */
import { Effect, Predicate, Schedule, Schema } from "effect"

/**
 * The text given as JSON is not JSON.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidJson extends Schema.TaggedError<InvalidJson>()("InvalidJson", {
  where: Schema.String,
  input: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `${this.where}: not valid JSON (${this.detail}): ${this.input}`
  }
}

/**
 * No component (aggregate, read model, bucket, ...) of that kind has that name.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownComponent extends Schema.TaggedError<UnknownComponent>()("UnknownComponent", {
  kind: Schema.String,
  name: Schema.String,
  known: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `unknown ${this.kind} "${this.name}"; known: ${this.known.length === 0 ? "(none)" : this.known.join(", ")}`
  }
}

/**
 * A payload that does not decode against the component's schema. `path` points at the field.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidCommand extends Schema.TaggedError<InvalidCommand>()("InvalidCommand", {
  component: Schema.String,
  id: Schema.String,
  path: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `invalid command for ${this.component} "${this.id}" at ${this.path}: ${this.detail}`
  }
}

/**
 * A value the stores could not keep, or could keep only at a cost to everyone else: a NUL
 * character or a lone UTF-16 surrogate in a string, an id or msgId past its length limit, a
 * payload past its size limit, JSON nested past its depth limit (see `Limits`). Refused at the
 * edge, before anything is sent or written. `path` points at the value (`id`, `meta.user`,
 * `command.lines[2].sku`).
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidInput extends Schema.TaggedError<InvalidInput>()("InvalidInput", {
  where: Schema.String,
  path: Schema.String,
  problem: Schema.Literals(["NulCharacter", "LoneSurrogate", "TooLong", "TooLarge", "TooDeep"]),
  detail: Schema.String
}) {
  override get message(): string {
    return `${this.where} at ${this.path}: ${this.detail}`
  }
}

/**
 * An inbound translation slice refused a request (recorded in its audit stream).
 *
 * @since 0.1.0
 * @category errors
 */
export class TranslationRefused extends Schema.TaggedError<TranslationRefused>()("TranslationRefused", {
  component: Schema.String,
  requestId: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.component} refused request ${this.requestId}: ${this.reason}`
  }
}

/**
 * The component decided against the command. `error` is the encoded domain error; typed callers
 * get the decoded error instead of this wrapper.
 *
 * @since 0.1.0
 * @category errors
 */
export class CommandRejected extends Schema.TaggedError<CommandRejected>()("CommandRejected", {
  component: Schema.String,
  id: Schema.String,
  msgId: Schema.String,
  error: Schema.Unknown
}) {
  override get message(): string {
    return `${this.component} "${this.id}" rejected the command: ${JSON.stringify(this.error)}`
  }
}

/**
 * Processing failed for a reason other than a business rule and kept failing through its
 * retries; the command is parked in the dead letters with this reason.
 *
 * @since 0.1.0
 * @category errors
 */
export class CommandFailed extends Schema.TaggedError<CommandFailed>()("CommandFailed", {
  component: Schema.String,
  id: Schema.String,
  msgId: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.component} "${this.id}": command ${this.msgId} failed: ${this.reason}`
  }
}

/**
 * The msgId was used already, for another command (another component, instance or user): the
 * command is refused and nothing about the other one is revealed. Send it with a fresh msgId.
 *
 * @since 0.1.0
 * @category errors
 */
export class MsgIdInUse extends Schema.TaggedError<MsgIdInUse>()("MsgIdInUse", {
  msgId: Schema.String,
  component: Schema.String,
  id: Schema.String
}) {
  override get message(): string {
    return `msgId "${this.msgId}" was already used for another command; send the command for ${this.component} "${this.id}" with a fresh msgId`
  }
}

/**
 * The authorization hook refused a command or a query.
 *
 * @since 0.1.0
 * @category errors
 */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", {
  user: Schema.String,
  action: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.user} may not ${this.action}: ${this.reason}`
  }
}

/**
 * An infrastructure failure (store, queue, blob storage). `retryable` tells whether trying again
 * may help.
 *
 * @since 0.1.0
 * @category errors
 */
export class InfrastructureError extends Schema.TaggedError<InfrastructureError>()("InfrastructureError", {
  service: Schema.String,
  operation: Schema.String,
  detail: Schema.String,
  retryable: Schema.Boolean
}) {
  override get message(): string {
    return `${this.service}.${this.operation} failed${this.retryable ? " (retryable)" : ""}: ${this.detail}`
  }
}

/**
 * A write under a lease that is no longer the writer's: another owner took it (a newer epoch), so
 * nothing was written. The work stops; its new owner carries on from the durable checkpoint.
 *
 * @since 0.1.0
 * @category errors
 */
export class LeaseLost extends Schema.TaggedError<LeaseLost>()("LeaseLost", {
  name: Schema.String,
  owner: Schema.String,
  epoch: Schema.Number
}) {
  override get message(): string {
    return `the lease on ${this.name} (epoch ${this.epoch}) is no longer held by ${this.owner}: nothing was written`
  }
}

/**
 * Another process rebuilds that read model now (it holds the rebuild's lease).
 *
 * @since 0.1.0
 * @category errors
 */
export class RebuildRunning extends Schema.TaggedError<RebuildRunning>()("RebuildRunning", {
  readModel: Schema.String,
  holder: Schema.String
}) {
  override get message(): string {
    return `${this.readModel} is being rebuilt by ${this.holder}; wait for it, or stop that process and run the rebuild again (it resumes)`
  }
}

/**
 * Whether a value is an `InfrastructureError`, by its tag (so a second copy of this package, or
 * an error that crossed a boundary as data, still counts).
 *
 * @since 0.1.0
 * @category guards
 */
export const isInfrastructureError = (u: unknown): u is InfrastructureError => Predicate.isTagged(u, "InfrastructureError")

/**
 * Runs `effect` again every second until it succeeds, logging each failure as `what` failed: for
 * work that must not be dropped while the infrastructure is down (a command batch that could not
 * even be parked, a task's notification, a received batch of events), and for loops that must
 * outlive an outage.
 *
 * @since 0.1.0
 * @category combinators
 */
export const untilItWorks = <A>(what: string, effect: Effect.Effect<A, InfrastructureError>): Effect.Effect<A> =>
  Effect.retry(Effect.tapError(effect, (error) => Effect.logWarning(`${what} failed, trying again: ${error.message}`)), Schedule.spaced("1 second")).pipe(
    Effect.orDie
  )

/**
 * `untilItWorks` for failures that may pass only: runs `effect` again every second while it fails
 * with a retryable `InfrastructureError`, logging each; one that retrying cannot fix fails at once.
 *
 * @since 0.1.0
 * @category combinators
 */
export const whileItMayPass = <A>(what: string, effect: Effect.Effect<A, InfrastructureError>): Effect.Effect<A, InfrastructureError> =>
  Effect.retry(
    Effect.tapError(effect, (error) => error.retryable ? Effect.logWarning(`${what} failed, trying again: ${error.message}`) : Effect.void),
    { while: (error) => error.retryable, schedule: Schedule.spaced("1 second") }
  )

/**
 * Errors that mean "the input was wrong, nothing was written".
 *
 * @since 0.1.0
 * @category errors
 */
export type InputError = InvalidJson | UnknownComponent | InvalidCommand | InvalidInput

/**
 * A thrown value as one line (`TypeError: x is undefined`): what a dead letter's reason and an
 * outcome say. The stack, with its file paths, goes to the log only.
 *
 * @since 0.1.0
 * @category utils
 */
export const describeDefect = (defect: unknown): string => {
  const parts: Array<string> = []
  // An error that wraps another (a library's adapter around the user's throw) names both.
  for (let at: unknown = defect, depth = 0; at !== undefined && depth < 4; depth++) {
    const text = at instanceof Error ? `${at.name}: ${at.message}` : typeof at === "string" ? at : String(at)
    parts.push(text.split("\n", 1)[0]!)
    at = at instanceof Error ? at.cause : undefined
  }
  const line = parts.join("; caused by ")
  if (line.length <= 500) return line
  // Not across a surrogate pair: half of one is not text, and no store keeps it.
  const end = line.charCodeAt(499) >= 0xd800 && line.charCodeAt(499) <= 0xdbff ? 499 : 500
  return `${line.slice(0, end)}…`
}

/**
 * Formats a schema issue into the first path and a short reason.
 *
 * @since 0.1.0
 * @category utils
 */
export const describeSchemaError = (error: Schema.SchemaError): { readonly path: string; readonly detail: string } => {
  const text = error.message
  const at = text.lastIndexOf("\n  at ")
  return at === -1
    ? { path: "(root)", detail: text }
    : { path: text.slice(at + 6).trim(), detail: text.slice(0, at).trim() }
}
