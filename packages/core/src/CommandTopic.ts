/**
 * Carries commands to their processor. Commands with the same partition key (component plus id)
 * are handled one at a time, in the order they were published (guarantee 2); different keys run
 * in parallel up to the consumer's concurrency.
 *
 * Sending and awaiting the outcome is request/reply through the stored outcome (`EventStore`),
 * so it works when the processor is another process.
 *
 * @since 0.1.0
 */
import { hostname } from "node:os"
import { Context, Effect, Layer, Queue, type Scope } from "effect"
import { EventStore } from "./EventStore.ts"
import { type InfrastructureError, untilItWorks } from "./Errors.ts"
import * as Lanes from "./internal/lanes.ts"
import * as Message from "./Message.ts"
import type * as Outcome from "./Outcome.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface ConsumeOptions {
  /**
   * Handles a batch of messages in publish order; all messages of one partition key arrive in
   * the same worker's batches. The processor records outcomes and failures itself; it fails only
   * when it could neither settle nor park a message (its stores are unreachable): the platform
   * then keeps the batch and delivers it again (the messages settled meanwhile are no-ops by
   * msgId), never acknowledges it.
   */
  readonly handle: (messages: ReadonlyArray<Message.CommandMessage>) => Effect.Effect<void, InfrastructureError>
  /** How many partitions are handled at once. */
  readonly concurrency: number
  /**
   * The qualified names of the components whose commands this consumer handles (aggregates,
   * state-change slices, extension points). A platform with a queue per component (SQS) polls
   * exactly these; one with a shared queue may ignore it. Absent: every component.
   */
  readonly components?: ReadonlyArray<string> | undefined
  /** Called after each batch is done and acknowledged (a progress signal for `awaitIdle`). */
  readonly settled?: (() => void) | undefined
}

/**
 * A part of the commands (a shard) and the process that handles it now.
 *
 * @since 0.1.0
 * @category models
 */
