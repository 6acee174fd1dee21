/**
 * Resources by name: created once with their dead-letter queues, brought up to date when their
 * settings change, and reachable only from the topic that feeds them.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Names, Resources } from "../src/index.ts"
import { clients, fauxqs, freshPrefix } from "./support.ts"

const server = await fauxqs()

const resources = (options: Omit<Resources.Options, "prefix"> & { readonly prefix: string }) =>
  Resources.layer(options).pipe(Layer.provide(clients(server.address)))

describe("Resources", () => {
  it.live("a queue made again with other settings is brought up to date, its dead-letter queue beside it", () =>
    Effect.gen(function*() {
      const prefix = freshPrefix("res")
      const name = Names.commandQueue(prefix, "Books.Ledger")
      yield* Effect.provide(Effect.flatMap(Resources.Resources, (r) => r.fifoQueue(name)), resources({ prefix, create: true, visibilityTimeoutSeconds: 10 }))
      yield* Effect.provide(Effect.flatMap(Resources.Resources, (r) => r.fifoQueue(name)), resources({ prefix, create: true, visibilityTimeoutSeconds: 45, maxReceiveCount: 3 }))
      const attributes = server.inspectQueue(name)!.attributes
      assert.strictEqual(attributes["VisibilityTimeout"], "45")
      assert.strictEqual(JSON.parse(attributes["RedrivePolicy"]!).maxReceiveCount, "3")
      assert.isDefined(server.inspectQueue(Names.deadLetterQueue(name)))
    }))

  it.live("a subscriber's queue takes messages from its topic only", () =>
    Effect.gen(function*() {
      const prefix = freshPrefix("res")
      const topicArn = yield* Effect.provide(
        Effect.gen(function*() {
          const r = yield* Resources.Resources
          const arn = yield* r.fifoTopic(Names.extensionPointTopic(prefix, "Catalog.Products"))
          yield* r.subscribe(arn, yield* r.fifoQueue(Names.subscriberQueue(prefix, "Catalog.Products", "Ordering.Products")))
          return arn
        }),
        resources({ prefix, create: true })
      )
      const policy = JSON.parse(server.inspectQueue(Names.subscriberQueue(prefix, "Catalog.Products", "Ordering.Products"))!.attributes["Policy"]!)
      assert.deepStrictEqual(policy.Statement[0].Condition, { ArnEquals: { "aws:SourceArn": topicArn } })
      assert.deepStrictEqual(policy.Statement[0].Principal, { Service: "sns.amazonaws.com" })
    }))

  it.live("without creation, topics are found by name, never made; a missing one says to provision", () =>
    Effect.gen(function*() {
      const prefix = freshPrefix("res")
      const name = Names.extensionPointTopic(prefix, "Catalog.Products")
      const lookUp = Effect.flatMap(Resources.Resources, (r) => r.fifoTopic(name))
      const missing = yield* Effect.flip(Effect.provide(lookUp, resources({ prefix })))
      assert.include(missing.detail, `the topic "${name}" does not exist`)
      const made = yield* Effect.provide(lookUp, resources({ prefix, create: true }))
      assert.strictEqual(yield* Effect.provide(lookUp, resources({ prefix })), made)
    }))
})
