/**
 * The crash soak: three worker processes run a shop on one PostgreSQL database while this process
 * sends it thousands of commands through a client runtime that does no work itself; every couple
 * of seconds a random worker is killed with SIGKILL and started again. Afterwards every read model
 * of both plugins equals a fold of the log computed here, the outside world got each confirmation
 * email's idempotency key, no event is stored twice, every stream's versions are contiguous, and
 * nothing was parked.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Hybrid from "@online-shop-dcb/app"
import * as Aggregates from "@online-shop/app"
import { EmailService } from "@online-shop/ordering"
import { type Event, EventStore, type Plugin, ReadModelStore, Runtime, TodoStore } from "@reventless/core"
import { Databases, PostgresPlatform } from "@reventless/postgres"
import { Fold } from "@reventless/testing"
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Fiber, Layer, Option, Schedule } from "effect"
import { inject } from "vitest"

const workerScript = fileURLToPath(new URL("./fixtures/worker.ts", import.meta.url))

/** The commands of a soak, all with msgIds: set-up phases (each awaited before the next), then the load. */
interface Soak {
  readonly app: "online-shop" | "online-shop-dcb"
  readonly plugins: ReadonlyArray<Plugin.Plugin<never>>
  readonly layer: typeof Aggregates.Shop.layer
  readonly setup: ReadonlyArray<ReadonlyArray<Runtime.SendRequest>>
  readonly load: ReadonlyArray<Runtime.SendRequest>
  /** TODO lists the workers sweep: the soak waits until none has pending items. */
  readonly todoLists: ReadonlyArray<string>
  /** The email idempotency keys the log says must have reached the outside. */
  readonly expectedEmails: (events: ReadonlyArray<Event.Envelope>) => ReadonlySet<string>
}

const send = (component: string, id: string, command: unknown, msgId: string): Runtime.SendRequest => ({ component, id, command, meta: { msgId, user: "soak" } })
const address = { street: "1 Leaf Lane", city: "Teatown", postalCode: "12345", country: "NL" }
const products = Array.from({ length: 20 }, (_, i) => `p-${i}`)
const customers = Array.from({ length: 60 }, (_, i) => `c-${i}`)
// Enough for several kills during the load (one every 2.5 s) while the suite stays within its 10 minutes.
const orders = 2_000

const aggregateShop: Soak = {
  app: "online-shop",
  plugins: Aggregates.Shop.plugins as unknown as ReadonlyArray<Plugin.Plugin<never>>,
  layer: Aggregates.Shop.layer,
  setup: [
    [send("Catalog.Category", "drinks", { _tag: "Add", name: "Drinks" }, "category")],
    products.map((id, i) => send("Catalog.Product", id, { _tag: "Add", name: `Product ${i}`, description: "", price: 1 + i, categoryId: "drinks" }, `add-${id}`)),
    customers.map((id) => send("Ordering.Customer", id, { _tag: "Register", name: id, email: `${id}@example.com`, address }, `register-${id}`))
  ],
  todoLists: [],
  load: Array.from({ length: orders }, (_, i) => [
    send("Ordering.Order", `o-${i}`, { _tag: "Place", customerId: customers[i % customers.length], productIds: [products[i % 20], products[(i + 7) % 20]], shippingAddress: address }, `place-${i}`),
    ...(i % 10 === 0 ? [send("Ordering.Order", `o-${i}`, { _tag: "Cancel", reason: "soak" }, `cancel-${i}`)] : [])
  ]).flat(),
  expectedEmails: (events) =>
    new Set(events.filter((event) => event.source === "Ordering.Order" && event.type === "Ordering.Order.Placed").map((event) => `${event.id}|sideEffect:Ordering.OrderNotifications.OrderConfirmationEmail`))
}

