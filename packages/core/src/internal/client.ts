/**
 * The client side of a runtime: a request is validated (the input limits, the component, the id,
 * the payload against its schema, a slice's partition key), authorized, published, and answered
 * with its outcome, which must be the sender's own (guarantee 1: a msgId another sender used is
 * `MsgIdInUse`). Nothing is published for a request that fails any step.
 */
import { Effect, Option, Result, type Schema } from "effect"
import * as Authorization from "../Authorization.ts"
import type { CommandTopic } from "../CommandTopic.ts"
import {
  CommandFailed,
  CommandRejected,
  describeSchemaError,
  type InfrastructureError,
  type InputError,
  InvalidCommand,
  InvalidJson,
  MsgIdInUse,
  type Unauthorized
} from "../Errors.ts"
import type { EventStore } from "../EventStore.ts"
import * as Limits from "../Limits.ts"
import * as Message from "../Message.ts"
import type * as Outcome from "../Outcome.ts"
import type { SendError, SendRequest } from "../Runtime.ts"
import * as Eager from "./eager.ts"
import * as Lanes from "./lanes.ts"
import * as MsgIds from "./msgIds.ts"
import type { Registry, SliceEntry } from "./registry.ts"

export interface ClientDeps {
  readonly registry: Registry
  readonly store: EventStore["Service"]
  readonly commands: CommandTopic["Service"]
  readonly authorization: Authorization.Hook
  readonly limits: Limits.Limits
  readonly now: () => string
}

/** A request that passed validation: the message to publish and its command, decoded. */
interface Validated {
  readonly message: Message.CommandMessage
  readonly command: unknown
}

const noMeta: Message.MetaInput = {}

/** What `execute` makes of an outcome: the accepted one, or the rejection or failure as an error. */
const acceptedOrError = (outcome: Outcome.Outcome): Effect.Effect<typeof Outcome.Accepted.Type, CommandRejected | CommandFailed> => {
  switch (outcome._tag) {
    case "Accepted":
      return Effect.succeed(outcome)
    case "Rejected":
      return Effect.fail(new CommandRejected({ component: outcome.component, id: outcome.id, msgId: outcome.msgId, error: outcome.error }))
    case "Failed":
      return Effect.fail(new CommandFailed({ component: outcome.component, id: outcome.id, msgId: outcome.msgId, reason: outcome.reason }))
  }
}

/**
 * Whether a stored outcome is this message's: the same component, instance and (where the
 * outcome knows it) user. A msgId is a sender's idempotency key, not a way to read someone else's
 * outcome (a repeated msgId from another user answered with the first user's events).
 */
const belongsTo = (outcome: Outcome.Outcome, message: Message.CommandMessage): boolean => {
  if (outcome.component !== message.component || outcome.id !== message.id) return false
  const user = outcome._tag === "Accepted" ? outcome.events[0]?.meta.user : outcome.user
  return user === undefined || user === message.meta.user
}

const inUse = (message: Message.CommandMessage) => new MsgIdInUse({ msgId: message.msgId, component: message.component, id: message.id })

const invalid = (component: string, id: string, error: Schema.SchemaError, at?: string) => {
  const { detail, path } = describeSchemaError(error)
  return new InvalidCommand({ component, id, path: at ?? path, detail })
}

/**
 * A command the sender holds as its component's typed value, with the codecs that encoded it into
 * the request's `command` (`Aggregate.codecs`, `StateChangeSlice.codecs`). When they are the
 * registered component's own, encoding it has run the schema's checks already: the request is
 * not decoded again, and a processor in this process may decide on this very value.
 */
export interface TypedCommand {
  readonly codecs: object
  readonly command: unknown
}

/** The request's command, decoded; the sender's typed value when the component's own codecs encoded it. */
const commandOf = (codecs: { readonly decodeCommand: (input: unknown) => Result.Result<unknown, Schema.SchemaError> }, request: SendRequest, typed: TypedCommand | undefined) =>
  typed !== undefined && typed.codecs === codecs ? Result.succeed(typed.command) : codecs.decodeCommand(request.command)

