/**
 * Tasks triggered by S3: the ObjectCreated notification arrives on the bucket's queue exactly as
 * S3 would post it (fauxqs sends none, so the test posts it), the task reads the object from S3
 * and publishes its commands; S3's test event is dropped; a notification is deleted only once its
 * task is done.
 */
import { assert, describe, it } from "@effect/vitest"
import { PutObjectCommand } from "@aws-sdk/client-s3"
import { SendMessageBatchCommand, SendMessageCommand } from "@aws-sdk/client-sqs"
import { BlobStore, EventStore, Plugin, Runtime, Task } from "@reventless/core"
import { Ledger } from "@reventless/testing"
import { Context, Effect, Layer } from "effect"
import { AwsClients, Names, S3BlobStore } from "../src/index.ts"
import { fauxqs, freshDatabase, freshPrefix, platformOn } from "./support.ts"

const server = await fauxqs()

/** How often the task ran, per key. */
const runs = new Map<string, number>()

/** Each uploaded line `ledger,seq` records that entry. */
const Entries = Task.make({
  name: "Entries",
  buckets: [
    Task.bucket("entries", (blob) =>
      Effect.gen(function*() {
        runs.set(blob.key, (runs.get(blob.key) ?? 0) + 1)
        const body = yield* Effect.flatMap(Effect.service(BlobStore.BlobStore), (blobs) => blobs.get(blob.bucket, blob.key))
        const lines = new TextDecoder().decode(body).trim().split("\n")
        return [Task.publishCommands(Ledger.Ledger, lines.map((line, row) => {
          const [id, seq] = line.split(",")
          return { id: id!, msgId: `${blob.key}:${blob.sequencer}:${row}`, command: Ledger.Record.make({ seq: Number(seq) }) }
        }))]
      }))
  ]
})

const Books = Plugin.make({ name: "Books", heartbeatInterval: 5, aggregates: [Ledger.Ledger], tasks: [Entries] })

