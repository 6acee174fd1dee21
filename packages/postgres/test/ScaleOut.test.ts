/**
 * Worker processes on one database: every command is processed once in effect, each ledger's
 * entries in the order they were sent, and a killed worker's commands are picked up by the other
 * once its leases expire; every consumer runs in one process at a time, so a read model counts
 * each event once however many workers share the database.
 */
import { assert, describe, it } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { CommandTopic, EventStore, Message } from "@reventless/core"
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Context, Effect, Layer, Redacted, Schedule } from "effect"
import { Migrations, PgCommandTopic, PgEventStore } from "../src/index.ts"
import { freshDatabase } from "./support.ts"

const workerScript = fileURLToPath(new URL("./fixtures/worker.ts", import.meta.url))
const leaseSeconds = 2

/** A worker process and what it printed so far. */
interface Worker {
  readonly process: ChildProcess
  readonly output: () => string
}

/** Starts a worker process and waits until it consumes. */
const startWorker = (url: string, plugin: "books" | "counted" | "slow" = "books") =>
  Effect.acquireRelease(
    Effect.callback<Worker, Error>((resume) => {
      const child = spawn(process.execPath, [workerScript, url, String(leaseSeconds), plugin], { stdio: ["ignore", "pipe", "pipe"] })
      let output = ""
      child.stderr!.on("data", (chunk) => output += String(chunk))
      child.stdout!.on("data", (chunk) => {
        output += String(chunk)
        if (String(chunk).includes("ready")) resume(Effect.succeed({ process: child, output: () => output }))
      })
      child.on("exit", (code) => resume(Effect.fail(new Error(`worker exited (${code}): ${output}`))))
    }),
    (worker) => Effect.sync(() => worker.process.kill("SIGKILL"))
  )

/** The client side: publishes and awaits outcomes, processes nothing. */
const clientOn = (url: string) =>
  Effect.map(
    Layer.build(Layer.merge(PgEventStore.layer, PgCommandTopic.layer()).pipe(
      Layer.provide(Layer.effectDiscard(Effect.flatMap(Effect.service(PgClient.PgClient), (sql) => Migrations.migrate(sql)))),
      Layer.provideMerge(PgClient.layer({ url: Redacted.make(url), maxConnections: 4 }))
    )),
    (context) => ({ store: Context.get(context, EventStore.EventStore), topic: Context.get(context, CommandTopic.CommandTopic), sql: Context.get(context, PgClient.PgClient) })
  )

const record = (ledger: string, seq: number): Message.CommandMessage => {
  const msgId = `${ledger}-${seq}`
  return { component: "Books.Ledger", id: ledger, msgId, meta: { service: "test", time: new Date(0).toISOString(), ip: "", user: "test", msgId, correlationId: msgId }, command: { _tag: "Record", seq } }
}

/** Sends `count` entries to each ledger, in order, and waits for every outcome. */
const sendAll = (client: Effect.Success<ReturnType<typeof clientOn>>, ledgers: ReadonlyArray<string>, from: number, count: number) =>
  Effect.gen(function*() {
    const messages = ledgers.flatMap((ledger) => Array.from({ length: count }, (_, i) => record(ledger, from + i)))
    yield* client.topic.publish(messages)
    const outcomes = yield* Effect.forEach(messages, (message) => client.store.awaitOutcome(message.msgId), { concurrency: 32 })
    assert.deepStrictEqual([...new Set(outcomes.map((outcome) => outcome._tag))], ["Accepted"])
  })

/** Each ledger holds its entries 1..n once, in order, each knowing the one before. */
const checkLedgers = (client: Effect.Success<ReturnType<typeof clientOn>>, ledgers: ReadonlyArray<string>, n: number) =>
  Effect.forEach(ledgers, (ledger) =>
    Effect.map(client.store.readStream("Books.Ledger", ledger), (events) => {
      const entries = events.map((event) => event.data as { seq: number; previous: number })
      assert.deepStrictEqual(entries.map((entry) => entry.seq), Array.from({ length: n }, (_, i) => i + 1), ledger)
      assert.deepStrictEqual(entries.map((entry) => entry.previous), Array.from({ length: n }, (_, i) => i), ledger)
    }), { discard: true })

describe("scale-out: worker processes on one database", { timeout: 120_000 }, () => {
  it.live("share the shards, keep each ledger's order, and take over a killed worker's shards", () =>
    Effect.gen(function*() {
      const url = yield* freshDatabase("scaleout")
      const client = yield* clientOn(url)
      const ledgers = Array.from({ length: 24 }, (_, i) => `ledger-${i}`)
      const first = yield* startWorker(url)
      yield* startWorker(url)
      // The first worker took every shard; it gives the newcomer its share within a lease period.
      const owners = client.sql.unsafe<{ n: unknown }>(`SELECT count(DISTINCT owner) AS n FROM rv_shard_leases WHERE expires_at > now()`)
      yield* Effect.retry(
        Effect.flatMap(owners, (rows) => Number(rows[0]!.n) === 2 ? Effect.void : Effect.fail("one owner")),
        Schedule.spaced("100 millis").pipe(Schedule.upTo({ times: 100 }))
      )
      yield* sendAll(client, ledgers, 1, 10)

      // Kill one worker while commands are in flight; the other finishes them after its leases expire.
      const inFlight = ledgers.flatMap((ledger) => Array.from({ length: 10 }, (_, i) => record(ledger, 11 + i)))
      yield* client.topic.publish(inFlight)
      yield* Effect.sync(() => first.process.kill("SIGKILL"))
      const outcomes = yield* Effect.forEach(inFlight, (message) => client.store.awaitOutcome(message.msgId), { concurrency: 32 })
      assert.deepStrictEqual([...new Set(outcomes.map((outcome) => outcome._tag))], ["Accepted"])
      yield* checkLedgers(client, ledgers, 20)
      const left = yield* client.sql.unsafe<{ n: unknown }>(`SELECT count(*) AS n FROM rv_commands`)
      assert.strictEqual(Number(left[0]!.n), 0)
    }).pipe(Effect.scoped))
})

