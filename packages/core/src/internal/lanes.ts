/**
 * The in-process lane of the memory CommandTopic: an awaited command whose shard is idle is
 * handed to the processor of this process as one synchronous call (`handleNow` of
 * internal/commands.ts), in the sender's own call, instead of through the shard's queue and
 * worker. Not a member of any service: the topic registers its lane for its own service object,
 * so a topic wrapped by a decorator (fault injection) is reached through `publish`, as any other
 * topic is.
 */
import type { Effect } from "effect"
import type { CommandTopic } from "../CommandTopic.ts"
import type { CommandMessage } from "../Message.ts"

/** Settles a message at once and returns what is left to run, or `undefined` when it did nothing. */
export type HandleNow = (message: CommandMessage, command?: unknown) => Effect.Effect<void> | undefined

export interface Lane {
  /** Set by the runtime that consumes the topic in this process. */
  handler: HandleNow | undefined
  /**
   * Settles an awaited message through `handler` when its shard has nothing outstanding; its
   * outcome is stored by the time this returns. `undefined`: nothing was published nor done.
   */
  readonly settleNow: HandleNow
}

const lanes = new WeakMap<CommandTopic["Service"], Lane>()

export const register = (topic: CommandTopic["Service"], lane: Lane): void => void lanes.set(topic, lane)

/** The lane of exactly this topic, if it has one. */
export const of = (topic: CommandTopic["Service"]): Lane | undefined => lanes.get(topic)
