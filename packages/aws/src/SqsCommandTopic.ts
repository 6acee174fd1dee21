/**
 * Commands on SQS FIFO: one queue per component (`<prefix>-<plugin>-<component>.fifo`), the
 * partition key as MessageGroupId (SQS hands out a group's next message only after the previous
 * one is deleted, across every consumer: guarantee 2 across processes), the msgId as
 * MessageDeduplicationId. Consumers long-poll the queues of their own components, hand each
 * received batch to the processor, keep it invisible to others while it runs, and delete it once
 * handled. A consumer that dies leaves its messages to reappear after the visibility timeout
 * (the processor's msgId check makes a second run a no-op); a message received
 * `maxReceiveCount` times without being deleted moves to the queue's dead-letter queue.
 *
 * Outcomes stay in the PostgreSQL store, so send-and-await works from any process.
 *
 * @since 0.1.0
 */
import { CommandTopic, Message } from "@reventless/core"
import { Effect, Layer, Result, Schema } from "effect"
import { AwsClients } from "./AwsClients.ts"
import * as Names from "./Names.ts"
import { approximateCount, batchLimit, graceFor, receiveLoop, untilClosed, waitTimeOf } from "./internal/receive.ts"
import { batchesOf, bodyOf, messageBytes, refusedEntries, refuseOversized, sendToFifoQueue } from "./internal/send.ts"
import { Resources } from "./Resources.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Seconds a receive waits for messages (long polling, 1 to 20; default 20). */
  readonly waitTimeSeconds?: number | undefined
}

const decodeMessage = Schema.decodeUnknownResult(Schema.fromJsonString(Message.CommandMessage))

/**
 * The partition key within a component's queue: the instance id (a slice's partition value).
 *
 * @since 0.1.0
 * @category names
 */
export const groupId = (message: Pick<Message.CommandMessage, "id">): string => Names.messageId(message.id === "" ? "(none)" : message.id)

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<CommandTopic.CommandTopic, never, AwsClients | Resources> =>
  Layer.effect(
    CommandTopic.CommandTopic,
    Effect.gen(function*() {
      const { sqs } = yield* AwsClients
      const resources = yield* Resources
      const prefix = resources.options.prefix
      const visibility = resources.options.visibilityTimeoutSeconds
      const waitTimeSeconds = waitTimeOf(options.waitTimeSeconds)
      const queueOf = (component: string) => resources.fifoQueue(Names.commandQueue(prefix, component))
      /** The queues this process consumes: what `pending` counts. */
      const consumed: Array<string> = []

      /** A command with its body, ready to send. */
      interface Outgoing {
        readonly message: Message.CommandMessage
        readonly body: string
      }

      const sendBatch = (url: string, batch: ReadonlyArray<Outgoing>, redelivery: boolean) => {
        // A replayed dead letter keeps its msgId (the store's dedup) but must get past SQS's five-minute dedup window.
        const suffix = redelivery ? `:r${Date.now().toString(36)}` : ""
        return sendToFifoQueue(
          sqs,
          url,
          batch,
          ({ message }) => ({ group: groupId(message), deduplication: Names.messageId(message.msgId + suffix) }),
          (failed) => refusedEntries("CommandTopic", "publish", "commands", failed, batch, ({ message }) => message.msgId)
        )
      }

      const publish = (messages: ReadonlyArray<Message.CommandMessage>, publishOptions?: CommandTopic.PublishOptions) =>
        Effect.suspend(() => {
          const outgoing = messages.map((message): Outgoing => ({ message, body: bodyOf(message) }))
          const byComponent = new Map<string, Array<Outgoing>>()
          for (const item of outgoing) {
            const list = byComponent.get(item.message.component)
            if (list === undefined) byComponent.set(item.message.component, [item])
            else list.push(item)
          }
          // Nothing is sent when one is too large; components in parallel, one component's batches
          // in order, so its commands keep theirs.
          return Effect.andThen(
            refuseOversized("CommandTopic", outgoing, messageBytes.sqs, ({ message }) => `command ${message.msgId} for ${message.component} "${message.id}"`),
            Effect.forEach(
              byComponent,
              ([component, list]) =>
                Effect.flatMap(queueOf(component), (queue) =>
                  Effect.forEach(batchesOf(list), (batch) => sendBatch(queue.url, batch, publishOptions?.redelivery === true), { discard: true })),
              { concurrency: "unbounded", discard: true }
            )
          )
        })

      const poller = (url: string, consumeOptions: CommandTopic.ConsumeOptions) =>
        receiveLoop({
          sqs,
          url,
          waitTimeSeconds,
          visibilityTimeoutSeconds: visibility,
          decode: (body) => Result.getOrUndefined(decodeMessage(body)),
          handle: consumeOptions.handle,
          // An empty poll is progress too: `awaitIdle` looks again, whatever SQS's approximate counts said before.
          polled: consumeOptions.settled
        })

      return CommandTopic.CommandTopic.of({
        publish,
        consume: (consumeOptions) =>
          Effect.gen(function*() {
            const components = consumeOptions.components ?? []
            const pollers = Math.max(1, Math.ceil(consumeOptions.concurrency / batchLimit))
            const loops: Array<(stopping: () => boolean) => Effect.Effect<void>> = []
            for (const component of components) {
              const queue = yield* Effect.orDie(queueOf(component))
              consumed.push(queue.url)
              for (let i = 0; i < pollers; i++) loops.push(poller(queue.url, consumeOptions))
            }
            yield* untilClosed(loops, graceFor(waitTimeSeconds))
          }),
        pending: Effect.map(
          Effect.forEach(consumed, (url) =>
            // Unknown counts as busy: awaitIdle looks again after the next bit of progress.
            Effect.orElseSucceed(approximateCount(sqs, url), () => 1), { concurrency: "unbounded" }),
          (counts) => counts.reduce((sum, n) => sum + n, 0)
        ),
        // SQS hands a message group to whichever consumer asks next: no shard has an owner.
        owners: Effect.succeed([])
      })
    })
  )
