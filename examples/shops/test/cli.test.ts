/**
 * The real `reventless` binary of the example shops, run under plain node: scenario files for
 * both apps (results line by line, duplicates and rejections as results, malformed files refused
 * before anything runs), the hybrid shop's demo, `--app` / `--platform` checked, and the same
 * binary on PostgreSQL and on AWS (fauxqs).
 */
import { assert, describe, it } from "@effect/vitest"
import { inject } from "vitest"
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import * as Aggregates from "@online-shop/app"
import { EmailService } from "@online-shop/ordering"
import { CommandTopic, Runtime } from "@reventless/core"
import { Databases, PostgresPlatform } from "@reventless/postgres"
import { Effect, Layer, Schedule } from "effect"
import { startFauxqs } from "fauxqs"

const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url))
const workerScript = fileURLToPath(new URL("./fixtures/worker.ts", import.meta.url))
const scenarios = fileURLToPath(new URL("../../online-shop/app/scenarios/", import.meta.url))
const hybridScenarios = fileURLToPath(new URL("../../online-shop-dcb/app/scenarios/", import.meta.url))
const reventless = (...args: ReadonlyArray<string>) => spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 60_000 })
/** The binary run in `cwd` (where `.reventless/` goes). */
const reventlessIn = (cwd: string, ...args: ReadonlyArray<string>) => spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 90_000, cwd })
/** The binary run without blocking this process, which may serve it (fauxqs runs in the test). */
const reventlessAsync = (...args: ReadonlyArray<string>) =>
  new Promise<{ readonly status: number; readonly stdout: string; readonly stderr: string }>((resolve) =>
    execFile(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 90_000 }, (error, stdout, stderr) =>
      resolve({ status: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr })))
interface StatusJson {
  readonly head: number
  readonly deadLetters: number
  readonly consumers: ReadonlyArray<{ readonly name: string; readonly owner: string | null; readonly behind: number }>
  readonly work: ReadonlyArray<{ readonly name: string; readonly owner: string | null }>
}
const lines = (stdout: string) => stdout.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>)

const scenario = (text: string) => {
  const dir = mkdtempSync(join(tmpdir(), "reventless-"))
  const file = join(dir, "scenario.jsonl")
  writeFileSync(file, text)
  return file
}

/** What the hybrid shop's scenario file tells, on whatever platform. */
const hybridScenarioRan = (results: ReadonlyArray<Record<string, unknown>>) => {
  assert.strictEqual(results.length, 11)
  assert.deepStrictEqual([results[1]!.ok, results[1]!.targetIds], [true, ["tea-01"]])
  assert.strictEqual((results[2]!.error as { _tag: string })._tag, "TranslationRefused")
  assert.deepStrictEqual(results[6], { line: 7, ok: true, duplicate: true, msgId: "place-o1", events: [] })
  assert.deepStrictEqual(results[7]!.rejected, { _tag: "ProductsNotAvailable", missing: ["mug-01"] })
  assert.deepStrictEqual(results[9]!.row, { customerId: "alice", productIds: ["tea-01"], shippingMethod: "Express", status: "Shipped" })
  assert.deepStrictEqual(results[10]!.rows, [{ id: "tea-01", orders: 1 }])
}