export interface PartitionOwner {
  readonly partition: string
  readonly host: string
  readonly pid: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface PublishOptions {
  /**
   * The sender waits in this process for the outcomes (request/reply). A platform may then hand
   * the messages straight to a worker of this process that owns their partitions instead of
   * storing them first: the sender learns each one's fate either way, and if the process dies
   * the sender dies with it, so nobody was promised that the command would run.
   */
  readonly awaited?: boolean | undefined
  /**
   * The messages were published before and are sent again on purpose (a replayed dead letter). A
   * transport that drops repeated msgIds itself (SQS FIFO's deduplication window) must let them
   * through; the store's msgId check still applies.
   */
  readonly redelivery?: boolean | undefined
}

/**
 * @since 0.1.0
 * @category services
 */
export class CommandTopic extends Context.Service<CommandTopic, {
  readonly publish: (messages: ReadonlyArray<Message.CommandMessage>, options?: PublishOptions) => Effect.Effect<void, InfrastructureError>
  /** Starts handling messages until the scope closes. */
  readonly consume: (options: ConsumeOptions) => Effect.Effect<void, never, Scope.Scope>
  /** Messages published and not yet handled. */
  readonly pending: Effect.Effect<number>
  /**
   * Which process holds which part of the commands now, for status: a shard and its holder.
   * Empty where the transport hands commands out itself (SQS message groups).
   */
  readonly owners: Effect.Effect<ReadonlyArray<PartitionOwner>, InfrastructureError>
}>()("@reventless/core/CommandTopic") {}

/**
 * Publishes a command and waits for its outcome.
 *
 * @since 0.1.0
 * @category combinators
 */
export const sendAndAwait = (
  message: Message.CommandMessage
): Effect.Effect<Outcome.Outcome, InfrastructureError, CommandTopic | EventStore> =>
  Effect.flatMap(Effect.all([Effect.service(CommandTopic), Effect.service(EventStore)]), ([topic, store]) =>
    store.awaitOutcome(message.msgId, { send: topic.publish([message], { awaited: true }) }))

/**
 * FNV-1a over a message's partition key (component, "/", id) without building the key string:
 * spreads partitions over shards.
 *
 * @since 0.1.0
 * @category utils
 */
export const hashKey = (message: Pick<Message.CommandMessage, "component" | "id">): number => {
  let prefix = componentHashes.get(message.component)
  if (prefix === undefined) {
    prefix = fnv(fnv(0x811c9dc5, message.component), "/")
    if (componentHashes.size < 1024) componentHashes.set(message.component, prefix)
  }
  return fnv(prefix, message.id) >>> 0
}

/** The hash of each component's name and "/", the part of a key its commands share (a plugin graph has few). */
const componentHashes = new Map<string, number>()

const fnv = (hash: number, text: string): number => {
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash
}

/**
 * Commands in memory: one queue per shard, a partition key always maps to the same shard, and
 * each shard's worker drains its queue in order, a batch at a time.
 *
 * An awaited command whose shard has nothing outstanding may be settled in the sender's own call
 * instead (internal/lanes.ts): the processor of this process runs it as one synchronous step
 * when every part of it is synchronous, so no worker can interleave and per partition it is
 * still one command at a time in publish order. Whatever that step does not settle is published
 * as usual.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<CommandTopic> = Layer.effect(
  CommandTopic,
  Effect.gen(function*() {
    let shards: Array<Shard> = []
    let consumer: ConsumeOptions | undefined
    const early: Array<Message.CommandMessage> = []
    let pending = 0

    const shardOf = (message: Message.CommandMessage) => shards[hashKey(message) % shards.length]!
    /** Puts a counted message in its shard's queue. */
    const offer = (message: Message.CommandMessage) => {
      const shard = shardOf(message)
      shard.outstanding++
      Queue.offerUnsafe(shard.queue, message)
    }
    const enqueueAll = (messages: ReadonlyArray<Message.CommandMessage>) => {
      for (const message of messages) {
        pending++
        if (shards.length === 0) early.push(message)
        else offer(message)
      }
    }

    const worker = (shard: Shard, { handle }: ConsumeOptions) =>
      Effect.forever(
        Effect.flatMap(Queue.takeAll(shard.queue), (batch) =>
          Effect.ensuring(
            untilItWorks("settling a command batch", handle(batch)),
            Effect.sync(() => {
              pending -= batch.length
              shard.outstanding -= batch.length
              consumer?.settled?.()
            })
          )),
        { disableYield: true }
      )

    const lane: Lanes.Lane = {
      handler: undefined,
      settleNow: (message, command) => {
        if (lane.handler === undefined || consumer === undefined || shards.length === 0 || shardOf(message).outstanding > 0) return undefined
        const rest = lane.handler(message, command)
        if (rest !== undefined) consumer.settled?.()
        return rest
      }
    }

    const topic = CommandTopic.of({
      publish: (messages) => Effect.sync(() => enqueueAll(messages)),
      consume: (options) =>
        Effect.gen(function*() {
          const queues = yield* Effect.forEach(Array.from({ length: Math.max(1, options.concurrency) }), () => Queue.unbounded<Message.CommandMessage>())
          const made = queues.map((queue): Shard => ({ queue, outstanding: 0 }))
          for (const shard of made) yield* Effect.forkScoped(worker(shard, options))
          shards = made
          consumer = options
          for (const message of early.splice(0)) offer(message)
        }),
      pending: Effect.sync(() => pending),
      owners: Effect.sync(() => shards.map((_, index) => ({ partition: `shard ${index}`, host: hostname(), pid: process.pid })))
    })
    Lanes.register(topic, lane)
    return topic
  })
)

interface Shard {
  readonly queue: Queue.Queue<Message.CommandMessage>
  /** Messages of this shard published and not yet handled. */
  outstanding: number
}
