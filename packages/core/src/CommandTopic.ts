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
import { Context, Deferred, Effect, Layer, Queue, type Scope } from "effect"
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
  /**
   * Settles one message at once, without an effect, when everything it needs is synchronous
   * (a decision that is a plain Result, a synchronous store: `EventStore.sync`). A platform that
   * hands messages over in process may try it first, passing on the sender's decoded command
   * when it has it (`publishNow`). Returns what is left to run (a log line at most), or
   * `undefined` when it did nothing and `handle` must do it.
   */
  readonly handleNow?: ((message: Message.CommandMessage, command?: unknown) => Effect.Effect<void> | undefined) | undefined
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
  /**
   * Publishes one awaited message (`PublishOptions.awaited`) and settles it on the spot when the
   * platform can do that synchronously: in memory, when its partition is idle and the consumer's
   * `handleNow` takes it. Its outcome is stored by the time this returns, and what is returned is
   * left to run (a log line at most). `undefined`: nothing was published nor done, `publish` it.
   * `command` is the sender's own decoding of `message.command`, which an in-process consumer
   * may use instead of decoding it again. Absent on platforms that cannot settle in the sender's
   * call.
   */
  readonly publishNow?: ((message: Message.CommandMessage, command?: unknown) => Effect.Effect<void> | undefined) | undefined
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
 * An awaited command (`PublishOptions.awaited`) whose shard has nothing outstanding is handled
 * in the sender's own fiber instead of taking the queue: no hand-off to the worker and back,
 * which is most of what a command costs in memory. The shard counts as busy meanwhile, so what
 * is published to it then waits in the queue behind it and its worker does not start until it
 * is done: per partition, still one command at a time in publish order, and never more handlers
 * at once than shards. The run is uninterruptible: a sender that gives up does not cut a
 * command in half. A command the stores cannot settle keeps its shard while a fiber of the
 * consumer tries it until it works, as the worker does with a batch. The consumer's synchronous
 * lane (`handleNow`) is tried first.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<CommandTopic> = Layer.effect(
  CommandTopic,
  Effect.gen(function*() {
    const faults = yield* Faults
    let shards: Array<Shard> = []
    let consumer: ConsumeOptions | undefined
    /** Where the consumer's fibers live (its `consume` scope). */
    let consumerScope: Scope.Scope | undefined
    const early: Array<Message.CommandMessage> = []
    let pending = 0

    const shardOf = (message: Message.CommandMessage) => shards[hashKey(message) % shards.length]!
    /** Puts a counted message in its shard's queue. */
    const offer = (message: Message.CommandMessage) => {
      const shard = shardOf(message)
      shard.outstanding++
      Queue.offerUnsafe(shard.queue, message)
    }
    const enqueue = (message: Message.CommandMessage) => {
      pending++
      if (shards.length === 0) early.push(message)
      else offer(message)
    }
    const enqueueAll = (messages: ReadonlyArray<Message.CommandMessage>) => {
      for (const message of messages) {
        enqueue(message)
        if (faults.duplicateCommands) enqueue(message)
      }
    }
    const done = (shard: Shard, count: number) => {
      pending -= count
      shard.outstanding -= count
      consumer?.settled?.()
    }

    /**
     * Settles an awaited message in the sender's fiber when its shard has nothing outstanding:
     * through the consumer's synchronous lane, else its `handle`; otherwise it is queued. Runs
     * uninterruptibly from the check on, so the shard's counters and busy flag always come back.
     */
    const direct = (message: Message.CommandMessage): Effect.Effect<void> => {
      const shard = shards.length === 0 || consumer === undefined ? undefined : shardOf(message)
      if (shard === undefined || consumer === undefined || shard.outstanding > 0 || shard.busy) {
        enqueue(message)
        return Effect.void
      }
      const now = settleNow(consumer, message, undefined)
      if (now !== undefined) return now
      pending++
      shard.outstanding++
      shard.busy = true
      const finish = Effect.sync(() => {
        release(shard)
        done(shard, 1)
      })
      const { handle } = consumer
      const handling = Effect.suspend(() => handle([message]))
      return Effect.matchCauseEffect(handling, {
        onSuccess: () => finish,
        // The stores are down: the shard stays busy (later messages wait behind this one) while a
        // fiber of the consumer's keeps trying it; the sender waits for the outcome as usual.
        onFailure: () => Effect.asVoid(Effect.forkIn(Effect.ensuring(settling(handling), finish), consumerScope!))
      })
    }
    /** The consumer's synchronous lane, for a message whose shard is idle. */
    const settleNow = (options: ConsumeOptions, message: Message.CommandMessage, command: unknown): Effect.Effect<void> | undefined => {
      const now = options.handleNow?.(message, command)
      if (now !== undefined) options.settled?.()
      return now
    }
    const publishNow = (message: Message.CommandMessage, command?: unknown): Effect.Effect<void> | undefined => {
      if (consumer === undefined || shards.length === 0 || faults.commandDelayMillis > 0 || faults.duplicateCommands) return undefined
      const shard = shardOf(message)
      return shard.outstanding > 0 || shard.busy ? undefined : settleNow(consumer, message, command)
    }
    const settling = (handling: Effect.Effect<void, InfrastructureError>) => untilItWorks("settling a command batch", handling)

    const release = (shard: Shard) => {
      shard.busy = false
      const waiting = shard.waiting
      shard.waiting = undefined
      if (waiting !== undefined) Deferred.doneUnsafe(waiting, Effect.void)
    }
    /** Waits while a sender handles a command of this shard inline. */
    const idle = (shard: Shard): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (!shard.busy) return Effect.void
        const waiting = shard.waiting ??= Deferred.makeUnsafe<void>()
        return Effect.andThen(Deferred.await(waiting), idle(shard))
      })

    const worker = (shard: Shard, { handle }: ConsumeOptions) =>
      Effect.forever(
        Effect.flatMap(Queue.takeAll(shard.queue), (batch) =>
          Effect.ensuring(
            Effect.andThen(
              idle(shard),
              Effect.suspend(() => {
                shard.busy = true
                return settling(faults.commandDelayMillis > 0 ? Effect.andThen(Effect.sleep(faults.commandDelayMillis), handle(batch)) : handle(batch))
              })
            ),
            Effect.sync(() => {
              release(shard)
              done(shard, batch.length)
            })
          )),
        { disableYield: true }
      )

    return CommandTopic.of({
      publish: (messages, options) =>
        options?.awaited === true && messages.length === 1
          ? Effect.uninterruptible(Effect.suspend(() =>
            faults.commandDelayMillis === 0 && !faults.duplicateCommands ? direct(messages[0]!) : Effect.sync(() => enqueueAll(messages))
          ))
          : Effect.sync(() => enqueueAll(messages)),
      consume: (options) =>
        Effect.gen(function*() {
          const queues = yield* Effect.forEach(Array.from({ length: Math.max(1, options.concurrency) }), () => Queue.unbounded<Message.CommandMessage>())
          const made = queues.map((queue): Shard => ({ queue, outstanding: 0, busy: false, waiting: undefined }))
          for (const shard of made) yield* Effect.forkScoped(worker(shard, options))
          shards = made
          consumer = options
          consumerScope = yield* Effect.scope
          for (const message of early.splice(0)) offer(message)
        }),
      publishNow,
      pending: Effect.sync(() => pending),
      owners: Effect.sync(() => shards.map((_, index) => ({ partition: `shard ${index}`, host: hostname(), pid: process.pid })))
    })
  })
)

interface Shard {
  readonly queue: Queue.Queue<Message.CommandMessage>
  /** Messages of this shard published and not yet handled. */
  outstanding: number
  /** A handler (the worker, or a sender inline) is running. */
  busy: boolean
  /** The worker, waiting for an inline handler to finish. */
  waiting: Deferred.Deferred<void> | undefined
}
