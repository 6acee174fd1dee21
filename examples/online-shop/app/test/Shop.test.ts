/**
 * The whole shop on the memory platform: the story end to end, at-least-once side effects with
 * once-only emails, rejections of derived commands as outcomes, and a property over random
 * command sequences with duplicate delivery: no event twice, every read model the fold of its
 * sources' logs.
 */
import { assert, describe, it } from "@effect/vitest"
import { Catalog, ProductAggregate, ProductDemands, Products } from "@online-shop/catalog"
import { CatalogProducts, CustomerAggregate, Customers, EmailService, OrderAggregate, Ordering, Orders } from "@online-shop/ordering"
import { type Aggregate, EventStore, MemoryPlatform, Message, type ReadModel, Runtime } from "@reventless/core"
import { Faults, Properties } from "@reventless/testing"
import { Effect, Option, Schema } from "effect"
import { Shop, story } from "../src/index.ts"

const shop = (faults?: Partial<Faults.FaultSwitches>) =>
  Shop.layer({ platform: faults === undefined ? MemoryPlatform.layer : Faults.inject(faults)(MemoryPlatform.layer) })

const rowsOf = (result: Effect.Success<typeof story>, name: string) =>
  Object.fromEntries(result.tables.find((table) => table.name === name)!.rows.map(({ id, row }) => [id, row]))

const address = { street: "1 Leaf Lane", city: "Teatown", postalCode: "12345", country: "NL" }