export const make = (deps: ClientDeps) => {
  const { authorization, commands, limits, now, registry, store } = deps

  /** Lets the authorization hook see a validated command; nothing is published when it refuses. */
  const authorized = (message: Message.CommandMessage, command: unknown): Effect.Effect<Message.CommandMessage, Unauthorized> =>
    authorization === Authorization.allowAll
      ? Effect.succeed(message)
      : Effect.as(authorization.authorize({ _tag: "Command", user: message.meta.user, component: message.component, id: message.id, command }), message)

  /** A slice command is routed by its partition key; an id, when given, must be that key. */
  const validateSlice = (entry: SliceEntry, request: SendRequest, typed: TypedCommand | undefined): Result.Result<Validated, InputError> => {
    const command = commandOf(entry.codecs, request, typed)
    if (Result.isFailure(command)) return Result.fail(invalid(entry.qualified, request.id, command.failure))
    const id = entry.slice.partitionOf(command.success)
    if (id === undefined) {
      return Result.fail(new InvalidCommand({ component: entry.qualified, id: request.id, path: entry.slice.partition.join("/"), detail: "missing partition key" }))
    }
    // The partition key is the command's id: a key, held to an id's limits.
    const badKey = Limits.checkId(limits, `command for ${entry.qualified}`, `command.${entry.slice.partition.join(".")}`, id)
    if (badKey !== undefined) return Result.fail(badKey)
    if (request.id !== "" && request.id !== id) {
      return Result.fail(new InvalidCommand({ component: entry.qualified, id: request.id, path: "id", detail: `the command's partition key is "${id}"; leave the id empty or pass that` }))
    }
    const meta = Message.makeMeta(request.meta ?? noMeta, now())
    return Result.succeed({ message: { component: entry.qualified, id, msgId: meta.msgId, meta, command: request.command }, command: command.success })
  }

  /** Validates a request into the message to publish, with its command decoded. */
  const validate = (request: SendRequest, typed?: TypedCommand): Result.Result<Validated, InputError> => {
    const refused = Limits.checkCommand(limits, request)
    if (refused !== undefined) return Result.fail(refused)
    const found = registry.aggregate(request.component)
    if (Result.isFailure(found)) {
      const slice = registry.slice(request.component)
      return Result.isSuccess(slice) ? validateSlice(slice.success, request, typed) : Result.fail(found.failure)
    }
    const entry = found.success
    const id = entry.codecs.decodeId(request.id)
    if (Result.isFailure(id)) return Result.fail(invalid(entry.qualified, String(request.id), id.failure, "id"))
    const command = commandOf(entry.codecs, request, typed)
    if (Result.isFailure(command)) return Result.fail(invalid(entry.qualified, request.id, command.failure))
    const meta = Message.makeMeta(request.meta ?? noMeta, now())
    return Result.succeed({ message: { component: entry.qualified, id: request.id, msgId: meta.msgId, meta, command: request.command }, command: command.success })
  }

  const lane = Lanes.of(commands)
  const eager = Eager.of(store)

  /**
   * Publishes a validated command and goes on with its outcome. Where the platform settles it in
   * this very call (the memory topic's lane over the memory store), the outcome is read at once:
   * no effect runs between the request and `onOutcome`.
   */
  const publishAwaited = <A, E>(
    { command, message }: Validated,
    fresh: boolean,
    onOutcome: (outcome: Outcome.Outcome) => Effect.Effect<A, E>
  ): Effect.Effect<A, E | MsgIdInUse | InfrastructureError> => {
    const answer = (outcome: Outcome.Outcome): Effect.Effect<A, E | MsgIdInUse> => belongsTo(outcome, message) ? onOutcome(outcome) : Effect.fail(inUse(message))
    const rest = lane?.settleNow(message, command)
    if (rest === undefined) {
      const send = commands.publish([message], { awaited: true })
      if (fresh) MsgIds.markFresh(message.msgId)
      return Effect.flatMap(store.awaitOutcome(message.msgId, { send }), answer)
    }
    const outcome = rest === Effect.void ? eager?.outcome(message.msgId) : undefined
    return outcome !== undefined ? answer(outcome) : Effect.flatMap(Effect.andThen(rest, store.awaitOutcome(message.msgId)), answer)
  }

  const submitWith = <A, E>(
    request: SendRequest,
    onOutcome: (outcome: Outcome.Outcome) => Effect.Effect<A, E>,
    typed?: TypedCommand
  ): Effect.Effect<A, E | SendError> =>
    Effect.suspend((): Effect.Effect<A, E | SendError> => {
      const validated = validate(request, typed)
      if (Result.isFailure(validated)) return Effect.fail(validated.failure)
      const fresh = request.meta?.msgId === undefined
      return authorization === Authorization.allowAll
        ? publishAwaited(validated.success, fresh, onOutcome)
        : Effect.flatMap(authorized(validated.success.message, validated.success.command), () => publishAwaited(validated.success, fresh, onOutcome))
    })

  const execute = (request: SendRequest) => submitWith(request, acceptedOrError)

  /** The stored outcome of the message's msgId, if any, when it is the message's own; `MsgIdInUse` when another sender's. */
  const ownOutcome = (message: Message.CommandMessage): Effect.Effect<Option.Option<Outcome.Final>, MsgIdInUse | InfrastructureError> =>
    Effect.flatMap(store.outcome(message.msgId), (previous) =>
      Option.isNone(previous) || belongsTo(previous.value, message) ? Effect.succeed(previous) : Effect.fail(inUse(message)))

  return {
    validate,
    authorized,
    submitWith,
    execute,
    submit: (request: SendRequest) => submitWith(request, Effect.succeed),
    check: (request: SendRequest): Effect.Effect<void, InputError> => {
      const validated = validate(request)
      return Result.isFailure(validated) ? Effect.fail(validated.failure) : Effect.void
    },
    send: (request: SendRequest): Effect.Effect<string, SendError> => {
      const validated = validate(request)
      if (Result.isFailure(validated)) return Effect.fail(validated.failure)
      return Effect.flatMap(authorized(validated.success.message, validated.success.command), (message) => {
        const publish = Effect.as(commands.publish([message]), message.msgId)
        // A msgId the sender chose may be taken: refuse it rather than drop the command silently.
        return request.meta?.msgId === undefined ? publish : Effect.andThen(ownOutcome(message), publish)
      })
    },
    outcome: (request: SendRequest): Effect.Effect<Option.Option<Outcome.Final>, InputError | Unauthorized | MsgIdInUse | InfrastructureError> => {
      if (request.meta?.msgId === undefined) return Effect.succeed(Option.none())
      const validated = validate(request)
      if (Result.isFailure(validated)) return Effect.fail(validated.failure)
      // Asked as the send would be: who may not send it may not read its outcome either.
      return Effect.flatMap(authorized(validated.success.message, validated.success.command), ownOutcome)
    },
    executeJson: (component: string, id: string, json: string, meta?: Message.MetaInput) =>
      Effect.flatMap(
        Effect.try({
          try: () => JSON.parse(json) as unknown,
          catch: (error) => new InvalidJson({ where: `command for ${component} "${id}"`, input: json.slice(0, 200), detail: String(error) })
        }),
        (command) => execute({ component, id, command, meta })
      )
  }
}
