/**
 * Blobs on S3, task triggers from S3's ObjectCreated notifications on an SQS queue per bucket
 * (`<prefix>-<bucket>-created`): the task reads the bucket and key from the notification and the
 * object from S3. A notification message is deleted once every record in it is acknowledged, and
 * kept invisible while its task runs; one that is never acknowledged reappears after the
 * visibility timeout and, after `maxReceiveCount` receives, moves to the queue's dead-letter
 * queue.
 *
 * Emulators without S3 notifications (fauxqs) get them from the store itself: with `notify`, a
 * `put` posts the same notification message S3 would.
 *
 * @since 0.1.0
 */
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3"
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand
} from "@aws-sdk/client-sqs"
import { BlobStore, Errors } from "@reventless/core"
import { Effect, Layer, Queue, Schedule, Schema, Scope } from "effect"
import { AwsClients, call } from "./AwsClients.ts"
import { approximateCount, graceFor, halfVisibility, release, resilient, setVisibility, untilClosed, waitTimeOf } from "./internal/receive.ts"
import * as Names from "./Names.ts"
import { Resources } from "./Resources.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Post the ObjectCreated notification on `put` (for emulators without S3 notifications). */
  readonly notify?: boolean | undefined
  /** Seconds a receive waits for notifications (long polling, 1 to 20; default 20). */
  readonly waitTimeSeconds?: number | undefined
}

/** The parts of an S3 event notification we read (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html). */
const S3Event = Schema.Struct({
  Records: Schema.Array(Schema.Struct({
    eventName: Schema.String,
    s3: Schema.Struct({
      bucket: Schema.Struct({ name: Schema.String }),
      object: Schema.Struct({
        key: Schema.String,
        size: Schema.optional(Schema.Number),
        eTag: Schema.optional(Schema.String),
        sequencer: Schema.optional(Schema.String)
      })
    })
  }))
})
const decodeS3Event = Schema.decodeUnknownResult(Schema.fromJsonString(S3Event))

/** S3 form-encodes keys in notifications (a space is `+`); a malformed escape is kept as it came. */
const decodeKey = (key: string) => {
  try {
    return decodeURIComponent(key.replace(/\+/g, " "))
  } catch {
    return key
  }
}
const encodeKey = (key: string) => encodeURIComponent(key).replace(/%20/g, "+").replace(/%2F/g, "/")

/**
 * The notification S3 sends for one created object.
 *
 * @since 0.1.0
 * @category constructors
 */
export const objectCreatedMessage = (physicalBucket: string, created: Omit<BlobStore.BlobCreated, "bucket">): string =>
  JSON.stringify({
    Records: [{
      eventVersion: "2.1",
      eventSource: "aws:s3",
      eventName: created.eventName,
      eventTime: new Date().toISOString(),
      s3: {
        s3SchemaVersion: "1.0",
        bucket: { name: physicalBucket, arn: `arn:aws:s3:::${physicalBucket}` },
        object: { key: encodeKey(created.key), size: created.size, eTag: created.etag, sequencer: created.sequencer }
      }
    }]
  })

/** A received notification message and how many of its records are not acknowledged yet. */
interface Delivery {
  readonly url: string
  readonly receiptHandle: string
  open: number
}