describe("the online shop", () => {
  it.effect("the story: products reach Ordering, orders ship or cancel, demand flows back to Catalog", () =>
    Effect.gen(function*() {
      const result = yield* story
      assert.deepStrictEqual(result.notes, [
        "order-3 for mug-01 (its CSV row was rejected): UnknownProduct",
        "order-2 ships without an address: NoShippingAddress",
        "cancel the shipped order-1: OrderAlreadyShipped"
      ])
      assert.deepStrictEqual(rowsOf(result, "CatalogProducts"), {
        "pot-01": { name: "Tea Pot", price: 39 },
        "tea-01": { name: "Green Tea", price: 4.9 },
        "tea-02": { name: "Black Tea", price: 6.9 }
      })
      assert.deepStrictEqual(
        Object.fromEntries(Object.entries(rowsOf(result, "ProductDemands")).map(([id, row]) => [id, (row as { orderCount: number }).orderCount])),
        { "pot-01": 1, "tea-01": 1, "tea-02": 0 }
      )
      const orders = rowsOf(result, "Orders") as Record<string, { status: string; cancelReason: string | null }>
      assert.strictEqual(orders["order-1"]!.status, "shipped")
      assert.deepStrictEqual([orders["order-2"]!.status, orders["order-2"]!.cancelReason], ["cancelled", "no address given"])
      assert.deepStrictEqual(result.emails.map((email) => [email.to, email.orderId]), [["alice@example.com", "order-1"], ["bob@example.com", "order-2"]])
      assert.deepStrictEqual(result.deadLetters, [])
    }).pipe(Effect.provide(shop())))

  it.effect("an order without an address: the derived Ship is rejected as its outcome, not retried; the order stays placed", () =>
    Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      const store = yield* EventStore.EventStore
      yield* Runtime.execute(ProductAggregate, "tea-01", { _tag: "Add", name: "Green Tea", description: "", price: 4.5 })
      yield* Runtime.execute(CustomerAggregate, "bob", { _tag: "Register", name: "Bob", email: "bob@example.com" })
      yield* runtime.awaitIdle
      const [placed] = yield* Runtime.execute(OrderAggregate, "o1", { _tag: "Place", customerId: "bob", productIds: ["tea-01"] })
      yield* runtime.awaitIdle
      const stream = yield* runtime.readStream("Order", "o1")
      assert.deepStrictEqual(stream.map((event) => event.data), [placed])
      const shipMsgId = Message.derivedMsgId(stream[0]!.id, "mapping:Ordering.AutoShip", 0)
      const outcome = yield* store.outcome(shipMsgId)
      assert.deepStrictEqual(Option.map(outcome, (o) => [o._tag, o._tag === "Rejected" ? (o.error as { _tag: string })._tag : ""]), Option.some(["Rejected", "NoShippingAddress"]))
      assert.deepStrictEqual(yield* runtime.deadLetters.list(), [])
      assert.deepStrictEqual(yield* runtime.query("Orders", "o1").pipe(Effect.map(Option.map((row) => (row as { status: string }).status))), Option.some("placed"))
    }).pipe(Effect.provide(shop())))

  it.effect("side effects run at least once, emails go out once: redelivered Order.Placed sends one confirmation", () =>
    Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      yield* Runtime.execute(ProductAggregate, "tea-01", { _tag: "Add", name: "Green Tea", description: "", price: 4.5 })
      yield* Runtime.execute(CustomerAggregate, "alice", { _tag: "Register", name: "Alice", email: "alice@example.com", address })
      yield* runtime.awaitIdle
      yield* Runtime.execute(OrderAggregate, "o1", { _tag: "Place", customerId: "alice", productIds: ["tea-01"] })
      yield* runtime.awaitIdle
      const sent = yield* Effect.flatMap(EmailService.EmailService, (email) => email.sent)
      assert.deepStrictEqual(sent.map((email) => [email.to, email.orderId]), [["alice@example.com", "o1"]])
      assert.strictEqual((yield* runtime.readStream("ProductDemand", "tea-01")).length, 1)
    }).pipe(Effect.provide(shop({ duplicateEvents: true, duplicateCommands: true }))))

  it.effect("a price change in Catalog reaches Ordering's shadow", () =>
    Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      yield* Runtime.execute(ProductAggregate, "tea-01", { _tag: "Add", name: "Green Tea", description: "", price: 4.5 })
      yield* Runtime.execute(ProductAggregate, "tea-01", { _tag: "UpdatePrice", price: 5 })
      yield* runtime.awaitIdle
      assert.deepStrictEqual(yield* runtime.query("CatalogProducts", "tea-01"), Option.some({ name: "Green Tea", price: 5 }))
    }).pipe(Effect.provide(shop())))

  const Step = Schema.Union([
    Schema.Struct({ kind: Schema.Literal("price"), product: Schema.Literals(["p1", "p2", "p3"]), price: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 9 })) }),
    Schema.Struct({ kind: Schema.Literal("order"), order: Schema.Literals(["o1", "o2", "o3", "o4"]), customer: Schema.Literals(["c1", "c2"]), products: Schema.Array(Schema.Literals(["p1", "p2", "p3", "p4"])) }),
    Schema.Struct({ kind: Schema.Literal("cancel"), order: Schema.Literals(["o1", "o2", "o3", "o4"]) }),
    Schema.Struct({ kind: Schema.Literal("deactivate"), customer: Schema.Literals(["c1", "c2"]) })
  ])

  /** Every event of the log, decoded, as foldReadModel takes them. */
  const decodedLog = Effect.gen(function*() {
    const store = yield* EventStore.EventStore
    const { events } = yield* store.readAll({ after: 0, limit: 100_000 })
    const aggregates = new Map<string, Aggregate.Any>(
      [...Catalog.aggregates.map((a) => [`Catalog.${a.name}`, a] as const), ...Ordering.aggregates.map((a) => [`Ordering.${a.name}`, a] as const)]
    )
    return events.flatMap((event) => {
      const aggregate = aggregates.get(event.source)
      if (aggregate === undefined) return []
      return [{ source: aggregate.name, id: event.streamId, event: Schema.decodeUnknownSync(aggregate.event)(event.data), envelope: event }]
    })
  })

  it.effect.prop(
    "random orders over both plugins, delivered twice: no event twice, and every read model is the fold of its log",
    [Schema.Array(Step), Schema.Boolean],
    ([steps, duplicates]) =>
      Effect.gen(function*() {
        const runtime = yield* Runtime.Runtime
        for (const id of ["p1", "p2", "p3"]) yield* runtime.send({ component: "Product", id, command: { _tag: "Add", name: id, description: "", price: 1 } })
        yield* runtime.send({ component: "Customer", id: "c1", command: { _tag: "Register", name: "C1", email: "c1@example.com", address } })
        yield* runtime.send({ component: "Customer", id: "c2", command: { _tag: "Register", name: "C2", email: "c2@example.com" } })
        yield* runtime.awaitIdle
        for (const step of steps) {
          switch (step.kind) {
            case "price":
              yield* runtime.send({ component: "Product", id: step.product, command: { _tag: "UpdatePrice", price: step.price } })
              break
            case "order":
              if (step.products.length > 0) {
                yield* runtime.send({ component: "Order", id: step.order, command: { _tag: "Place", customerId: step.customer, productIds: step.products } })
              }
              break
            case "cancel":
              yield* runtime.send({ component: "Order", id: step.order, command: { _tag: "Cancel", reason: "changed" } })
              break
            case "deactivate":
              yield* runtime.send({ component: "Customer", id: step.customer, command: { _tag: "Deactivate" } })
          }
        }
        yield* runtime.awaitIdle
        const log = yield* decodedLog
        // No event twice: per order, at most one Placed and one Shipped or Cancelled; demand per (product, order) at most once each way.
        const counts = new Map<string, number>()
        for (const { envelope, id, source } of log) {
          const key = `${source}/${id}/${envelope.type}/${JSON.stringify(envelope.data)}`
          counts.set(key, (counts.get(key) ?? 0) + 1)
        }
        for (const [key, count] of counts) {
          if (!key.startsWith("Product/") && !key.startsWith("CatalogProduct/")) assert.strictEqual(count, 1, key)
        }
        for (const readModel of [Products, ProductDemands, Customers, CatalogProducts, Orders] as ReadonlyArray<ReadModel.ReadModel<string, unknown>>) {
          const expected = Properties.foldReadModel(readModel, log)
          const actual = yield* runtime.list(readModel.name, { limit: 1000 })
          assert.deepStrictEqual(
            Object.fromEntries(actual.items.map(({ id, row }) => [id, row])),
            Object.fromEntries([...expected].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, row]) => [id, Schema.encodeSync(readModel.row)(row)])),
            readModel.name
          )
        }
        assert.deepStrictEqual(yield* runtime.deadLetters.list(), [])
      }).pipe(Effect.provide(shop(duplicates ? { duplicateCommands: true, duplicateEvents: true } : {}))),
    { arbitrary: { runs: 25 } }
  )
})
