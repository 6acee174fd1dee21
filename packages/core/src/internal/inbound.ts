/**
 * Requests through inbound translation slices: decode the input, translate, record the request
 * in the slice's audit stream (once per request id), then publish the commands with message ids
 * derived from the request, so a repeated request commands nothing twice.
 */
import { Effect, Option, Result, Schema } from "effect"
import * as Aggregate from "../Aggregate.ts"
import type { CommandTopic } from "../CommandTopic.ts"
import { describeSchemaError, type InfrastructureError, InvalidCommand, TranslationRefused, type Unauthorized } from "../Errors.ts"
import type { EventStore } from "../EventStore.ts"
import * as InboundTranslationSlice from "../InboundTranslationSlice.ts"
import * as Message from "../Message.ts"
import type * as Outcome from "../Outcome.ts"
import * as Plugin from "../Plugin.ts"
import * as StateChangeSlice from "../StateChangeSlice.ts"
import * as EventType from "./eventType.ts"

export interface InboundEntry {
  readonly plugin: Plugin.Plugin<unknown>
  readonly qualified: string
  readonly slice: InboundTranslationSlice.Any
}

type Receipt = InboundTranslationSlice.Receipt

export interface InboundDeps {
  readonly store: EventStore["Service"]
  readonly commands: CommandTopic["Service"]
  readonly now: () => string
  /** The authorization hook, applied to every command a request turns into. */
  readonly authorize: (message: Message.CommandMessage, command: unknown) => Effect.Effect<unknown, Unauthorized>
}

export const receive = (
  deps: InboundDeps,
  entry: InboundEntry,
  input: unknown,
  options: { readonly requestId?: string | undefined; readonly user?: string | undefined }
): Effect.Effect<Receipt, InvalidCommand | TranslationRefused | Unauthorized | InfrastructureError> =>
  Effect.gen(function*() {
    const requestId = options.requestId ?? Message.newMsgId()
    const { qualified, slice } = entry
    const decoded = decodeInput(slice, input)
    if (Result.isFailure(decoded)) {
      const { detail, path } = describeSchemaError(decoded.failure)
      return yield* new InvalidCommand({ component: qualified, id: requestId, path, detail })
    }
    // The audit record's own message id: a request id is the caller's, unique per slice only.
    const auditId = Message.derivedMsgId(requestId, qualified, "audit")
    const answered = (outcome: Outcome.Final) => recorded(deps, qualified, requestId, outcome)
    const previous = yield* deps.store.outcome(auditId)
    if (Option.isSome(previous)) return yield* answered(previous.value)

    const meta = Message.makeMeta({ msgId: requestId, user: options.user, service: qualified }, deps.now())
    const audit = (event: InboundTranslationSlice.Audit) =>
      Effect.map(
        deps.store.commit([{
          msgId: auditId,
          component: qualified,
          id: requestId,
          boundary: { _tag: "Stream", expectedVersion: "any" },
          decided: { _tag: "Events", events: [{ type: EventType.ofComponent(qualified, event), schemaVersion: 1, data: event }] },
          meta
        }]),
        ([result]) => result!
      )
    const refuse = (reason: string) =>
      Effect.flatMap(audit({ _tag: "Refused", reason }), (result) =>
        result._tag === "Duplicate" ? answered(result.outcome) : Effect.fail(new TranslationRefused({ component: qualified, requestId, reason })))

    // A translate that throws is a bug, not a refusal: it dies, and nothing is recorded.
    const translated = yield* Effect.sync(() => slice.translate(decoded.success))
    if (Result.isFailure(translated)) return yield* refuse(translated.failure)
    const messages: Array<Message.CommandMessage> = []
    for (const [index, { command, id }] of translated.success.entries()) {
      const target = targetOf(entry.plugin, slice.target, command, id)
      if (Result.isFailure(target)) return yield* refuse(target.failure)
      const msgId = Message.derivedMsgId(requestId, qualified, index)
      const message: Message.CommandMessage = {
        component: target.success.component,
        id: target.success.id,
        msgId,
        meta: Message.derivedMeta(meta, { msgId, service: qualified, causationId: requestId, time: deps.now() }),
        command: target.success.command
      }
      yield* deps.authorize(message, command)
      messages.push(message)
    }
    // Recorded with its commands, so a repeated request (after a crash, say) publishes them again.
    const result = yield* audit({ _tag: "Translated", targetIds: messages.map((message) => message.id), commandCount: messages.length, commands: messages })
    if (result._tag === "Duplicate") return yield* answered(result.outcome)
    return yield* publish(deps, requestId, messages)
  })

const publish = (deps: InboundDeps, requestId: string, messages: ReadonlyArray<Message.CommandMessage>): Effect.Effect<Receipt, InfrastructureError> =>
  Effect.as(messages.length > 0 ? deps.commands.publish(messages) : Effect.void, {
    requestId,
    targetIds: messages.map((message) => message.id),
    commandCount: messages.length
  })

/** The answer recorded for a request: its refusal, or its commands, published again (they dedupe by msgId). */
const recorded = (
  deps: InboundDeps,
  component: string,
  requestId: string,
  outcome: Outcome.Final
): Effect.Effect<Receipt, TranslationRefused | InfrastructureError> => {
  const event = outcome._tag === "Accepted" ? outcome.events[0]?.data as InboundTranslationSlice.Audit | undefined : undefined
  if (event === undefined) return Effect.fail(new TranslationRefused({ component, requestId, reason: "its earlier answer is not readable" }))
  return event._tag === "Refused"
    ? Effect.fail(new TranslationRefused({ component, requestId, reason: event.reason }))
    : publish(deps, requestId, event.commands)
}

const decoders = new WeakMap<object, (input: unknown) => Result.Result<unknown, Schema.SchemaError>>()

/** The slice's input decoder, compiled once. */
const decodeInput = (slice: InboundTranslationSlice.Any, input: unknown) => {
  let decode = decoders.get(slice)
  if (decode === undefined) decoders.set(slice, decode = Schema.decodeUnknownResult(slice.input))
  return decode(input)
}

/** The encoded command and its address, for an aggregate (id given) or a slice (partition). */
export const targetOf = (
  plugin: Plugin.Plugin<unknown>,
  target: Aggregate.Any | StateChangeSlice.Any,
  command: unknown,
  id: string | undefined
): Result.Result<{ readonly component: string; readonly id: string; readonly command: unknown }, string> => {
  const component = Plugin.qualify(plugin, target)
  if (StateChangeSlice.isStateChangeSlice(target)) {
    const encoded = StateChangeSlice.codecs(target).encodeCommand(command)
    if (Result.isFailure(encoded)) return Result.fail(`translated an invalid ${component} command: ${encoded.failure.message}`)
    const key = target.partitionOf(command)
    return key === undefined ? Result.fail(`translated a ${component} command without its partition key`) : Result.succeed({ component, id: key, command: encoded.success })
  }
  const codecs = Aggregate.codecs(target)
  const encoded = codecs.encodeCommand(command)
  if (Result.isFailure(encoded)) return Result.fail(`translated an invalid ${component} command: ${encoded.failure.message}`)
  if (id === undefined) return Result.fail(`translated a ${component} command without an id`)
  if (Result.isFailure(codecs.decodeId(id))) return Result.fail(`translated a ${component} command for the invalid id "${id}"`)
  return Result.succeed({ component, id, command: encoded.success })
}
