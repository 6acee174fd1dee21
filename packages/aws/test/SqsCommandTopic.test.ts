/**
 * Commands on SQS FIFO (fauxqs): where a command lands, several consumers on one queue, a
 * consumer that stops or runs long, what SQS moves to the dead-letter queue, a poison command
 * parked and replayed, duplicate sends, and a deployment whose queues were never provisioned.
 */
import { assert, describe, it } from "@effect/vitest"
import { SendMessageCommand } from "@aws-sdk/client-sqs"
import { Aggregate, CommandTopic, type DeadLetters, Errors, EventStore, type Message, Plugin, Runtime } from "@reventless/core"
import { Ledger } from "@reventless/testing"
import { Cause, Context, Effect, Exit, Layer, Schema, Scope } from "effect"
import { AwsClients, Names } from "../src/index.ts"
import { fauxqs, freshDatabase, freshPrefix, platformOn } from "./support.ts"

const server = await fauxqs()

const message = (id: string, msgId: string, seq = 1): Message.CommandMessage => ({
  component: "Books.Ledger",
  id,
  msgId,
  meta: { service: "test", time: new Date(0).toISOString(), ip: "", user: "test", msgId, correlationId: msgId },
  command: { _tag: "Record", seq }
})

/** A platform on a fresh database and prefix (or the given ones, to share them between "processes"). */
const platform = (options: { readonly url: string; readonly prefix: string; readonly visibility?: number; readonly maxReceiveCount?: number; readonly create?: boolean }) =>
  platformOn({
    endpoint: server.address,
    url: options.url,
    resources: {
      prefix: options.prefix,
      create: options.create ?? true,
      visibilityTimeoutSeconds: options.visibility ?? 10,
      maxReceiveCount: options.maxReceiveCount ?? 5
    }
  })

const fresh = (name: string) => Effect.map(freshDatabase(name), (url) => ({ url, prefix: freshPrefix(name) }))

const queueOf = (prefix: string) => Names.commandQueue(prefix, "Books.Ledger")
const inQueue = (name: string) => {
  const queue = server.inspectQueue(name)
  return queue === undefined ? [] : [...queue.messages.ready, ...queue.messages.delayed, ...queue.messages.inflight.map((entry) => entry.message)]
}

/** Polls `condition` every 100 ms, up to `seconds`. */
const eventually = (condition: () => boolean, seconds: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < seconds * 10 && !condition(); i++) yield* Effect.sleep("100 millis")
    return condition()
  })

const runtimeOn = (layer: ReturnType<typeof platform>, plugins: ReadonlyArray<Plugin.Plugin<never>> = [Ledger.Books]) =>
  Effect.map(Layer.build(Runtime.layer({ plugins, concurrency: 8 }).pipe(Layer.provideMerge(layer))), (context) => ({
    runtime: Context.get(context, Runtime.Runtime),
    store: Context.get(context, EventStore.EventStore)
  }))

