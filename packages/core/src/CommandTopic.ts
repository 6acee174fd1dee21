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
import { Context, Effect, Layer, Queue, type Scope } from "effect"
import { EventStore } from "./EventStore.ts"
import { type InfrastructureError, untilItWorks } from "./Errors.ts"
import { Faults } from "./Faults.ts"
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
export const hashKey = (message: Pick<Message.CommandMessage, "component" | "id">): number =>
  fnv(fnv(fnv(0x811c9dc5, message.component), "/"), message.id) >>> 0

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
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<CommandTopic> = Layer.effect(
  CommandTopic,
  Effect.gen(function*() {
    const faults = yield* Faults
    let shards: Array<Queue.Queue<Message.CommandMessage>> = []
    const early: Array<Message.CommandMessage> = []
    let pending = 0

    const enqueue = (message: Message.CommandMessage) => {
      pending++
      if (shards.length === 0) early.push(message)
      else Queue.offerUnsafe(shards[hashKey(message) % shards.length]!, message)
    }

    const worker = (queue: Queue.Queue<Message.CommandMessage>, { handle, settled }: ConsumeOptions) =>
      Effect.forever(
        Effect.flatMap(Queue.takeAll(queue), (batch) =>
          Effect.ensuring(
            untilItWorks(
              "settling a command batch",
              faults.commandDelayMillis > 0 ? Effect.andThen(Effect.sleep(faults.commandDelayMillis), handle(batch)) : handle(batch)
            ),
            Effect.sync(() => {
              pending -= batch.length
              settled?.()
            })
          )),
        { disableYield: true }
      )

    return CommandTopic.of({
      publish: (messages) =>
        Effect.sync(() => {
          for (const message of messages) {
            enqueue(message)
            if (faults.duplicateCommands) enqueue(message)
          }
        }),
      consume: (options) =>
        Effect.gen(function*() {
          const queues = yield* Effect.forEach(Array.from({ length: Math.max(1, options.concurrency) }), () => Queue.unbounded<Message.CommandMessage>())
          for (const queue of queues) yield* Effect.forkScoped(worker(queue, options))
          shards = queues
          for (const message of early.splice(0)) Queue.offerUnsafe(shards[hashKey(message) % shards.length]!, message)
        }),
      pending: Effect.sync(() => pending)
    })
  })
)
