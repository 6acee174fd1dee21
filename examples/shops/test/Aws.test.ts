/**
 * Both shops on AWS (fauxqs for SQS, SNS and S3, the log on PostgreSQL): commands through SQS
 * FIFO, the CSV import through S3 and its notification, extension-point events relayed to SNS;
 * each story tells what it tells in memory.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Aggregates from "@online-shop/app"
import { AwsClients, AwsPlatform, Provision, Resources } from "@reventless/aws"
import { BlobStore, Runtime } from "@reventless/core"
import { Databases } from "@reventless/postgres"
import { type Context, Effect, Layer, Redacted } from "effect"
import { startFauxqs } from "fauxqs"
import { afterAll, inject } from "vitest"
import { tellTheSame } from "./stories.ts"

const server = await startFauxqs({ port: 0, logger: false })
afterAll(() => server.stop())

const awsOptions: AwsClients.Options = {
  region: "us-east-1",
  endpoint: server.address,
  credentials: { accessKeyId: "test", secretAccessKey: Redacted.make("test") }
}

let runs = 0
tellTheSame("AWS", (name) =>
  Layer.unwrap(Effect.map(Effect.orDie(Databases.create(inject("databaseUrl"), name)), (url) =>
    AwsPlatform.layer({
      database: { url },
      aws: awsOptions,
      resources: { prefix: `${name}-${++runs}`, create: true },
      commands: { waitTimeSeconds: 1 },
      blobs: { notify: true, waitTimeSeconds: 1 },
      extensionPoints: { waitTimeSeconds: 1 }
    }))))

/**
 * The aggregate shop as two deployments, each with its own database: Catalog and Ordering share
 * nothing but SNS topics and SQS queues. Products reach Ordering through Catalog.Products and
 * demand flows back through Ordering.Orders; the read models end as in one deployment in memory.
 */
describe("the aggregate shop as two deployments on AWS", { timeout: 120_000 }, () => {
  const [Catalog, Ordering] = Aggregates.Shop.plugins
  const steps = (catalog: Context.Context<Runtime.Runtime | BlobStore.BlobStore>, ordering: Context.Context<Runtime.Runtime>) =>
    Effect.gen(function*() {
      const inCatalog = <A, E>(effect: Effect.Effect<A, E, Runtime.Runtime | BlobStore.BlobStore>) => Effect.provide(effect, catalog)
      const inOrdering = <A, E>(effect: Effect.Effect<A, E, Runtime.Runtime>) => Effect.provide(effect, ordering)
      const rows = (name: string) => Effect.map(Effect.flatMap(Runtime.Runtime, (runtime) => runtime.list(name)), (page) => page.items)
      for (const [id, name] of [["drinks", "Drinks"], ["kitchen", "Kitchen"]]) {
        yield* inCatalog(Effect.flatMap(Runtime.Runtime, (runtime) => runtime.execute({ component: "Catalog.Category", id: id!, command: { _tag: "Add", name } })))
      }
      yield* inCatalog(Effect.flatMap(BlobStore.BlobStore, (blobs) => blobs.put("product-imports", "products.csv", new TextEncoder().encode(Aggregates.productsCsv))))
      yield* inCatalog(Runtime.awaitIdle)
      // Across deployments nothing says when the other side is done: wait for what it shows.
      const until = <A>(read: Effect.Effect<ReadonlyArray<A>, unknown, Runtime.Runtime>, done: (rows: ReadonlyArray<A>) => boolean, where: typeof inOrdering) =>
        Effect.gen(function*() {
          for (let i = 0; i < 150 && !done(yield* where(Effect.orDie(read))); i++) yield* Effect.sleep("100 millis")
          return yield* where(Effect.orDie(read))
        })
      const products = yield* until(rows("CatalogProducts"), (found) => found.length === 3, inOrdering)
      yield* inOrdering(Effect.flatMap(Runtime.Runtime, (runtime) =>
        Effect.andThen(
          Effect.andThen(
            runtime.execute({ component: "Ordering.Customer", id: "alice", command: { _tag: "Register", name: "Alice", email: "alice@example.com" } }),
            runtime.awaitIdle
          ),
          runtime.execute({ component: "Ordering.Order", id: "order-1", command: { _tag: "Place", customerId: "alice", productIds: ["tea-01", "pot-01"] } })
        )))
      const ordered = (found: ReadonlyArray<{ readonly row: unknown }>) => found.reduce((sum, { row }) => sum + (row as { readonly orderCount: number }).orderCount, 0)
      const demands = yield* until(rows("ProductDemands"), (found) => ordered(found) === 2, inCatalog)
      return { products, demands }
    })

  it.live("products reach Ordering and demand comes back, as in one deployment", () =>
    Effect.gen(function*() {
      const together = yield* Layer.build(Aggregates.Shop.layer())
      const expected = yield* steps(together, together)
      assert.deepStrictEqual([expected.products.length, expected.demands.length], [3, 3])
      assert.deepStrictEqual(expected.demands.map(({ id, row }) => [id, (row as { readonly orderCount: number }).orderCount]), [["pot-01", 1], ["tea-01", 1], ["tea-02", 0]])

      const prefix = `split-${++runs}`
      const deployment = (plugins: typeof Aggregates.Shop.plugins[number][], name: string) =>
        Effect.gen(function*() {
          const url = yield* Effect.orDie(Databases.create(inject("databaseUrl"), name))
          const platform = AwsPlatform.layer({
            database: { url },
            aws: awsOptions,
            resources: { prefix, create: true },
            commands: { waitTimeSeconds: 1 },
            blobs: { notify: true, waitTimeSeconds: 1 },
            extensionPoints: { waitTimeSeconds: 1 }
          })
          // Provision first: a subscriber's queue must be subscribed before the owner publishes.
          yield* Effect.provide(Provision.provision(plugins), Resources.layer({ prefix, create: true, s3Notifications: false }).pipe(Layer.provide(AwsClients.layer(awsOptions))))
          return yield* Layer.build(Aggregates.Shop.compose(plugins)({ platform }))
        })
      const catalog = yield* deployment([Catalog], "split_catalog")
      const ordering = yield* deployment([Ordering], "split_ordering")
      const split = yield* steps(catalog, ordering)
      assert.deepStrictEqual(split.products, expected.products)
      assert.deepStrictEqual(split.demands, expected.demands)
      assert.deepStrictEqual(yield* Effect.provide(Effect.flatMap(Runtime.Runtime, (runtime) => runtime.list("Orders")), catalog).pipe(Effect.flip, Effect.map((error) => error._tag)), "UnknownComponent",
        "the Catalog deployment runs Ordering's read models")
    }))
})
