/**
 * The consuming side every SQS-backed service shares: long-poll a queue, decode each body, hand
 * what decoded to a handler while keeping it invisible to other consumers, delete it once
 * handled. A body that does not decode is left alone: after `maxReceiveCount` receives SQS moves
 * it to the queue's dead-letter queue. A handler failure that may pass keeps the batch, invisible,
 * and tries it again; one that cannot lets it go there too; a consumer that dies leaves it to
 * reappear after the visibility timeout.
 *
 * Stopping never cuts a long poll short: SQS (and fauxqs) may hand messages to a receive whose
 * connection is already gone, and those stay invisible for the whole visibility timeout. A
 * consumer asked to stop lets its current poll finish, gives back what that poll brought (visible
 * again at once), and finishes the batch it is handling, within a grace period.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message as SqsMessage,
  ReceiveMessageCommand,
  type SQSClient
} from "@aws-sdk/client-sqs"
import { Errors } from "@reventless/core"
import { type Duration, Effect, Fiber, Schedule, type Scope } from "effect"
import { call } from "../AwsClients.ts"

/** SQS's limit of entries per batch request. */
export const batchLimit = 10

/** Splits into runs of at most `size`. */
export const chunks = <A>(items: ReadonlyArray<A>, size: number): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

export interface ReceiveOptions<A> {
  readonly sqs: SQSClient
  readonly url: string
  readonly waitTimeSeconds: number
  readonly visibilityTimeoutSeconds: number
  /** The body's value, or undefined when it is not one. */
  readonly decode: (body: string) => A | undefined
  readonly handle: (values: ReadonlyArray<A>) => Effect.Effect<void, Errors.InfrastructureError>
  /** Called after every poll, handled or empty (a progress signal). */
  readonly polled?: (() => void) | undefined
}

/** How long a receive waits: the option, within SQS's 1 to 20 seconds (default 20). */
export const waitTimeOf = (option: number | undefined): number => Math.min(20, Math.max(1, option ?? 20))

/**
 * Sets how long received messages stay invisible from now (0: visible again at once), in batches
 * of 10; a handle SQS no longer knows is let go (its message comes back anyway).
 */
export const setVisibility = (sqs: SQSClient, url: string, received: ReadonlyArray<{ readonly ReceiptHandle?: string | undefined }>, seconds: number) =>
  Effect.forEach(chunks(received, batchLimit), (chunk) =>
    Effect.ignore(call("SQS", "ChangeMessageVisibilityBatch", (signal) =>
      sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: url,
          Entries: chunk.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: seconds }))
        }),
        { abortSignal: signal }
      ))), { discard: true })

/** Makes received messages visible again at once, for another consumer. */
export const release = (sqs: SQSClient, url: string, received: ReadonlyArray<{ readonly ReceiptHandle?: string | undefined }>) =>
  setVisibility(sqs, url, received, 0)

/** Every half visibility timeout, from then on: the pace of keeping messages invisible. */
export const halfVisibility = (seconds: number) => `${Math.max(1, Math.floor(seconds / 2))} seconds` as const

/** Keeps a batch invisible while its handler runs past half the visibility timeout. */
const keepInvisible = (sqs: SQSClient, url: string, received: ReadonlyArray<SqsMessage>, seconds: number) =>
  Effect.repeat(setVisibility(sqs, url, received, seconds), Schedule.spaced(halfVisibility(seconds))).pipe(Effect.delay(halfVisibility(seconds)))

/**
 * SQS's approximate count of a queue's messages: waiting, received and not yet deleted, and
 * delayed (what `pending` reports).
 */
export const approximateCount = (sqs: SQSClient, url: string): Effect.Effect<number, Errors.InfrastructureError> =>
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
  )

/** Deletes handled messages; one SQS could not delete comes again (a no-op by msgId), and is said so. */
const deleteAll = (sqs: SQSClient, url: string, received: ReadonlyArray<SqsMessage>) =>
  Effect.forEach(chunks(received, batchLimit), (chunk) =>
    Effect.flatMap(
      call("SQS", "DeleteMessageBatch", (signal) =>
        sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: chunk.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }), {
          abortSignal: signal
        })),
      (answer) =>
        (answer.Failed ?? []).length === 0
          ? Effect.void
          : Effect.logWarning(`${url}: ${(answer.Failed ?? []).length} handled message(s) not deleted, they will come again: ${(answer.Failed ?? []).map((f) => f.Code).join(", ")}`)
    ), { discard: true })

