/**
 * Requests through inbound translation slices: decode the input, translate, record the request
 * in the slice's audit stream (once per request id), then publish the commands with message ids
 * derived from the request, so a repeated request commands nothing twice.
 */
import { Effect, Result, Schema } from "effect"
import * as Aggregate from "../Aggregate.ts"
import type { CommandTopic } from "../CommandTopic.ts"
import { describeSchemaError, type InfrastructureError, InvalidCommand, TranslationRefused } from "../Errors.ts"
import type { EventStore } from "../EventStore.ts"
import * as InboundTranslationSlice from "../InboundTranslationSlice.ts"
import * as Message from "../Message.ts"
import * as Plugin from "../Plugin.ts"
import * as StateChangeSlice from "../StateChangeSlice.ts"

export interface InboundEntry {
  readonly plugin: Plugin.Plugin<unknown>
  readonly qualified: string
  readonly slice: InboundTranslationSlice.Any
}

export interface Receipt {
  readonly requestId: string
  readonly targetIds: ReadonlyArray<string>
  readonly commandCount: number
}

export const receive = (
  deps: { readonly store: EventStore["Service"]; readonly commands: CommandTopic["Service"]; readonly now: () => string },
  entry: InboundEntry,
  input: unknown,
  options: { readonly requestId?: string | undefined; readonly user?: string | undefined }
): Effect.Effect<Receipt, InvalidCommand | TranslationRefused | InfrastructureError> =>
  Effect.gen(function*() {
    const requestId = options.requestId ?? Message.newMsgId()
    const { qualified, slice } = entry
    const decoded = decodeInput(slice, input)
    if (Result.isFailure(decoded)) {
      const { detail, path } = describeSchemaError(decoded.failure)
      return yield* new InvalidCommand({ component: qualified, id: requestId, path, detail })
    }
    const meta = Message.makeMeta({ msgId: requestId, user: options.user, service: qualified }, deps.now())
    const audit = (event: InboundTranslationSlice.Audit) =>
      deps.store.commit([{
        _tag: "Append",
        request: {
          msgId: requestId,
          source: qualified,
          streamId: requestId,
          expectedVersion: "any",
          events: [{ type: `${qualified}.${event._tag}`, schemaVersion: 1, data: event }],
          meta
        }
      }])
    const refuse = (reason: string) =>
      Effect.andThen(audit({ _tag: "Refused", reason }), Effect.fail(new TranslationRefused({ component: qualified, requestId, reason })))

    const translated = yield* Effect.try({ try: () => slice.translate(decoded.success), catch: (error) => `translate threw: ${String(error)}` }).pipe(
      Effect.catch((reason) => Effect.succeed(Result.fail(reason)))
    )
    if (Result.isFailure(translated)) return yield* refuse(translated.failure)
    const messages: Array<Message.CommandMessage> = []
    for (const [index, { command, id }] of translated.success.entries()) {
      const target = targetOf(entry.plugin, slice.target, command, id)
      if (Result.isFailure(target)) return yield* refuse(target.failure)
      const msgId = Message.derivedMsgId(requestId, qualified, index)
      messages.push({
        component: target.success.component,
        id: target.success.id,
        msgId,
        meta: Message.derivedMeta(meta, { msgId, service: qualified, causationId: requestId, time: deps.now() }),
        command: target.success.command
      })
    }
    const targetIds = messages.map((message) => message.id)
    yield* audit({ _tag: "Translated", targetIds, commandCount: messages.length })
    if (messages.length > 0) yield* deps.commands.publish(messages)
    return { requestId, targetIds, commandCount: messages.length }
  })

const decoders = new WeakMap<object, (input: unknown) => Result.Result<unknown, Schema.SchemaError>>()

/** The slice's input decoder, compiled once. */
const decodeInput = (slice: InboundTranslationSlice.Any, input: unknown) => {
  let decode = decoders.get(slice)
  if (decode === undefined) decoders.set(slice, decode = Schema.decodeUnknownResult(slice.input))
  return decode(input)
}

/** The encoded command and its address, for an aggregate (id given) or a slice (partition). */
const targetOf = (
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
  const encoded = Aggregate.codecs(target).encodeCommand(command)
  if (Result.isFailure(encoded)) return Result.fail(`translated an invalid ${component} command: ${encoded.failure.message}`)
  return id === undefined ? Result.fail(`translated a ${component} command without an id`) : Result.succeed({ component, id, command: encoded.success })
}
