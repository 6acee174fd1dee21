/**
 * Extension-point events across deployments on SNS FIFO: the owner's relay publishes each stored
 * event to the extension point's topic (`<prefix>-<plugin>-<extension point>-events.fifo`), with
 * the event's stream as MessageGroupId (order per stream) and its id as MessageDeduplicationId
 * (a relay that publishes again within SNS's window is dropped there). Each subscribing extension
 * has its own FIFO queue (`<prefix>-<plugin>-<extension point>-<subscriber>.fifo`, raw delivery);
 * the runtime imports what arrives into the subscriber's log once per event id.
 *
 * SNS does not replay: a subscriber whose queue is subscribed later gets the past with
 * `backfill`.
 *
 * @since 0.1.0
 */
import { PublishBatchCommand } from "@aws-sdk/client-sns"
import { Errors, Event, EventStore, ExtensionPointTopic } from "@reventless/core"
import { Effect, Layer, Result, Schema } from "effect"
import { AwsClients, call } from "./AwsClients.ts"
import { graceFor, receiveLoop, untilClosed, waitTimeOf } from "./internal/receive.ts"
import { batchesOf, bodyOf, messageBytes, type RefusedEntry, refusedEntries, refuseOversized, sendToFifoQueue } from "./internal/send.ts"
import * as Names from "./Names.ts"
import { Resources } from "./Resources.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Seconds a receive waits for events (long polling, 1 to 20; default 20). */
  readonly waitTimeSeconds?: number | undefined
}

const decodeEnvelope = Schema.decodeUnknownResult(Schema.fromJsonString(Event.Envelope))

/** The group of an event: its stream, so each stream's events stay in order. */
const groupOf = (event: Event.Envelope) => Names.messageId(event.streamId === "" ? "(none)" : event.streamId)

/** An event with its body, ready to send. */
interface Outgoing {
  readonly event: Event.Envelope
  readonly body: string
}
const outgoingOf = (events: ReadonlyArray<Event.Envelope>) => events.map((event): Outgoing => ({ event, body: bodyOf(event) }))

const refused = (operation: string, failed: ReadonlyArray<RefusedEntry>, batch: ReadonlyArray<Outgoing>) =>
  refusedEntries("ExtensionPointTopic", operation, "events", failed, batch, ({ event }) => event.id)

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<ExtensionPointTopic.ExtensionPointTopic, never, AwsClients | Resources> =>
  Layer.effect(
    ExtensionPointTopic.ExtensionPointTopic,
    Effect.gen(function*() {
      const { sns, sqs } = yield* AwsClients
      const resources = yield* Resources
      const prefix = resources.options.prefix
      const waitTimeSeconds = waitTimeOf(options.waitTimeSeconds)

      const publishBatch = (topicArn: string, batch: ReadonlyArray<Outgoing>) =>
        Effect.flatMap(
          call("SNS", "PublishBatch", (signal) =>
            sns.send(
              new PublishBatchCommand({
                TopicArn: topicArn,
                PublishBatchRequestEntries: batch.map(({ body, event }, i) => ({
                  Id: String(i),
                  Message: body,
                  MessageGroupId: groupOf(event),
                  MessageDeduplicationId: Names.messageId(event.id)
                }))
              }),
              { abortSignal: signal }
            )),
          (answer) => (answer.Failed ?? []).length === 0 ? Effect.void : Effect.fail(refused("publish", answer.Failed ?? [], batch))
        )

      return ExtensionPointTopic.ExtensionPointTopic.of({
        crossesDeployments: true,
        publish: (extensionPoint, events) =>
          Effect.suspend(() => {
            if (events.length === 0) return Effect.void
            const outgoing = outgoingOf(events)
            return Effect.andThen(
              refuseOversized("ExtensionPointTopic", outgoing, messageBytes.sns, ({ event }) => `event ${event.id}`),
              Effect.flatMap(resources.fifoTopic(Names.extensionPointTopic(prefix, extensionPoint)), (topicArn) =>
                Effect.forEach(batchesOf(outgoing), (batch) => publishBatch(topicArn, batch), { discard: true }))
            )
          }),
        subscribe: (extensionPoint, subscriber, handle) =>
          Effect.gen(function*() {
            const topicArn = yield* resources.fifoTopic(Names.extensionPointTopic(prefix, extensionPoint))
            const queue = yield* resources.fifoQueue(Names.subscriberQueue(prefix, extensionPoint, subscriber))
            yield* resources.subscribe(topicArn, queue)
            yield* untilClosed([receiveLoop({
              sqs,
              url: queue.url,
              waitTimeSeconds,
              visibilityTimeoutSeconds: resources.options.visibilityTimeoutSeconds,
              decode: (body) => Result.getOrUndefined(decodeEnvelope(body)),
              handle
            })], graceFor(waitTimeSeconds))
          })
      })
    })
  )

/**
 * Sends an extension point's stored events after position `from` (default: all), read from this
 * deployment's log in order, straight to one subscriber's queue: the past of a subscriber added
 * after they were published. What the subscriber has already is imported once all the same. The
 * deduplication ids are fresh, so SQS's window lets a second backfill through. Returns how many
 * events were sent.
 *
 * Order: the subscriber imports in arrival order, so backfill it before its deployment consumes
 * live events (or only up to where its subscription began, with `from`): an old event that
 * arrives after a newer one of the same stream is imported after it.
 *
 * @since 0.1.0
 * @category backfill
 */
export const backfill = (
  extensionPoint: string,
  subscriber: string,
  options: { readonly from?: Event.Position | undefined } = {}
): Effect.Effect<number, Errors.InfrastructureError, EventStore.EventStore | AwsClients | Resources> =>
  Effect.gen(function*() {
    const { sqs } = yield* AwsClients
    const store = yield* EventStore.EventStore
    const resources = yield* Resources
    const queue = yield* resources.fifoQueue(Names.subscriberQueue(resources.options.prefix, extensionPoint, subscriber))
    const run = Date.now().toString(36)
    const sources = new Set([extensionPoint])
    let after = options.from ?? 0
    let sent = 0
    while (true) {
      const page = yield* store.readAll({ after, limit: 500, sources })
      for (const batch of batchesOf(outgoingOf(page.events))) {
        yield* sendToFifoQueue(
          sqs,
          queue.url,
          batch,
          ({ event }) => ({ group: groupOf(event), deduplication: Names.messageId(`${event.id}:b${run}`) }),
          (failed) => refused("backfill", failed, batch)
        )
        sent += batch.length
      }
      if (page.through <= after) return sent
      after = page.through
    }
  })