describe("S3BlobStore", () => {
  it.live("a task runs from the ObjectCreated notification S3 posts on the bucket's queue, reads the object, and its notification is then deleted", () =>
    Effect.gen(function*() {
      const prefix = freshPrefix("s3")
      const url = yield* freshDatabase("s3")
      const context = yield* Layer.build(Runtime.layer({ plugins: [Books] }).pipe(
        // notify off: as on AWS, the store posts nothing; S3 does.
        Layer.provideMerge(platformOn({ endpoint: server.address, url, resources: { prefix, create: true }, notify: false }))
      ))
      const runtime = Context.get(context, Runtime.Runtime)
      const store = Context.get(context, EventStore.EventStore)
      const { s3, sqs } = Context.get(context, AwsClients.AwsClients)
      const bucket = Names.bucket(prefix, "entries")
      const queue = Names.notificationQueue(prefix, "entries")
      const key = "uploads/day one.csv"

      // The task starts receiving, and so makes its bucket and queue ready, as the runtime starts.
      for (let i = 0; i < 50 && server.inspectQueue(queue) === undefined; i++) yield* Effect.sleep("100 millis")
      assert.isDefined(server.inspectQueue(queue), "the task's notification queue was not made at start")
      const queueUrl = server.inspectQueue(queue)!.url
      yield* Effect.promise(() => sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ Service: "Amazon S3", Event: "s3:TestEvent", Bucket: bucket }) })))
      yield* Effect.promise(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: "ledger-1,1\nledger-1,2\nledger-2,7\n" })))
      yield* Effect.promise(() =>
        sqs.send(new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: S3BlobStore.objectCreatedMessage(bucket, { key, eventName: "ObjectCreated:Put", size: 33, etag: "e", sequencer: "0055AED6DCD90281E5" })
        })))
      // What S3 really sends encodes the key: a space is "+".
      assert.include(S3BlobStore.objectCreatedMessage(bucket, { key, eventName: "ObjectCreated:Put", size: 1, etag: "e", sequencer: "1" }), `"key":"uploads/day+one.csv"`)

      for (let i = 0; i < 100 && (yield* store.readStream("Books.Ledger", "ledger-2")).length === 0; i++) yield* Effect.sleep("100 millis")
      yield* runtime.awaitIdle
      assert.deepStrictEqual((yield* store.readStream("Books.Ledger", "ledger-1")).map((event) => event.data), [
        { _tag: "Recorded", seq: 1, previous: 0 },
        { _tag: "Recorded", seq: 2, previous: 1 }
      ])
      assert.deepStrictEqual((yield* store.readStream("Books.Ledger", "ledger-2")).map((event) => event.data), [{ _tag: "Recorded", seq: 7, previous: 0 }])
      const left = server.inspectQueue(queue)!.messages
      assert.deepStrictEqual([left.ready.length, left.inflight.length], [0, 0], "a notification outlived its task")
      assert.deepStrictEqual(yield* runtime.deadLetters.list(), [])
    }))

  it.live("a notification S3 delivers twice is acknowledged twice: neither message stays behind to come back", () =>
    Effect.gen(function*() {
      const prefix = freshPrefix("s3twice")
      const url = yield* freshDatabase("s3twice")
      const context = yield* Layer.build(Runtime.layer({ plugins: [Books] }).pipe(
        Layer.provideMerge(platformOn({ endpoint: server.address, url, resources: { prefix, create: true, visibilityTimeoutSeconds: 2 }, notify: false }))
      ))
      const runtime = Context.get(context, Runtime.Runtime)
      const store = Context.get(context, EventStore.EventStore)
      const { s3, sqs } = Context.get(context, AwsClients.AwsClients)
      const bucket = Names.bucket(prefix, "entries")
      const queue = Names.notificationQueue(prefix, "entries")
      for (let i = 0; i < 50 && server.inspectQueue(queue) === undefined; i++) yield* Effect.sleep("100 millis")
      yield* Effect.promise(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: "once.csv", Body: "ledger-9,1\n" })))
      const body = S3BlobStore.objectCreatedMessage(bucket, { key: "once.csv", eventName: "ObjectCreated:Put", size: 11, etag: "e", sequencer: "0A" })
      // S3 delivers at least once: the same record, twice, in one receive.
      yield* Effect.promise(() =>
        sqs.send(new SendMessageBatchCommand({ QueueUrl: server.inspectQueue(queue)!.url, Entries: [{ Id: "1", MessageBody: body }, { Id: "2", MessageBody: body }] })))
      for (let i = 0; i < 100 && (yield* store.readStream("Books.Ledger", "ledger-9")).length === 0; i++) yield* Effect.sleep("100 millis")
      yield* runtime.awaitIdle
      yield* Effect.sleep("3 seconds")
      const left = server.inspectQueue(queue)!.messages
      assert.deepStrictEqual([left.ready.length, left.inflight.length], [0, 0], "a notification message stayed behind")
      assert.strictEqual((yield* store.readStream("Books.Ledger", "ledger-9")).length, 1, "the task's command ran more than once")
      assert.strictEqual(runs.get("once.csv"), 2, "a delivery came back after its visibility timeout")
    }))

  it.live("put and get round-trip bytes; a missing key is BlobNotFound", () =>
    Effect.gen(function*() {
      const url = yield* freshDatabase("blobs")
      const blobs = Context.get(
        yield* Layer.build(platformOn({ endpoint: server.address, url, resources: { prefix: freshPrefix("blobs"), create: true } })),
        BlobStore.BlobStore
      )
      const body = new Uint8Array([0, 1, 2, 254, 255])
      const created = yield* blobs.put("files", "a/b.bin", body)
      assert.deepStrictEqual([created.bucket, created.key, created.size], ["files", "a/b.bin", 5])
      assert.deepStrictEqual(yield* blobs.get("files", "a/b.bin"), body)
      const missing = yield* Effect.flip(blobs.get("files", "nope"))
      assert.strictEqual(missing._tag, "BlobNotFound")
      // notify on (emulators): the put posted the notification itself.
      const received = yield* blobs.receive("files")
      assert.deepStrictEqual([received.key, received.sequencer], ["a/b.bin", created.sequencer])
    }))
})