/** One receive and its handling; what arrives once `stopping()` holds is released instead. */
const receiveOnce = <A>(options: ReceiveOptions<A>, stopping: () => boolean): Effect.Effect<void, Errors.InfrastructureError> =>
  Effect.flatMap(
    call("SQS", "ReceiveMessage", (signal) =>
      options.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: options.url,
          MaxNumberOfMessages: batchLimit,
          WaitTimeSeconds: options.waitTimeSeconds,
          // Ours, whatever the queue was made with: the extensions below count on it.
          VisibilityTimeout: options.visibilityTimeoutSeconds
        }),
        { abortSignal: signal }
      )),
    (answer) =>
      Effect.gen(function*() {
        if (stopping()) return yield* release(options.sqs, options.url, answer.Messages ?? [])
        const values: Array<A> = []
        const received: Array<SqsMessage> = []
        for (const message of answer.Messages ?? []) {
          const value = options.decode(message.Body ?? "")
          if (value === undefined) continue
          values.push(value)
          received.push(message)
        }
        const unreadable = (answer.Messages ?? []).length - received.length
        if (unreadable > 0) yield* Effect.logError(`${unreadable} unreadable message(s) in ${options.url}: left for its dead-letter queue`)
        if (values.length > 0) {
          // A handling that failed and may pass (the stores are down) keeps its batch here,
          // invisible, and tries again: received again and again instead, it would reach the
          // dead-letter queue after maxReceiveCount receives. One that cannot pass (a message the
          // stores refuse even as a storable copy) is handled again message by message: what
          // passes is deleted, what cannot is let go, to come back after the visibility timeout
          // and reach the dead-letter queue once SQS has counted maxReceiveCount receives.
          const handled = (batch: ReadonlyArray<A>) => Errors.whileItMayPass(`handling a batch from ${options.url}`, options.handle(batch))
          yield* Effect.raceFirst(
            Effect.matchEffect(handled(values), {
              onSuccess: () => deleteAll(options.sqs, options.url, received),
              onFailure: () =>
                Effect.forEach(values, (value, i) =>
                  Effect.matchEffect(handled([value]), {
                    onFailure: (error) => Effect.logError(`a message from ${options.url} cannot be handled, left for its dead-letter queue: ${error.message}`),
                    onSuccess: () => deleteAll(options.sqs, options.url, [received[i]!])
                  }), { discard: true })
            }),
            Effect.andThen(keepInvisible(options.sqs, options.url, received, options.visibilityTimeoutSeconds), Effect.never)
          )
        }
        options.polled?.()
      })
  )

/**
 * Runs polling loops until the scope closes, then stops them together and gracefully:
 * `stopping` turns true for all, they get `grace` to end on their own (a poll returns within its
 * wait time), and whatever still runs is interrupted.
 */
export const untilClosed = (
  loops: ReadonlyArray<(stopping: () => boolean) => Effect.Effect<void>>,
  grace: Duration.Input
): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function*() {
    let stopping = false
    const fibers = yield* Effect.forEach(loops, (loop) => Effect.forkDetach(loop(() => stopping)))
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        stopping = true
        return Effect.asVoid(Effect.timeoutOrElse(Fiber.awaitAll(fibers), {
          duration: grace,
          orElse: () => Effect.forEach(fibers, Fiber.interrupt, { discard: true })
        }))
      }))
  })

/** One round of a polling loop that must go on: a failure, even a defect, is logged and waited out. */
export const resilient = (url: string, round: Effect.Effect<void, Errors.InfrastructureError>): Effect.Effect<void> =>
  Effect.catchDefect(
    Effect.catch(round, (error) => Effect.andThen(Effect.logWarning(`receiving from ${url}: ${error.message}`), Effect.sleep("1 second"))),
    (defect) => Effect.andThen(Effect.logError(`receiving from ${url} died: ${String(defect)}`), Effect.sleep("1 second"))
  )

/** A loop that receives until `stopping()`; failures are logged and polling goes on after a pause. */
export const receiveLoop = <A>(options: ReceiveOptions<A>) => (stopping: () => boolean): Effect.Effect<void> => {
  const loop: Effect.Effect<void> = Effect.suspend(() =>
    stopping() ? Effect.void : Effect.andThen(resilient(options.url, receiveOnce(options, stopping)), loop))
  return loop
}

/** How long a stopping loop may take: its poll's wait, and a little for the batch it handles. */
export const graceFor = (waitTimeSeconds: number): Duration.Input => `${waitTimeSeconds + 5} seconds`