const dcbCustomers = Array.from({ length: 300 }, (_, i) => `c-${i}`)
const hybridShop: Soak = {
  app: "online-shop-dcb",
  plugins: Hybrid.Shop.plugins as unknown as ReadonlyArray<Plugin.Plugin<never>>,
  layer: Hybrid.Shop.layer,
  setup: [
    [send("Catalog.AddCategory", "", { _tag: "AddCategory", categoryId: "drinks", name: "Drinks" }, "category")],
    products.map((id, i) => send("Catalog.AddProduct", "", { _tag: "AddProduct", productId: id, categoryId: "drinks", name: `Product ${i}`, price: 1 + i }, `add-${id}`)),
    dcbCustomers.map((id) => send("Ordering.Customer", id, { _tag: "Register", name: id, email: `${id}@example.com`, address }, `register-${id}`))
  ],
  // Three open orders per customer at most: the limit rejects some, shipping (Express, by the automation) frees slots.
  load: Array.from({ length: orders }, (_, i) =>
    send("Ordering.PlaceOrder", "", {
      _tag: "PlaceOrder",
      orderId: `o-${i}`,
      customerId: dcbCustomers[i % dcbCustomers.length],
      productIds: [products[i % 20], products[(i + 7) % 20]],
      shippingMethod: i % 2 === 0 ? "Express" : "Standard"
    }, `place-${i}`)),
  todoLists: ["Ordering.AutoShipOrder", "Ordering.SendOrderConfirmation"],
  expectedEmails: (events) =>
    new Set(events.filter((event) => event.source === "Ordering.DcbEventLog" && event.type.endsWith("OrderPlaced")).map((event) =>
      `SendOrderConfirmation:${(event.data as { orderId: string }).orderId}`))
}

