/**
 * Two worker processes on one database: every command is processed once in effect, each ledger's
 * entries in the order they were sent, and a killed worker's commands are picked up by the other
 * once its leases expire.
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

/** Starts a worker process and waits until it consumes. */
const startWorker = (url: string) =>
  Effect.acquireRelease(
    Effect.callback<ChildProcess, Error>((resume) => {
      const child = spawn(process.execPath, [workerScript, url, String(leaseSeconds)], { stdio: ["ignore", "pipe", "pipe"] })
      let errors = ""
      child.stderr!.on("data", (chunk) => errors += String(chunk))
      child.stdout!.on("data", (chunk) => String(chunk).includes("ready") && resume(Effect.succeed(child)))
      child.on("exit", (code) => resume(Effect.fail(new Error(`worker exited (${code}): ${errors}`))))
    }),
    (child) => Effect.sync(() => child.kill("SIGKILL"))
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
      yield* Effect.sync(() => first.kill("SIGKILL"))
      const outcomes = yield* Effect.forEach(inFlight, (message) => client.store.awaitOutcome(message.msgId), { concurrency: 32 })
      assert.deepStrictEqual([...new Set(outcomes.map((outcome) => outcome._tag))], ["Accepted"])
      yield* checkLedgers(client, ledgers, 20)
      const left = yield* client.sql.unsafe<{ n: unknown }>(`SELECT count(*) AS n FROM rv_commands`)
      assert.strictEqual(Number(left[0]!.n), 0)
    }).pipe(Effect.scoped))
})