describe("SqsCommandTopic", () => {
  it.live("a command lands in its component's FIFO queue, its instance as group, its msgId as deduplication id; a resend within the window is dropped, a replay is not", () =>
    Effect.gen(function*() {
      const { prefix, url } = yield* fresh("lands")
      const topic = Context.get(yield* Layer.build(platform({ url, prefix })), CommandTopic.CommandTopic)
      yield* topic.publish([message("ledger-1", "m-1")])
      yield* topic.publish([message("ledger-1", "m-1")])
      yield* topic.publish([message("ledger-1", "m-1")], { redelivery: true })
      yield* topic.publish([message("an id with spaces", "m-2")])
      const queued = inQueue(queueOf(prefix))
      assert.strictEqual(queueOf(prefix), `${prefix}-books-ledger.fifo`)
      assert.deepStrictEqual(queued.map((m) => m.messageGroupId), ["ledger-1", "ledger-1", Names.messageId("an id with spaces")])
      assert.strictEqual(queued[0]!.messageDeduplicationId, "m-1")
      assert.notStrictEqual(queued[1]!.messageDeduplicationId, "m-1")
      assert.deepStrictEqual(JSON.parse(queued[0]!.body), message("ledger-1", "m-1"))
    }))

  it.live("big commands go in as many batches as SQS's byte limit needs; one too large is refused at publish, naming it, and nothing of that publish is sent", () =>
    Effect.gen(function*() {
      const { prefix, url } = yield* fresh("sizes")
      const topic = Context.get(yield* Layer.build(platform({ url, prefix })), CommandTopic.CommandTopic)
      const sized = (id: string, msgId: string, bytes: number, extra = ""): Message.CommandMessage => ({ ...message(id, msgId), command: { _tag: "Record", seq: 1, note: "x".repeat(bytes) + extra } })
      // Ten of 100 KB: over one batch's 256 KiB, under SQS's 1 MiB per message. U+FFFF: raw, SQS refuses it.
      yield* topic.publish(Array.from({ length: 10 }, (_, i) => sized(`big-${i}`, `big-${i}`, 100_000, "\uffff")))
      const queued = inQueue(queueOf(prefix))
      assert.strictEqual(queued.length, 10)
      assert.deepStrictEqual(JSON.parse(queued[9]!.body), sized("big-9", "big-9", 100_000, "\uffff"))

      const refused = yield* Effect.flip(topic.publish([message("small", "m-small"), sized("huge", "m-huge", 1_100_000)]))
      assert.strictEqual(refused._tag, "InfrastructureError")
      assert.isFalse(refused.retryable)
      assert.include(refused.detail, `command m-huge for Books.Ledger "huge"`)
      assert.strictEqual(inQueue(queueOf(prefix)).length, 10, "part of a refused publish was sent")
    }))

  it.live("two consumers on one queue: every command runs once, each ledger's in send order", () =>
    Effect.gen(function*() {
      const { prefix, url } = yield* fresh("two")
      const a = yield* runtimeOn(platform({ url, prefix }))
      const b = yield* runtimeOn(platform({ url, prefix }))
      const ledgers = Array.from({ length: 8 }, (_, i) => `ledger-${i}`)
      for (let seq = 1; seq <= 10; seq++) {
        yield* Effect.forEach(ledgers, (id, i) =>
          (i % 2 === 0 ? a : b).runtime.send({ component: "Books.Ledger", id, command: { _tag: "Record", seq } }), { discard: true })
      }
      yield* a.runtime.awaitIdle
      yield* b.runtime.awaitIdle
      for (const id of ledgers) {
        const entries = (yield* a.store.readStream("Books.Ledger", id)).map((event) => event.data as { seq: number; previous: number })
        assert.deepStrictEqual(entries.map((entry) => entry.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], `${id} out of order or not once`)
        assert.deepStrictEqual(entries.map((entry) => entry.previous), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
      }
      assert.deepStrictEqual(inQueue(queueOf(prefix)), [])
    }))

  it.live("a consumer that stops mid-batch leaves its commands to the next one after the visibility timeout", () =>
    Effect.gen(function*() {
      const { prefix, url } = yield* fresh("stops")
      const topicIn = (scope: Scope.Scope) =>
        Effect.map(Layer.buildWithScope(platform({ url, prefix, visibility: 2 }), scope), (context) => Context.get(context, CommandTopic.CommandTopic))
      const first = yield* Scope.make()
      const dying = yield* topicIn(first)
      const seenByFirst: Array<string> = []
      yield* Scope.provide(dying.consume({ concurrency: 1, components: ["Books.Ledger"], handle: (messages) => Effect.andThen(Effect.sync(() => seenByFirst.push(...messages.map((m) => m.msgId))), Effect.never) }), first)
      yield* dying.publish([message("ledger-1", "m-stuck")])
      assert.isTrue(yield* eventually(() => seenByFirst.length === 1, 10), "the first consumer never got the command")
      yield* Scope.close(first, Exit.void)

      const seenByNext: Array<string> = []
      const next = yield* topicIn(yield* Effect.scope)
      yield* next.consume({ concurrency: 1, components: ["Books.Ledger"], handle: (messages) => Effect.sync(() => seenByNext.push(...messages.map((m) => m.msgId))) })
      assert.isTrue(yield* eventually(() => seenByNext.length === 1, 15), "the command never came back")
      assert.deepStrictEqual(seenByNext, ["m-stuck"])
      assert.isTrue(yield* eventually(() => inQueue(queueOf(prefix)).length === 0, 5), "handled, yet still queued")
    }))

  it.live("a consumer that stops lets its long polls finish: a command sent just after goes to the next consumer at once, not after the visibility timeout", () =>
    Effect.gen(function*() {
      const { prefix, url } = yield* fresh("stopping")
      const seen: Array<string> = []
      const consume = (topic: CommandTopic.CommandTopic["Service"]) =>
        topic.consume({ concurrency: 20, components: ["Books.Ledger"], handle: (messages) => Effect.sync(() => seen.push(...messages.map((m) => m.msgId))) })
      const first = yield* Scope.make()
      const stopping = Context.get(yield* Layer.buildWithScope(platform({ url, prefix }), first), CommandTopic.CommandTopic)
      yield* Scope.provide(consume(stopping), first)
      yield* Effect.sleep("300 millis")
      yield* Scope.close(first, Exit.void)
      const next = Context.get(yield* Layer.build(platform({ url, prefix })), CommandTopic.CommandTopic)
      yield* next.publish([message("ledger-1", "m-after")])
      yield* consume(next)
      // A poll cut short would leave the server a receiver that is gone: the command would hide for 10 s.
      assert.isTrue(yield* eventually(() => seen.length === 1, 4), "the command went to a consumer that had stopped")
      assert.deepStrictEqual(seen, ["m-after"])
    }))

  it.live("a handler that runs past the visibility timeout keeps its batch: no other consumer gets it meanwhile", () =>
    Effect.gen(function*() {
      const { prefix, url } = yield* fresh("slow")
      const starts: Array<string> = []
      const slow: CommandTopic.ConsumeOptions = {
        concurrency: 1,
        components: ["Books.Ledger"],
        handle: (messages) => Effect.andThen(Effect.sync(() => starts.push(...messages.map((m) => m.msgId))), Effect.sleep("5 seconds"))
      }
      const topics = yield* Effect.forEach([1, 2], () =>
        Effect.map(Layer.build(platform({ url, prefix, visibility: 2 })), (context) => Context.get(context, CommandTopic.CommandTopic)))
      for (const topic of topics) yield* topic.consume(slow)
      yield* topics[0]!.publish([message("ledger-1", "m-slow")])
      assert.isTrue(yield* eventually(() => starts.length === 1, 10), "nobody got the command")
      yield* Effect.sleep("6 seconds")
      assert.deepStrictEqual(starts, ["m-slow"], "a second consumer got the command while the first still ran it")
      assert.isTrue(yield* eventually(() => inQueue(queueOf(prefix)).length === 0, 5), "handled, yet still queued")
    }), 30_000)

  it.live("a message that is not a command reaches the dead-letter queue after maxReceiveCount receives; other groups go on", () =>
    Effect.gen(function*() {
      const { prefix, url } = yield* fresh("garbage")
      const context = yield* Layer.build(platform({ url, prefix, visibility: 1, maxReceiveCount: 2 }))
      const topic = Context.get(context, CommandTopic.CommandTopic)
      const { sqs } = Context.get(context, AwsClients.AwsClients)
      const handled: Array<string> = []
      yield* topic.consume({ concurrency: 1, components: ["Books.Ledger"], handle: (messages) => Effect.sync(() => handled.push(...messages.map((m) => m.msgId))) })
      yield* Effect.promise(() =>
        sqs.send(new SendMessageCommand({ QueueUrl: server.inspectQueue(queueOf(prefix))!.url, MessageBody: "not a command", MessageGroupId: "g-bad", MessageDeduplicationId: "bad-1" })))
      yield* topic.publish([message("ledger-1", "m-good")])
      assert.isTrue(yield* eventually(() => handled.includes("m-good"), 10), "the good command waited behind the bad message")
      const deadLetters = Names.deadLetterQueue(queueOf(prefix))
      assert.isTrue(yield* eventually(() => inQueue(deadLetters).length === 1, 15), "the bad message never reached the dead-letter queue")
      assert.strictEqual(inQueue(deadLetters)[0]!.body, "not a command")
      assert.deepStrictEqual(inQueue(queueOf(prefix)), [])
      assert.deepStrictEqual(handled, ["m-good"])
    }), 30_000)

  it.live("a poison command is retried, parked without blocking other instances, and after the fix a replay appends it once", () =>
    Effect.gen(function*() {
      const { prefix, url } = yield* fresh("poison")
      const fuse = { broken: true }
      const Fragile = Aggregate.make({
        name: "Ledger",
        command: Ledger.Record,
        event: Ledger.Recorded,
        rejection: Schema.Never,
        state: Schema.Int,
        initialState: 0,
        evolve: (_last: number, event) => event.seq,
        // A dependency of the decision (a query) that is down while the fuse is broken.
        decide: (last, command) =>
          fuse.broken && command.seq === 13
            ? Effect.fail(new Errors.InfrastructureError({ service: "Pricing", operation: "quote", detail: "thirteen is unlucky", retryable: true }))
            : Effect.succeed([Ledger.Recorded.make({ seq: command.seq, previous: last })])
      })
      const layer = platform({ url, prefix })
      const { runtime, store } = yield* runtimeOn(layer, [Plugin.make({ name: "Books", heartbeatInterval: 5, aggregates: [Fragile] })])
      yield* runtime.send({ component: "Books.Ledger", id: "bad", command: { _tag: "Record", seq: 13 } })
      yield* runtime.send({ component: "Books.Ledger", id: "good", command: { _tag: "Record", seq: 1 } })
      yield* runtime.awaitIdle
      const parked = yield* runtime.deadLetters.list()
      assert.strictEqual(parked.length, 1)
      const letter = parked[0]! as DeadLetters.DeadLetter & { readonly _tag: "Command" }
      assert.strictEqual(letter._tag, "Command")
      assert.include(letter.reason, "thirteen is unlucky")
      assert.isAbove(letter.attempts, 1, "a poison command is retried before it is parked")
      assert.strictEqual((yield* store.readStream("Books.Ledger", "good")).length, 1)
      assert.strictEqual((yield* store.readStream("Books.Ledger", "bad")).length, 0)

      fuse.broken = false
      yield* runtime.deadLetters.replay(letter.id)
      yield* runtime.awaitIdle
      assert.deepStrictEqual((yield* store.readStream("Books.Ledger", "bad")).map((event) => event.data), [{ _tag: "Recorded", seq: 13, previous: 0 }])
      assert.deepStrictEqual(yield* runtime.deadLetters.list(), [])
      assert.deepStrictEqual(inQueue(queueOf(prefix)), [])
    }))

  it.live("sends with the same msgId append once", () =>
    Effect.gen(function*() {
      const { runtime, store } = yield* Effect.flatMap(fresh("dup"), ({ prefix, url }) => runtimeOn(platform({ url, prefix })))
      for (let i = 0; i < 3; i++) yield* runtime.send({ component: "Books.Ledger", id: "ledger-1", command: { _tag: "Record", seq: 1 }, meta: { msgId: "same" } })
      yield* runtime.awaitIdle
      yield* runtime.send({ component: "Books.Ledger", id: "ledger-1", command: { _tag: "Record", seq: 1 }, meta: { msgId: "same" } })
      yield* runtime.awaitIdle
      assert.strictEqual((yield* store.readStream("Books.Ledger", "ledger-1")).length, 1)
    }))

  it.live("without resource creation, a queue never provisioned stops the start with an error that says so", () =>
    Effect.gen(function*() {
      const { prefix, url } = yield* fresh("missing")
      const exit = yield* Effect.exit(runtimeOn(platform({ url, prefix, create: false })))
      assert.isTrue(Exit.isFailure(exit))
      const text = Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""
      assert.include(text, `the queue "${queueOf(prefix)}" does not exist`)
      assert.include(text, "reventless aws provision")
    }))
})