/** Starts a worker and waits until it runs. */
const startWorker = (soak: Soak, url: string, outbox: string) =>
  Effect.callback<ChildProcess, Error>((resume) => {
    const child = spawn(process.execPath, [workerScript, soak.app, url, outbox], { stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stderr!.on("data", (chunk) => output += String(chunk))
    child.stdout!.on("data", (chunk) => {
      output += String(chunk)
      if (output.includes("ready")) resume(Effect.succeed(child))
    })
    child.on("exit", (code, signal) => resume(Effect.fail(new Error(`worker exited (${code ?? signal}): ${output}`))))
  })

/** Every event of the log, in position order. */
const wholeLog = Effect.gen(function*() {
  const store = yield* EventStore.EventStore
  const events: Array<Event.Envelope> = []
  let after = 0
  while (true) {
    const page = yield* store.readAll({ after, limit: 1_000 })
    events.push(...page.events)
    if (page.through <= after) return events
    after = page.through
  }
})

/** Every stored row of a read model, encoded. */
const storedRows = (readModel: string) =>
  Effect.gen(function*() {
    const rows = yield* ReadModelStore.ReadModelStore
    const found = new Map<string, unknown>()
    let after: string | undefined
    while (true) {
      const page = yield* rows.list(readModel, { limit: 1_000, after })
      for (const { id, row } of page.items) found.set(id, row)
      if (Option.isNone(page.next)) return found
      after = page.next.value
    }
  })

const runSoak = (soak: Soak) =>
  Effect.gen(function*() {
    const url = yield* Effect.orDie(Databases.create(inject("databaseUrl"), `soak_${soak.app.replace(/-/g, "_")}`))
    const outbox = join(mkdtempSync(join(tmpdir(), "reventless-soak-")), "outbox.jsonl")
    const workers: Array<ChildProcess> = []
    yield* Effect.addFinalizer(() => Effect.sync(() => workers.forEach((worker) => worker.kill("SIGKILL"))))
    // The client: sends and waits, handles nothing (background: false).
    const client = yield* Layer.build(soak.layer({
      platform: PostgresPlatform.layer({ url, maxConnections: 8, leases: { ttlSeconds: 2 } }),
      runtime: { background: false },
      email: EmailService.layerMemory
    }))
    const runtime = Layer.succeedContext(client)
    const outcomes = new Map<string, number>()
    const submitAll = (requests: ReadonlyArray<Runtime.SendRequest>) =>
      Effect.forEach(requests, (request) =>
        Effect.flatMap(Effect.service(Runtime.Runtime), (r) =>
          Effect.map(r.submit(request), (outcome) => {
            const key = outcome._tag === "Rejected" ? `Rejected ${(outcome.error as { _tag: string })._tag}` : outcome._tag
            outcomes.set(key, (outcomes.get(key) ?? 0) + 1)
          })), { concurrency: 16, discard: true })

    for (let i = 0; i < 3; i++) workers.push(yield* startWorker(soak, url, outbox))
    for (const phase of soak.setup) yield* Effect.provide(Effect.andThen(submitAll(phase), Runtime.awaitIdle), runtime)

    // The load, while a random worker is killed (SIGKILL) and replaced every 2.5 s.
    let kills = 0
    const load = yield* Effect.forkChild(Effect.provide(submitAll(soak.load), runtime))
    const killer = yield* Effect.forkChild(Effect.forever(Effect.gen(function*() {
      yield* Effect.sleep("2500 millis")
      const victim = Math.floor(Math.random() * workers.length)
      workers[victim]!.kill("SIGKILL")
      kills++
      workers[victim] = yield* startWorker(soak, url, outbox)
    })))
    const started = Date.now()
    yield* Fiber.join(load)
    yield* Fiber.interrupt(killer)
    const loadSeconds = (Date.now() - started) / 1000
    // Caught up, and the workers' sweeps have worked every TODO item.
    const settled = Effect.gen(function*() {
      yield* Runtime.awaitIdle
      const todos = yield* TodoStore.TodoStore
      const pending = yield* Effect.forEach(soak.todoLists, (list) => todos.pending(list))
      if (pending.some((items) => items.length > 0)) return yield* Effect.fail("TODO items pending")
      yield* Runtime.awaitIdle
    })
    yield* Effect.provide(Effect.retry(settled, Schedule.spaced("200 millis").pipe(Schedule.upTo({ times: 150 }))), runtime)

    const events = yield* Effect.provide(wholeLog, runtime)
    // No event twice; each stream's versions contiguous (a DCB log's versions are its positions).
    assert.strictEqual(new Set(events.map((event) => event.id)).size, events.length, "an event is stored twice")
    const streams = new Map<string, Array<number>>()
    for (const event of events) {
      if (event.source.endsWith(".DcbEventLog")) continue
      const key = `${event.source}/${event.streamId}`
      streams.set(key, [...streams.get(key) ?? [], event.version])
    }
    for (const [stream, versions] of streams) assert.deepStrictEqual(versions, versions.map((_, i) => i + 1), stream)
    // No command, sent or derived, took effect twice: the events of each msgId are one commit
    // (consecutive positions), never two.
    const byMsgId = new Map<string, Array<number>>()
    for (const event of events) byMsgId.set(event.meta.msgId, [...byMsgId.get(event.meta.msgId) ?? [], event.position])
    for (const [msgId, positions] of byMsgId) assert.deepStrictEqual(positions, positions.map((_, i) => positions[0]! + i), `${msgId} took effect twice`)
    // Every read model of both plugins is the fold of the log.
    for (const plugin of soak.plugins) {
      for (const model of plugin.readModels) {
        const stored = yield* Effect.provide(storedRows(model.name), runtime)
        assert.deepStrictEqual(stored, Fold.readModel(plugin, model, events), `${model.name} is not the fold of the log`)
      }
    }
    // The outside got every confirmation's key (at least once: a worker killed between the call and its checkpoint calls again).
    const sent = existsSync(outbox) ? readFileSync(outbox, "utf8").trim().split("\n").filter((line) => line !== "").map((line) => (JSON.parse(line) as { idempotencyKey: string }).idempotencyKey) : []
    assert.deepStrictEqual(new Set(sent), soak.expectedEmails(events))
    const letters = yield* Effect.provide(Effect.flatMap(Effect.service(Runtime.Runtime), (r) => r.deadLetters.list()), runtime)
    assert.deepStrictEqual(letters, [])
    yield* Effect.logInfo(`soak ${soak.app}: ${soak.setup.flat().length + soak.load.length} commands in ${loadSeconds.toFixed(1)} s of load, ${kills} kills, ${events.length} events, ${sent.length} emails for ${new Set(sent).size} keys; outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`)
  }).pipe(Effect.scoped)

describe("crash soak: three workers, one killed every 2.5 s", { timeout: 240_000 }, () => {
  it.live("the aggregate shop: read models are folds of the log, every email key reached the outside, no event twice, no dead letters", () => runSoak(aggregateShop))
  it.live("the hybrid (DCB) shop: the same, with its automation and outbound translation swept by the workers", () => runSoak(hybridShop))
})
