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
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message as SqsMessage,
  ReceiveMessageCommand,
  SendMessageBatchCommand
} from "@aws-sdk/client-sqs"
import { CommandTopic, Errors, Message } from "@reventless/core"
import { Effect, Layer, Result, Schedule, Schema } from "effect"
import { AwsClients, call } from "./AwsClients.ts"
import * as Names from "./Names.ts"
import { Resources } from "./Resources.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Seconds a receive waits for messages (long polling, 1 to 20; default 20). */
  readonly waitTimeSeconds?: number | undefined
}

/** SQS's limit for one SendMessageBatch (entries; the size limit is checked by SQS). */
const batchLimit = 10

const decodeMessage = Schema.decodeUnknownResult(Schema.fromJsonString(Message.CommandMessage))

/** Splits into runs of at most `size`. */
const chunks = <A>(items: ReadonlyArray<A>, size: number): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

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
      const waitTimeSeconds = Math.min(20, Math.max(1, options.waitTimeSeconds ?? 20))
      const queueOf = (component: string) => resources.fifoQueue(Names.commandQueue(prefix, component))
      /** The queues this process consumes: what `pending` counts. */
      const consumed: Array<string> = []

      const sendBatch = (url: string, messages: ReadonlyArray<Message.CommandMessage>, redelivery: boolean) => {
        // A replayed dead letter keeps its msgId (the store's dedup) but must get past SQS's five-minute dedup window.
        const suffix = redelivery ? `:r${Date.now().toString(36)}` : ""
        return Effect.flatMap(
          call("SQS", "SendMessageBatch", (signal) =>
            sqs.send(
              new SendMessageBatchCommand({
                QueueUrl: url,
                Entries: messages.map((message, i) => ({
                  Id: String(i),
                  MessageBody: JSON.stringify(message),
                  MessageGroupId: groupId(message),
                  MessageDeduplicationId: Names.messageId(message.msgId + suffix)
                }))
              }),
              { abortSignal: signal }
            )),
          (answer) => {
            const failed = answer.Failed ?? []
            if (failed.length === 0) return Effect.void
            const described = failed.map((entry) => `${messages[Number(entry.Id)]?.msgId ?? entry.Id}: ${entry.Code ?? ""} ${entry.Message ?? ""}`.trim())
            return Effect.fail(
              new Errors.InfrastructureError({
                service: "CommandTopic",
                operation: "publish",
                detail: `SQS refused ${failed.length} of ${messages.length} commands (${described.join("; ")})`,
                retryable: failed.every((entry) => entry.SenderFault !== true)
              })
            )
          }
        )
      }

      const publish = (messages: ReadonlyArray<Message.CommandMessage>, publishOptions?: CommandTopic.PublishOptions) => {
        const byComponent = new Map<string, Array<Message.CommandMessage>>()
        for (const message of messages) {
          const list = byComponent.get(message.component)
          if (list === undefined) byComponent.set(message.component, [message])
          else list.push(message)
        }
        // Components in parallel; one component's batches in order, so its commands keep theirs.
        return Effect.forEach(
          byComponent,
          ([component, list]) =>
            Effect.flatMap(queueOf(component), (queue) =>
              Effect.forEach(chunks(list, batchLimit), (chunk) => sendBatch(queue.url, chunk, publishOptions?.redelivery === true), { discard: true })),
          { concurrency: "unbounded", discard: true }
        )
      }

      const deleteAll = (url: string, received: ReadonlyArray<SqsMessage>) =>
        Effect.forEach(chunks(received, batchLimit), (chunk) =>
          call("SQS", "DeleteMessageBatch", (signal) =>
            sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: chunk.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }), {
              abortSignal: signal
            })), { discard: true })

      /** Keeps a batch invisible while its handler runs past half the visibility timeout. */
      const keepInvisible = (url: string, received: ReadonlyArray<SqsMessage>) =>
        Effect.repeat(
          Effect.ignore(call("SQS", "ChangeMessageVisibilityBatch", (signal) =>
            sqs.send(
              new ChangeMessageVisibilityBatchCommand({
                QueueUrl: url,
                Entries: received.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: visibility }))
              }),
              { abortSignal: signal }
            ))),
          Schedule.spaced(`${Math.max(1, Math.floor(visibility / 2))} seconds`)
        ).pipe(Effect.delay(`${Math.max(1, Math.floor(visibility / 2))} seconds`))

      const poll = (url: string, consumeOptions: CommandTopic.ConsumeOptions) =>
        Effect.flatMap(
          call("SQS", "ReceiveMessage", (signal) =>
            sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: batchLimit, WaitTimeSeconds: waitTimeSeconds }), { abortSignal: signal })),
          (answer) => {
            const received = answer.Messages ?? []
            // An empty poll is progress too: `awaitIdle` looks again, whatever SQS's approximate counts said before.
            if (received.length === 0) return Effect.sync(() => consumeOptions.settled?.())
            const messages: Array<Message.CommandMessage> = []
            const handled: Array<SqsMessage> = []
            for (const sqsMessage of received) {
              const decoded = decodeMessage(sqsMessage.Body ?? "")
              if (Result.isSuccess(decoded)) {
                messages.push(decoded.success)
                handled.push(sqsMessage)
              }
            }
            const unreadable = received.length - handled.length
            return Effect.gen(function*() {
              // Not ours to guess: left undeleted, it reaches the dead-letter queue after maxReceiveCount receives.
              if (unreadable > 0) yield* Effect.logError(`${unreadable} message(s) in ${url} are not commands; they go to its dead-letter queue`)
              if (messages.length === 0) return
              yield* Effect.raceFirst(consumeOptions.handle(messages), Effect.andThen(keepInvisible(url, handled), Effect.never))
              yield* deleteAll(url, handled)
              consumeOptions.settled?.()
            })
          }
        )

      const pollForever = (url: string, consumeOptions: CommandTopic.ConsumeOptions) =>
        Effect.forever(Effect.catch(poll(url, consumeOptions), (error) =>
          Effect.andThen(Effect.logWarning(`polling ${url}: ${error.message}`), Effect.sleep("1 second"))))

      return CommandTopic.CommandTopic.of({
        publish,
        consume: (consumeOptions) =>
          Effect.gen(function*() {
            const components = consumeOptions.components ?? []
            const pollers = Math.max(1, Math.ceil(consumeOptions.concurrency / batchLimit))
            for (const component of components) {
              const queue = yield* Effect.orDie(queueOf(component))
              consumed.push(queue.url)
              for (let i = 0; i < pollers; i++) yield* Effect.forkScoped(pollForever(queue.url, consumeOptions))
            }
          }),
        pending: Effect.map(
          Effect.forEach(consumed, (url) =>
            Effect.orElseSucceed(
              Effect.map(
                call("SQS", "GetQueueAttributes", (signal) =>
                  sqs.send(
                    new GetQueueAttributesCommand({
                      QueueUrl: url,
                      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]
                    }),
                    { abortSignal: signal }
                  )),
                (answer) =>
                  Number(answer.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(answer.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) +
                  Number(answer.Attributes?.ApproximateNumberOfMessagesDelayed ?? 0)
              ),
              // Unknown counts as busy: awaitIdle looks again after the next bit of progress.
              () => 1
            ), { concurrency: "unbounded" }),
          (counts) => counts.reduce((sum, n) => sum + n, 0)
        )
      })
    })
  )
