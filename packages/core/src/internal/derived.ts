/**
 * Commands derived from an event or a message (mappings, extension points, extensions): same
 * correlation, caused by the source, and a message id derived from (source id, consumer, action
 * key), so a redelivered source never commands twice (guarantee 7).
 */
import * as Message from "../Message.ts"

/** Where a derived command comes from: the event (or command) and the consumer deriving it. */
export interface Origin {
  readonly consumer: string
  readonly causeId: string
  readonly meta: Message.Meta
}

export const derive = (
  time: string,
  origin: Origin,
  key: number | string,
  target: { readonly component: string; readonly command: unknown },
  id: string
): Message.CommandMessage => {
  const msgId = Message.derivedMsgId(origin.causeId, origin.consumer, key)
  return {
    component: target.component,
    id,
    msgId,
    meta: Message.derivedMeta(origin.meta, { msgId, service: origin.consumer, causationId: origin.causeId, time }),
    command: target.command
  }
}
