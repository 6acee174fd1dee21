/**
 * Buckets of blobs, and the notifications that a blob was created, which trigger tasks (as S3
 * ObjectCreated notifications on an SQS queue do on AWS). A notification is delivered at least
 * once: it stays pending until the task that received it acknowledges it.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Queue, Schema } from "effect"
import { createHash } from "node:crypto"
import type { InfrastructureError } from "./Errors.ts"

/**
 * @since 0.1.0
 * @category models
 */
export const BlobCreated = Schema.Struct({
  bucket: Schema.String,
  key: Schema.String,
  eventName: Schema.String,
  size: Schema.Int,
  /** SHA-256 of the content, hex. */
  etag: Schema.String,
  /** Orders notifications of one key; distinct for every upload. */
  sequencer: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
export type BlobCreated = typeof BlobCreated.Type

/**
 * @since 0.1.0
 * @category errors
 */
export class BlobNotFound extends Schema.TaggedError<BlobNotFound>()("BlobNotFound", {
  bucket: Schema.String,
  key: Schema.String
}) {
  override get message(): string {
    return `no blob "${this.key}" in bucket "${this.bucket}"`
  }
}

/**
 * @since 0.1.0
 * @category services
 */
export class BlobStore extends Context.Service<BlobStore, {
  readonly put: (bucket: string, key: string, body: Uint8Array) => Effect.Effect<BlobCreated, InfrastructureError>
  readonly get: (bucket: string, key: string) => Effect.Effect<Uint8Array, BlobNotFound | InfrastructureError>
  /** Waits for the next creation notification of a bucket. */
  readonly receive: (bucket: string) => Effect.Effect<BlobCreated, InfrastructureError>
  /** Done with a received notification. */
  readonly ack: (notification: BlobCreated) => Effect.Effect<void, InfrastructureError>
  /** Delivers a notification again (a replayed dead letter). */
  readonly redeliver: (notification: BlobCreated) => Effect.Effect<void, InfrastructureError>
  /** Notifications not yet acknowledged. */
  readonly pending: Effect.Effect<number, InfrastructureError>
}>()("@reventless/core/BlobStore") {}

/**
 * The content hash used as etag.
 *
 * @since 0.1.0
 * @category utils
 */
export const contentHash = (body: Uint8Array): string => createHash("sha256").update(body).digest("hex")

/**
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<BlobStore> = Layer.sync(BlobStore, () => {
  const blobs = new Map<string, Uint8Array>()
  const queues = new Map<string, Queue.Queue<BlobCreated>>()
  let sequence = 0
  let pending = 0
  /** The bucket's notification queue, made on first use. */
  const queue = (bucket: string): Effect.Effect<Queue.Queue<BlobCreated>> =>
    Effect.suspend(() => {
      const existing = queues.get(bucket)
      if (existing !== undefined) return Effect.succeed(existing)
      return Effect.map(Queue.unbounded<BlobCreated>(), (made) => {
        const raced = queues.get(bucket)
        if (raced !== undefined) return raced
        queues.set(bucket, made)
        return made
      })
    })
  const notify = (notification: BlobCreated) =>
    Effect.map(queue(notification.bucket), (q) => {
      pending++
      Queue.offerUnsafe(q, notification)
    })
  return BlobStore.of({
    put: (bucket, key, body) =>
      Effect.suspend(() => {
        blobs.set(`${bucket}/${key}`, body)
        const notification: BlobCreated = {
          bucket,
          key,
          eventName: "ObjectCreated:Put",
          size: body.byteLength,
          etag: contentHash(body),
          sequencer: String(++sequence).padStart(16, "0")
        }
        return Effect.as(notify(notification), notification)
      }),
    get: (bucket, key) =>
      Effect.suspend(() => {
        const body = blobs.get(`${bucket}/${key}`)
        return body === undefined ? Effect.fail(new BlobNotFound({ bucket, key })) : Effect.succeed(body)
      }),
    receive: (bucket) => Effect.flatMap(queue(bucket), Queue.take),
    ack: () => Effect.sync(() => void pending--),
    redeliver: notify,
    pending: Effect.sync(() => pending)
  })
})