/** Waits until the consumer's durable checkpoint has reached the log's head. */
const caughtUp = (client: Effect.Success<ReturnType<typeof clientOn>>, consumer: string) =>
  Effect.retry(
    Effect.flatMap(
      client.sql.unsafe<{ checkpoint: unknown; head: unknown }>(
        `SELECT (SELECT position FROM rv_checkpoints WHERE consumer = $1) AS checkpoint, (SELECT coalesce(max(position), 0) FROM rv_events) AS head`,
        [consumer]
      ),
      (rows) => Number(rows[0]!.checkpoint ?? -1) === Number(rows[0]!.head) ? Effect.void : Effect.fail("behind")
    ),
    Schedule.spaced("100 millis").pipe(Schedule.upTo({ times: 600 }))
  )

describe("scale-out: consumers across worker processes", { timeout: 120_000 }, () => {
  for (const workers of [2, 3]) {
    it.live(`${workers} workers: the Counts read model counts each of 2,000 events once`, () =>
      Effect.gen(function*() {
        const url = yield* freshDatabase(`counts${workers}`)
        const client = yield* clientOn(url)
        for (let i = 0; i < workers; i++) yield* startWorker(url, "counted")
        const ledgers = Array.from({ length: 40 }, (_, i) => `ledger-${i}`)
        yield* sendAll(client, ledgers, 1, 50)
        yield* caughtUp(client, "projection:Counts")
        const counted = yield* client.sql.unsafe<{ count: unknown }>(`SELECT row->'count' AS count FROM rv_rows WHERE read_model = 'Counts' AND id = 'all'`)
        assert.strictEqual(Number(counted[0]?.count), 2_000)
      }).pipe(Effect.scoped))
  }
})

/** The process id of the worker holding the lease on `name`, if any holds it now. */
const holderOf = (client: Effect.Success<ReturnType<typeof clientOn>>, name: string) =>
  Effect.map(
    client.sql.unsafe<{ pid: unknown }>(
      `SELECT o.pid FROM rv_leases l JOIN rv_lease_owners o ON o.owner = l.owner WHERE l.name = $1 AND l.expires_at > now()`,
      [name]
    ),
    (rows) => rows.length === 0 ? undefined : Number(rows[0]!.pid)
  )

const until = <E, R>(what: string, check: Effect.Effect<boolean, E, R>) =>
  Effect.retry(
    Effect.flatMap(check, (done) => done ? Effect.void : Effect.fail(what)),
    Schedule.spaced("50 millis").pipe(Schedule.upTo({ times: 600 }))
  )

describe("scale-out: fencing", { timeout: 120_000 }, () => {
  it.live("a worker paused past its lease commits nothing when it resumes: its projection moved to the other worker", () =>
    Effect.gen(function*() {
      const url = yield* freshDatabase("fencing")
      const client = yield* clientOn(url)
      const workers = [yield* startWorker(url, "slow"), yield* startWorker(url, "slow")]
      const ledgers = Array.from({ length: 30 }, (_, i) => `ledger-${i}`)
      const messages = ledgers.flatMap((ledger) => Array.from({ length: 50 }, (_, i) => record(ledger, i + 1)))
      yield* client.topic.publish(messages)
      // The slow projection is in the middle of the log, a page in hand: pause its owner there.
      const checkpoint = Effect.map(
        client.sql.unsafe<{ position: unknown }>(`SELECT position FROM rv_checkpoints WHERE consumer = 'projection:Counts'`),
        (rows) => Number(rows[0]?.position ?? 0)
      )
      yield* until("projecting", Effect.map(checkpoint, (position) => position > 0))
      const pid = yield* holderOf(client, "projection:Counts")
      const paused = workers.find((worker) => worker.process.pid === pid)!
      const other = workers.find((worker) => worker !== paused)!
      const before = yield* checkpoint
      paused.process.kill("SIGSTOP")
      yield* until("taken over", Effect.map(holderOf(client, "projection:Counts"), (holder) => holder === other.process.pid))
      yield* Effect.forEach(messages, (message) => client.store.awaitOutcome(message.msgId), { concurrency: 32, discard: true })
      yield* caughtUp(client, "projection:Counts")
      assert.isAbove(yield* checkpoint, before, "the other worker carried on")
      // Resumed, the paused worker finishes the page it held and tries to commit it: refused.
      paused.process.kill("SIGCONT")
      // It notices either way: its late commit is refused (LeaseLost), or its next round finds the
      // lease moved on first and stops the projection; the count below shows nothing stale landed.
      const noticed = () => paused.output().includes("no longer held") || paused.output().includes("its lease moved on")
      yield* Effect.ignore(until("resumed and stopped", Effect.sync(noticed)).pipe(Effect.timeout("5 seconds")))
      yield* Effect.sleep("1 second")
      yield* caughtUp(client, "projection:Counts")
      const counted = yield* client.sql.unsafe<{ count: unknown }>(`SELECT row->'count' AS count FROM rv_rows WHERE read_model = 'Counts' AND id = 'all'`)
      assert.strictEqual(Number(counted[0]?.count), messages.length)
      assert.isTrue(noticed(), `the paused worker stopped its projection: ${paused.output()}`)
    }).pipe(Effect.scoped))
})