// Each run starts a node process (about 1.5 s here), so these tests get a minute each.
describe("reventless (the shops' binary)", { timeout: 60_000 }, () => {
  it("runs the shop scenario: one result per line, a repeated msgId appends nothing, a rejection is a result", () => {
    const run = reventless("run", join(scenarios, "shop.jsonl"))
    assert.strictEqual(run.status, 0, run.stderr)
    const results = lines(run.stdout)
    assert.deepStrictEqual(results.map((result) => result.line), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13])
    assert.deepStrictEqual(results[5], { line: 6, ok: true, duplicate: true, msgId: "place-o1", events: [] })
    assert.deepStrictEqual(results[6]!.rejected, { _tag: "UnknownProduct", productId: "mug-01" })
    assert.deepStrictEqual((results[10]!.events as ReadonlyArray<{ type: string }>).map((event) => event.type), ["Ordering.Order.Placed", "Ordering.Order.Cancelled"])
    assert.deepStrictEqual(results[11]!.rows, [{ id: "pot-01", name: "Tea Pot", orderCount: 0 }, { id: "tea-01", name: "Green Tea", orderCount: 0 }])
    assert.strictEqual((results[12]!.row as { status: string }).status, "cancelled")
  })

  it("runs the hybrid shop's scenario with --app online-shop-dcb: settle sweeps the TODO lists, so the Express order has shipped", () => {
    const run = reventless("run", "--app", "online-shop-dcb", join(hybridScenarios, "shop.jsonl"))
    assert.strictEqual(run.status, 0, run.stderr)
    hybridScenarioRan(lines(run.stdout))
  })

  it("runs the hybrid shop's demo", () => {
    const demo = reventless("demo", "--app", "online-shop-dcb")
    assert.strictEqual(demo.status, 0, demo.stderr)
    assert.include(demo.stdout, "order-5 and order-6 race for alice's last open-order slot: 1 accepted, OpenOrderLimitReached")
    assert.include(demo.stdout, "AvailableProducts")
    assert.include(demo.stdout, "dead letters: 0")
  })

  it("refuses an unknown app or platform", () => {
    const app = reventless("demo", "--app", "no-such-shop")
    assert.notStrictEqual(app.status, 0)
    assert.include(app.stderr + app.stdout, "online-shop-dcb")
    const platform = reventless("demo", "--platform", "oracle")
    assert.notStrictEqual(platform.status, 0)
    assert.include(platform.stderr + platform.stdout, "memory, postgres")
  })

  it("prints queries as tables on request", () => {
    const run = reventless("run", "--format", "table", scenario("{\"settle\":true}\n{\"query\":\"Catalog.Products\"}\n"))
    assert.strictEqual(run.status, 0, run.stderr)
    assert.include(run.stdout, "line 2: Catalog.Products")
    assert.include(run.stdout, "(index)")
  })

  it("refuses a malformed file before running anything, naming the line", () => {
    const cases = [
      ["{\"settle\":true}\n{\"send\":\"Ordering.Order\",\"id\":\"o1\",\n", ":2: not JSON"],
      ["{\"settle\":true}\n\n{\"sned\":\"Ordering.Order\"}\n", ":3: expected an object with one of"],
      ["{\"query\":\"Catalog.Products\",\"limt\":3}\n", ":1: query at [\"limt\"]"],
      ["{\"send\":\"Ordering.Order\",\"id\":\"o1\"}\n", ":1: send at [\"command\"]"],
      // Refers to the app: checked against its plugins before line 1 runs.
      [
        "{\"send\":\"Ordering.Customer\",\"id\":\"c1\",\"command\":{\"_tag\":\"Register\",\"name\":\"C\",\"email\":\"c@example.com\"}}\n" +
        "{\"send\":\"Ordering.Order\",\"id\":\"o1\",\"command\":{\"_tag\":\"Cancel\"}}\n",
        ":2: send: invalid Ordering.Order command at [\"reason\"]"
      ]
    ] as const
    for (const [text, expected] of cases) {
      const run = reventless("run", scenario(text))
      assert.notStrictEqual(run.status, 0, text)
      assert.include(run.stderr + run.stdout, expected)
      assert.notInclude(run.stdout, "\"ok\"")
    }
    const missing = reventless("run", join(tmpdir(), "no-such-scenario.jsonl"))
    assert.notStrictEqual(missing.status, 0)
    assert.include(missing.stderr + missing.stdout, "cannot read")
  })

  it("answers --help for the tool and its commands", () => {
    const help = reventless("--help")
    assert.strictEqual(help.status, 0)
    assert.include(help.stdout, "run")
    const runHelp = reventless("run", "--help")
    assert.include(runHelp.stdout, "--platform")
    assert.include(runHelp.stdout, "scenario")
  })

  it("on PostgreSQL, separate invocations share the data: demo, migrate, send, query, events, dlq", () => {
    // The demo runs in a database of its own next to the one given (<database>_demo), made afresh.
    const server = inject("databaseUrl")
    const demo = reventless("demo", "--platform", "postgres", "--database-url", server, "--app", "online-shop-dcb")
    assert.strictEqual(demo.status, 0, demo.stderr)
    assert.include(demo.stdout, "order-5 and order-6 race for alice's last open-order slot: 1 accepted, OpenOrderLimitReached")
    const demoDatabase = new URL(server)
    demoDatabase.pathname = `${demoDatabase.pathname}_demo`
    const at = ["--platform", "postgres", "--database-url", demoDatabase.toString(), "--app", "online-shop-dcb"]
    const migrated = reventless("migrate", ...at)
    assert.deepStrictEqual(lines(migrated.stdout), [{ migrated: "postgres", app: "online-shop-dcb" }])
    const sent = reventless("send", "Ordering.Customer", "carol", JSON.stringify({ _tag: "Register", name: "Carol", email: "carol@example.com" }), ...at)
    assert.strictEqual(sent.status, 0, sent.stderr)
    assert.strictEqual(lines(sent.stdout)[0]!.ok, true)
    const queried = reventless("query", "Customers", "carol", ...at)
    assert.deepStrictEqual(lines(queried.stdout)[0]!.row, { name: "Carol", email: "carol@example.com", address: null, active: true })
    const orders = reventless("query", "Orders", ...at)
    assert.strictEqual((lines(orders.stdout)[0]!.rows as ReadonlyArray<unknown>).length, 5, "the demo's orders are in its database")
    const events = reventless("events", "Ordering.Customer", "carol", ...at)
    assert.deepStrictEqual((lines(events.stdout)[0]!.events as ReadonlyArray<{ type: string }>).map((event) => event.type), ["Ordering.Customer.Registered"])
    const letters = reventless("dlq", "list", ...at)
    assert.strictEqual(letters.status, 0, letters.stderr)
    assert.strictEqual(letters.stdout.trim(), "")
    const bad = reventless("send", "Ordering.Customer", "dave", "{\"_tag\":", ...at)
    assert.notStrictEqual(bad.status, 0)
    assert.include(bad.stderr + bad.stdout, "the command is not JSON")
  })

  it.live("on PostgreSQL, a one-shot send exits by its outcome (0 done, 1 refused, 2 rejected), and a run leaves no command behind in the queue", () =>
    Effect.gen(function*() {
      const url = yield* Effect.orDie(Databases.create(inject("databaseUrl"), "cli_outcomes"))
      const at = ["--platform", "postgres", "--database-url", url]
      const register = JSON.stringify({ _tag: "Register", name: "Gus", email: "gus@example.com" })
      const queued = Effect.scoped(Effect.flatMap(Effect.service(CommandTopic.CommandTopic), (topic) => topic.pending).pipe(Effect.provide(PostgresPlatform.layer({ url }))))
      assert.strictEqual(reventless("send", "Ordering.Customer", "gus", register, ...at).status, 0)
      const again = reventless("send", "Ordering.Customer", "gus", register, ...at)
      assert.strictEqual(again.status, 2, again.stderr)
      assert.strictEqual((lines(again.stdout)[0]!.rejected as { _tag: string })._tag, "CustomerAlreadyRegistered")
      assert.include(again.stderr, "rejected (exit 2)")
      assert.notInclude(again.stderr, "    at ", "no stack trace")
      const long = reventless("send", "Ordering.Customer", "g".repeat(300), register, ...at)
      assert.strictEqual(long.status, 1, long.stderr)
      assert.include(long.stderr, "id is 300 characters long; the limit is 256")
      assert.notInclude(long.stderr, "    at ", "no stack trace")
      // A run whose last line is a send ends while its command's batch is settling: the command,
      // settled already, used to be stored in the queue again on the way out.
      const file = scenario(`${JSON.stringify({ send: "Ordering.Customer", id: "gus", command: JSON.parse(register) })}\n`)
      for (let round = 0; round < 3; round++) {
        const run = reventless("run", file, ...at)
        assert.strictEqual(run.status, 0, run.stderr)
        assert.strictEqual(yield* queued, 0, `round ${round}: a settled command was left in rv_commands`)
      }
    }))

  it.live("on PostgreSQL, `dlq skip` of a parked event takes effect while a worker runs: the letter stays gone and its consumer goes on", () =>
    Effect.gen(function*() {
      const url = yield* Effect.orDie(Databases.create(inject("databaseUrl"), "cli_dlq"))
      const outbox = join(mkdtempSync(join(tmpdir(), "reventless-dlq-")), "outbox.jsonl")
      const worker = yield* Effect.acquireRelease(
        Effect.callback<ChildProcess, Error>((resume) => {
          const child = spawn(process.execPath, [workerScript, "online-shop", url, outbox], { stdio: ["ignore", "pipe", "pipe"] })
          let output = ""
          child.stdout!.on("data", (chunk) => (output += String(chunk)).includes("ready") && resume(Effect.succeed(child)))
          child.stderr!.on("data", (chunk) => output += String(chunk))
          child.on("exit", (code) => resume(Effect.fail(new Error(`worker exited (${code}): ${output}`))))
        }),
        (child) => Effect.sync(() => child.kill("SIGKILL"))
      )
      assert.isDefined(worker.pid)
      // This process only sends and reads (background: false); the worker does all the work.
      const client = Layer.succeedContext(yield* Layer.build(Aggregates.Shop.layer({
        platform: PostgresPlatform.layer({ url, leases: { ttlSeconds: 2 } }),
        runtime: { background: false },
        email: EmailService.layerMemory
      })))
      const address = { street: "1 Leaf Lane", city: "Teatown", postalCode: "12345", country: "NL" }
      const runtime = yield* Effect.provide(Effect.service(Runtime.Runtime), client)
      const submit = (component: string, id: string, command: unknown) => runtime.execute({ component, id, command })
      // Each step decides on read models the worker projects: wait for them in between.
      yield* submit("Catalog.Category", "drinks", { _tag: "Add", name: "Drinks" })
      yield* runtime.awaitIdle
      yield* submit("Catalog.Product", "tea", { _tag: "Add", name: "Tea", description: "", price: 3, categoryId: "drinks" })
      yield* submit("Ordering.Customer", "bo", { _tag: "Register", name: "Bo", email: "bounce@example.com", address })
      yield* submit("Ordering.Customer", "al", { _tag: "Register", name: "Al", email: "al@example.com", address })
      yield* runtime.awaitIdle
      yield* submit("Ordering.Order", "o-bounce", { _tag: "Place", customerId: "bo", productIds: ["tea"], shippingAddress: address })
      const parked = Effect.flatMap(runtime.deadLetters.list(), (letters) => Effect.succeed(letters.filter((letter) => letter._tag === "Event")))
      const [letter] = yield* Effect.retry(Effect.filterOrFail(parked, (letters) => letters.length === 1), Schedule.spaced("200 millis").pipe(Schedule.upTo({ times: 100 })))
      const at = ["--platform", "postgres", "--database-url", url, "--app", "online-shop"]
      const skipped = yield* Effect.promise(() => reventlessAsync("dlq", "skip", letter!.id, ...at))
      assert.strictEqual(skipped.status, 0, skipped.stderr)
      assert.deepStrictEqual(lines(skipped.stdout), [{ skipped: letter!.id }])
      // The consumer moves past it: the next order's confirmation goes out, and the letter never comes back.
      yield* submit("Ordering.Order", "o-next", { _tag: "Place", customerId: "al", productIds: ["tea"], shippingAddress: address })
      const emailed = Effect.sync(() => existsSync(outbox) && readFileSync(outbox, "utf8").includes("o-next"))
      yield* Effect.retry(Effect.filterOrFail(emailed, (sent) => sent), Schedule.spaced("200 millis").pipe(Schedule.upTo({ times: 100 })))
      yield* Effect.sleep("3 seconds")
      assert.deepStrictEqual(yield* parked, [], "the skipped letter was parked again")
      assert.notInclude(readFileSync(outbox, "utf8"), "o-bounce")
    }).pipe(Effect.scoped), 90_000)

  it("on PostgreSQL without a URL, an embedded server keeps the data in .reventless/ between runs", () => {
    const dir = mkdtempSync(join(tmpdir(), "reventless-cli-"))
    const sent = reventlessIn(dir, "send", "Ordering.Customer", "erin", JSON.stringify({ _tag: "Register", name: "Erin", email: "erin@example.com" }), "--platform", "postgres")
    assert.strictEqual(sent.status, 0, sent.stderr)
    const queried = reventlessIn(dir, "query", "Customers", "erin", "--platform", "postgres")
    assert.strictEqual(queried.status, 0, queried.stderr)
    assert.strictEqual((lines(queried.stdout)[0]!.row as { name: string }).name, "Erin")
  })

  it("on AWS (fauxqs), provision prints the graph's resources; demo, send, query, events and both shops' runs go through SQS", async () => {
    const server = await startFauxqs({ port: 0, logger: false })
    try {
      const at = ["--platform", "aws", "--endpoint", server.address, "--prefix", "clitest", "--database-url", inject("databaseUrl")]
      const provisioned = await reventlessAsync("aws", "provision", "--endpoint", server.address, "--prefix", "clitest")
      assert.strictEqual(provisioned.status, 0, provisioned.stderr)
      for (const line of ["queue clitest-ordering-order.fifo", "queue clitest-ordering-order-dlq.fifo", "topic clitest-catalog-products-events.fifo", "bucket clitest-product-imports"]) {
        assert.include(provisioned.stdout.split("\n"), line)
      }
      // Without --prefix, an app's resources are its own: reventless-<app>.
      const byDefault = await reventlessAsync("aws", "provision", "--endpoint", server.address, "--app", "online-shop-dcb")
      assert.include(byDefault.stdout.split("\n"), "queue reventless-online-shop-dcb-ordering-customer.fifo")
      const demo = await reventlessAsync("demo", ...at)
      assert.strictEqual(demo.status, 0, demo.stderr)
      assert.include(demo.stdout, "order-3 for mug-01 (its CSV row was rejected): UnknownProduct")
      assert.include(demo.stdout, "dead letters: 0")
      const sent = await reventlessAsync("send", "Ordering.Customer", "frank", JSON.stringify({ _tag: "Register", name: "Frank", email: "frank@example.com" }), ...at)
      assert.strictEqual(sent.status, 0, sent.stderr)
      const queried = await reventlessAsync("query", "Customers", "frank", ...at)
      assert.strictEqual((lines(queried.stdout)[0]!.row as { name: string }).name, "Frank")
      const events = await reventlessAsync("events", "Ordering.Customer", "frank", ...at)
      assert.deepStrictEqual((lines(events.stdout)[0]!.events as ReadonlyArray<{ type: string }>).map((event) => event.type), ["Ordering.Customer.Registered"])
      assert.isDefined(server.inspectQueue("clitest-ordering-customer.fifo"), "the command did not go through the provisioned queue")
      // The hybrid shop's scenario, on a database and resources of its own.
      const fresh = await Effect.runPromise(Databases.create(inject("databaseUrl"), "cli_aws"))
      const run = await reventlessAsync("run", "--app", "online-shop-dcb", join(hybridScenarios, "shop.jsonl"), "--platform", "aws", "--endpoint", server.address, "--prefix", "clihybrid", "--database-url", fresh)
      assert.strictEqual(run.status, 0, run.stderr)
      hybridScenarioRan(lines(run.stdout))
    } finally {
      await server.stop()
    }
  }, 120_000)

  it("on PostgreSQL, `worker` processes share the consumers; `status` shows who runs each; a stopped worker hands its share over at once", async () => {
    const url = await Effect.runPromise(Databases.create(inject("databaseUrl"), "cli_workers"))
    const at = ["--platform", "postgres", "--database-url", url]
    const started: Array<ChildProcess> = []
    const startWorker = () =>
      new Promise<ChildProcess>((resolve, reject) => {
        const child = spawn(process.execPath, [cli, "worker", ...at], { stdio: ["ignore", "pipe", "pipe"] })
        started.push(child)
        let output = ""
        child.stdout!.on("data", (chunk) => {
          output += String(chunk)
          if (output.includes(`"worker":${child.pid}`)) resolve(child)
        })
        child.stderr!.on("data", (chunk) => output += String(chunk))
        child.on("exit", (code) => reject(new Error(`worker exited (${code}): ${output}`)))
      })
    /** `status --json` until `done` holds of it. */
    const statusUntil = async (done: (status: StatusJson) => boolean) => {
      for (let attempt = 0; attempt < 30; attempt++) {
        const status = await reventlessAsync("status", "--json", ...at)
        assert.strictEqual(status.status, 0, status.stderr)
        const parsed = JSON.parse(status.stdout) as StatusJson
        if (done(parsed)) return parsed
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
      throw new Error("status never showed it")
    }
    try {
      const [first, second] = [await startWorker(), await startWorker()]
      const pids = new Set([first.pid, second.pid].map((pid) => `:${pid}`))
      const ownerPid = (owner: string | null) => owner === null ? "" : owner.slice(owner.lastIndexOf(":"))
      const run = await reventlessAsync("run", join(scenarios, "shop.jsonl"), ...at)
      assert.strictEqual(run.status, 0, run.stderr)
      // Both workers own a share of the consumers; every consumer has caught up.
      const shared = await statusUntil((status) =>
        status.consumers.every((consumer) => pids.has(ownerPid(consumer.owner)) && consumer.behind === 0) &&
        new Set(status.consumers.map((consumer) => ownerPid(consumer.owner))).size === 2)
      assert.isAbove(shared.head, 0)
      assert.strictEqual(shared.deadLetters, 0)
      // SIGTERM: the first worker stops gracefully and the second owns everything soon after.
      first.kill("SIGTERM")
      await statusUntil((status) => [...status.consumers, ...status.work].every((piece) => ownerPid(piece.owner) === `:${second.pid}`))
      const queried = await reventlessAsync("query", "Orders", ...at)
      assert.strictEqual((lines(queried.stdout)[0]!.rows as ReadonlyArray<unknown>).length, 1)
      // A rebuild while the worker runs: progress as JSON lines (no terminal), the same rows after.
      const rebuilt = await reventlessAsync("projections", "rebuild", "Orders", ...at)
      assert.strictEqual(rebuilt.status, 0, rebuilt.stderr)
      assert.deepStrictEqual(lines(rebuilt.stdout).at(-1), { rebuilt: "Orders", position: shared.head, from: 0 })
      const after = await reventlessAsync("query", "Orders", ...at)
      assert.deepStrictEqual(lines(after.stdout)[0]!.rows, lines(queried.stdout)[0]!.rows)
    } finally {
      for (const child of started) child.kill("SIGKILL")
    }
  }, 120_000)
})