const identity = (notification: BlobStore.BlobCreated) => `${notification.bucket}\u0000${notification.key}\u0000${notification.sequencer}`

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<BlobStore.BlobStore, never, AwsClients | Resources> =>
  Layer.effect(
    BlobStore.BlobStore,
    Effect.gen(function*() {
      const { s3, sqs } = yield* AwsClients
      const scope = yield* Effect.scope
      const resources = yield* Resources
      const prefix = resources.options.prefix
      const visibility = resources.options.visibilityTimeoutSeconds
      const waitTimeSeconds = waitTimeOf(options.waitTimeSeconds)
      /** The bucket and its notification queue, made ready once. */
      const ready = (bucket: string) =>
        Effect.flatMap(resources.standardQueue(Names.notificationQueue(prefix, bucket)), (queue) =>
          Effect.as(resources.bucket(Names.bucket(prefix, bucket), queue), queue))
      /** Received, unacknowledged notifications: the deliveries that carried each, oldest first. */
      const inFlight = new Map<string, Array<Delivery>>()
      const buffers = new Map<string, Queue.Queue<BlobStore.BlobCreated>>()
      const watched: Array<string> = []
      let sequence = 0

      const post = (notification: BlobStore.BlobCreated) =>
        Effect.flatMap(ready(notification.bucket), (queue) =>
          call("SQS", "SendMessage", (signal) =>
            sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: objectCreatedMessage(Names.bucket(prefix, notification.bucket), notification) }), {
              abortSignal: signal
            })))

      /** Moves the next received notifications of `bucket` into its buffer (gives them back when stopping). */
      const fill = (bucket: string, url: string, buffer: Queue.Queue<BlobStore.BlobCreated>, stopping: () => boolean) =>
        Effect.flatMap(
          call("SQS", "ReceiveMessage", (signal) =>
            sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: waitTimeSeconds }), { abortSignal: signal })),
          (answer) => stopping() ? release(sqs, url, answer.Messages ?? []) :
            Effect.forEach(answer.Messages ?? [], (message) => {
              const remove = call("SQS", "DeleteMessage", (signal) => sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle! }), { abortSignal: signal }))
              if ((message.Body ?? "").includes(`"s3:TestEvent"`)) return remove
              const decoded = decodeS3Event(message.Body ?? "")
              if (decoded._tag === "Failure") return Effect.logError(`a message in ${url} is not an S3 notification; it goes to the dead-letter queue`)
              const created = decoded.success.Records.filter((record) => record.eventName.startsWith("ObjectCreated"))
              if (created.length === 0) return remove
              const delivery: Delivery = { url, receiptHandle: message.ReceiptHandle!, open: created.length }
              return Effect.sync(() => {
                for (const record of created) {
                  const notification: BlobStore.BlobCreated = {
                    bucket,
                    key: decodeKey(record.s3.object.key),
                    eventName: record.eventName,
                    size: record.s3.object.size ?? 0,
                    etag: (record.s3.object.eTag ?? "").replace(/"/g, ""),
                    sequencer: record.s3.object.sequencer ?? message.MessageId ?? ""
                  }
                  const carriers = inFlight.get(identity(notification))
                  if (carriers === undefined) inFlight.set(identity(notification), [delivery])
                  else carriers.push(delivery)
                  Queue.offerUnsafe(buffer, notification)
                }
              })
            }, { discard: true })
        )

      /** The receipt handles of received, unacknowledged notification messages, by queue. */
      const unacknowledged = () => {
        const byQueue = new Map<string, Map<string, { readonly ReceiptHandle: string }>>()
        for (const delivery of [...inFlight.values()].flat()) {
          let handles = byQueue.get(delivery.url)
          if (handles === undefined) byQueue.set(delivery.url, handles = new Map())
          handles.set(delivery.receiptHandle, { ReceiptHandle: delivery.receiptHandle })
        }
        return [...byQueue].map(([url, handles]) => [url, [...handles.values()]] as const)
      }
      /** Keeps them invisible while their tasks run. */
      yield* Effect.forkScoped(Effect.repeat(
        Effect.suspend(() => Effect.forEach(unacknowledged(), ([url, handles]) => setVisibility(sqs, url, handles, visibility), { discard: true })),
        Schedule.spaced(halfVisibility(visibility))
      ))
      // ...and gives them back at once when the store closes.
      yield* Effect.addFinalizer(() => Effect.suspend(() => Effect.forEach(unacknowledged(), ([url, handles]) => release(sqs, url, handles), { discard: true })))

      const bufferOf = (bucket: string): Effect.Effect<Queue.Queue<BlobStore.BlobCreated>, Errors.InfrastructureError> =>
        Effect.suspend(() => {
          const existing = buffers.get(bucket)
          if (existing !== undefined) return Effect.succeed(existing)
          return Effect.gen(function*() {
            const queue = yield* ready(bucket)
            const raced = buffers.get(bucket)
            if (raced !== undefined) return raced
            const buffer = yield* Queue.unbounded<BlobStore.BlobCreated>()
            buffers.set(bucket, buffer)
            watched.push(queue.url)
            const loop = (stopping: () => boolean): Effect.Effect<void> =>
              Effect.suspend(() =>
                stopping() ? Effect.void : Effect.andThen(
                  resilient(queue.url, Effect.flatMap(Queue.size(buffer), (size) => size > 0 ? Effect.sleep("50 millis") : fill(bucket, queue.url, buffer, stopping))),
                  loop(stopping)
                ))
            yield* Scope.provide(untilClosed([loop], graceFor(waitTimeSeconds)), scope)
            return buffer
          })
        })

      return BlobStore.BlobStore.of({
        put: (bucket, key, body) =>
          Effect.gen(function*() {
            yield* ready(bucket)
            const answer = yield* call("S3", "PutObject", (signal) =>
              s3.send(new PutObjectCommand({ Bucket: Names.bucket(prefix, bucket), Key: key, Body: body }), { abortSignal: signal }))
            const notification: BlobStore.BlobCreated = {
              bucket,
              key,
              eventName: "ObjectCreated:Put",
              size: body.byteLength,
              etag: (answer.ETag ?? BlobStore.contentHash(body)).replace(/"/g, ""),
              sequencer: `${Date.now().toString(16).toUpperCase()}${(++sequence).toString(16).toUpperCase().padStart(6, "0")}`
            }
            if (options.notify === true) yield* post(notification)
            return notification
          }),
        get: (bucket, key) =>
          Effect.flatMap(
            call("S3", "GetObject", (signal) => s3.send(new GetObjectCommand({ Bucket: Names.bucket(prefix, bucket), Key: key }), { abortSignal: signal }), (name) =>
              name === "NoSuchKey" || name === "NoSuchBucket" || name === "NotFound" ? new BlobStore.BlobNotFound({ bucket, key }) : undefined),
            (answer) => call("S3", "GetObject", () => answer.Body!.transformToByteArray())
          ),
        receive: (bucket) => Effect.flatMap(bufferOf(bucket), Queue.take),
        ack: (notification) =>
          Effect.suspend(() => {
            // The same object notified twice is two records: each acknowledgement settles one.
            const carriers = inFlight.get(identity(notification))
            const delivery = carriers?.shift()
            if (delivery === undefined) return Effect.void
            if (carriers!.length === 0) inFlight.delete(identity(notification))
            delivery.open--
            if (delivery.open > 0) return Effect.void
            return Effect.asVoid(call("SQS", "DeleteMessage", (signal) =>
              sqs.send(new DeleteMessageCommand({ QueueUrl: delivery.url, ReceiptHandle: delivery.receiptHandle }), { abortSignal: signal })))
          }),
        redeliver: post,
        pending: Effect.map(Effect.forEach(watched, (url) => approximateCount(sqs, url), { concurrency: "unbounded" }), (counts) => counts.reduce((sum, n) => sum + n, 0))
      })
    })
  )
