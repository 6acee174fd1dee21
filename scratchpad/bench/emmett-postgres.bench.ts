/**
 * Emmett 0.42's PostgreSQL event store (`@event-driven-io/emmett-postgresql`), measured alone on
 * the same shapes as the Postgres benchmark that runs it:
 *
 * - (a) `appendToStream` of 1 event per call: `a1` one caller (2,000 calls), `a16` 16 concurrent
 *   callers (8,000 calls), each caller on its own 8 streams; appends per second.
 * - (b) 10 events per call, 16 callers, 1,000 calls; events per second.
 * - (c) Emmett's `CommandHandler` (read the stream, fold, append with the expected version) over 64
 *   aggregates: `c1` one caller (1,000 commands), `c16` 16 callers (4,000 commands), caller i on
 *   aggregate (i + 16k) % 64; version conflicts are retried at once, only successes count;
 *   commands per second.
 * - (d) projection catch-up: a 200,000-event log is written untimed (100 events per call, 2,000
 *   streams, 8 callers), then the whole log is read from the start with Emmett's
 *   `readMessagesBatch` in batches of 1,000 (not the consumer/processor API), each event folded
 *   into a Map<streamName, sum of amounts>; events per second.
 * - (e) `readStream` of one 1,000-event stream, 50 times; p50 in milliseconds.
 *
 * Before each timed phase a `CHECKPOINT` (when the user may) flushes the server's dirty pages, so
 * that no automatic checkpoint stalls the disk in the middle of one; the parent does the same.
 *
 * Counts are multiplied by `scale`. A few untimed appends and commands warm the schema, the pool
 * and the JIT first. The store is Emmett's default `getPostgreSQLEventStore(url)`: one `pg.Pool` of
 * pg's default 10 connections, so 16 callers queue for connections as they would in an app.
 *
 * What (d) shows of Emmett 0.42 (it is what its own consumer does, minus a sleep between batches):
 * - `readMessagesBatch` orders by (transaction_id, global_position) and continues `after` the last
 *   row's global_position. Concurrent multi-event appends interleave global positions across
 *   transactions, so batches skip (or repeat) a few events: under 1% of this log. The rate counts
 *   the events returned; stderr prints both counts. (Addressed upstream by emmett PR #336, not in 0.42.)
 * - emt_messages has no index on global_position or transaction_id: every batch is a sequential
 *   scan + top-N sort of the rest of the log, so catch-up time grows with the square of its size.
 *
 * Usage: `node scratchpad/bench/emmett-postgres.bench.ts <postgresUrl> [scale]`, `postgresUrl` an
 * EMPTY database made for this run. The parent benchmark runs it in its own process, because
 * Emmett (through dumbo) changes `pg`'s type parsers process-wide (int8 → BigInt, json/jsonb), and
 * reads the only line it prints to stdout:
 * `{"a1":…,"a16":…,"b16":…,"c1":…,"c16":…,"d":…,"e":…}`. Everything else goes to stderr.
 */
import { CommandHandler, isExpectedVersionConflictError, type Event } from "@event-driven-io/emmett"
import {
  getPostgreSQLEventStore,
  readMessagesBatch,
  type PostgresEventStore,
  type PostgresEventStoreConnectionOptions
} from "@event-driven-io/emmett-postgresql"
import { readFileSync } from "node:fs"
import { findPackageJSON } from "node:module"
import { dirname, join } from "node:path"
import { pathToFileURL } from "node:url"
import { median, runCallers, timed } from "./harness.ts"

// Stdout carries the result line only; whatever a library logs goes to stderr.
console.log = console.error

const url = process.argv[2]
if (url === undefined || url === "") {
  console.error("usage: node scratchpad/bench/emmett-postgres.bench.ts <postgresUrl> [scale]")
  process.exit(2)
}
const scale = Number(process.argv[3] ?? 1)
if (!(scale > 0)) {
  console.error(`scale must be a positive number, got ${process.argv[3]}`)
  process.exit(2)
}
const count = (n: number) => Math.max(1, Math.round(n * scale))

type Deposited = Event<"Deposited", { amount: number }>
interface State {
  readonly balance: number
}
const deposited = (amount: number): Deposited => ({ type: "Deposited", data: { amount } })

/**
 * Emmett's store keeps its dumbo pool to itself, and `readMessagesBatch` wants dumbo's
 * `SQLExecutor`. dumbo is Emmett's dependency, not ours (pnpm does not hoist it), so it is imported
 * from where emmett-postgresql resolves it: the same ESM module instance Emmett uses. dumbo caches
 * `pg.Pool`s by connection string, so `dumbo({ connectionString })` shares the store's pool.
 */
type DumboPool = Extract<PostgresEventStoreConnectionOptions, { dumbo: unknown }>["dumbo"]
type SQL = Parameters<DumboPool["execute"]["query"]>[0]
interface Dumbo {
  readonly dumbo: (options: { readonly connectionString: string }) => DumboPool
  readonly rawSql: (text: string) => SQL
}
interface PackageManifest {
  readonly exports: { readonly ".": { readonly import: { readonly default: string } } }
}
const importDumbo = async (): Promise<Dumbo> => {
  const manifestPath = findPackageJSON("@event-driven-io/dumbo", import.meta.resolve("@event-driven-io/emmett-postgresql"))
  if (manifestPath === undefined) throw new Error("@event-driven-io/dumbo not found next to @event-driven-io/emmett-postgresql")
  const manifest: PackageManifest = JSON.parse(readFileSync(manifestPath, "utf8"))
  return import(pathToFileURL(join(dirname(manifestPath), manifest.exports["."].import.default)).href)
}

const handle = CommandHandler<State, Deposited>({
  evolve: (state, event) => ({ balance: state.balance + event.data.amount }),
  initialState: () => ({ balance: 0 })
})

let conflicts = 0
/** One deposit through Emmett's CommandHandler; a version conflict is retried at once. */
const command = async (store: PostgresEventStore, id: string) => {
  for (;;) {
    try {
      await handle(store, id, () => deposited(1))
      return
    } catch (error) {
      if (!isExpectedVersionConflictError(error)) throw error
      conflicts++
    }
  }
}

const batchOf = (size: number) => Array.from({ length: size }, () => deposited(1))

const main = async () => {
  const { dumbo, rawSql } = await importDumbo()
  const store = getPostgreSQLEventStore(url)
  const pool = dumbo({ connectionString: url })
  try {
    // Warm-up, untimed: schema migration, pool connections, JIT on the append and command paths.
    await store.schema.migrate()
    await runCallers(16, 200, (caller, k) => store.appendToStream(`warm-${caller}-${k % 8}`, [deposited(1)]).then(() => {}))
    await runCallers(16, 200, (caller, k) => command(store, `warmacc-${(caller + 16 * k) % 64}`))

    // A checkpoint before each timed phase, so that none lands inside one (as in the parent).
    const checkpoint = () => pool.execute.query(rawSql("CHECKPOINT")).then(() => {}, () => {})

    await checkpoint()
    const a1Calls = count(2_000)
    const a1 = a1Calls / await timed(() =>
      runCallers(1, a1Calls, (caller, k) => store.appendToStream(`a1-${caller}-${k % 8}`, [deposited(1)]).then(() => {})))
    console.error(`a1: ${a1Calls} appends, ${Math.round(a1)}/s`)

    await checkpoint()
    const a16Calls = count(8_000)
    const a16 = a16Calls / await timed(() =>
      runCallers(16, a16Calls, (caller, k) => store.appendToStream(`a16-${caller}-${k % 8}`, [deposited(1)]).then(() => {})))
    console.error(`a16: ${a16Calls} appends, ${Math.round(a16)}/s`)

    await checkpoint()
    const b16Calls = count(1_000)
    const ten = batchOf(10)
    const b16 = (b16Calls * 10) / await timed(() =>
      runCallers(16, b16Calls, (caller, k) => store.appendToStream(`b16-${caller}-${k % 8}`, ten).then(() => {})))
    console.error(`b16: ${b16Calls} calls of 10 events, ${Math.round(b16)} events/s`)

    await checkpoint()
    const c1Commands = count(1_000)
    const c1 = c1Commands / await timed(() => runCallers(1, c1Commands, (_, k) => command(store, `acc-${k % 64}`)))
    console.error(`c1: ${c1Commands} commands, ${Math.round(c1)}/s`)

    await checkpoint()
    const c16Commands = count(4_000)
    const c16 = c16Commands / await timed(() =>
      runCallers(16, c16Commands, (caller, k) => command(store, `acc-${(caller + 16 * k) % 64}`)))
    console.error(`c16: ${c16Commands} commands, ${Math.round(c16)}/s, ${conflicts} version conflicts retried (warm-up included)`)

    // (d) The log, untimed: 100 events per call over 2,000 streams, 8 callers.
    const logCalls = Math.ceil(count(200_000) / 100)
    const hundred = batchOf(100)
    let call = 0
    const writeSeconds = await timed(() =>
      runCallers(8, logCalls, () => store.appendToStream(`d-${call++ % 2_000}`, hundred).then(() => {})))
    console.error(`d: wrote ${logCalls * 100} events in ${writeSeconds.toFixed(1)}s (untimed)`)
    const inLog = Number((await pool.execute.query<{ n: string | bigint }>(rawSql("SELECT count(*) AS n FROM emt_messages"))).rows[0]?.n)

    await checkpoint()
    // Catch-up with readMessagesBatch, as a projection would: fold every event of the log.
    const balances = new Map<string, number>()
    let read = 0
    const readSeconds = await timed(async () => {
      let after = 0n
      for (;;) {
        const batch = await readMessagesBatch<Deposited>(pool.execute, { after, batchSize: 1_000 })
        for (const message of batch.messages) {
          const stream = message.metadata.streamName
          balances.set(stream, (balances.get(stream) ?? 0) + message.data.amount)
        }
        read += batch.messages.length
        after = batch.currentGlobalPosition
        if (!batch.areMessagesLeft) break
      }
    })
    const d = read / readSeconds
    console.error(`d: read ${read} events (${inLog} in the log, a-c included) into ${balances.size} streams in ${readSeconds.toFixed(2)}s, ${Math.round(d)} events/s`)
    if (read !== inLog) console.error(`d: WARNING readMessagesBatch returned ${read} events, the table holds ${inLog}`)

    // (e) One 1,000-event stream, read whole 50 times.
    const hot = "e-hot"
    for (let i = 0; i < 10; i++) await store.appendToStream(hot, hundred)
    await checkpoint()
    const latencies: Array<number> = []
    for (let i = 0; i < 50; i++) {
      const start = performance.now()
      const result = await store.readStream<Deposited>(hot)
      latencies.push(performance.now() - start)
      if (result.events.length !== 1_000) throw new Error(`readStream returned ${result.events.length} events, expected 1000`)
    }
    const e = median(latencies)
    latencies.sort((x, y) => x - y)
    console.error(`e: readStream of 1000 events, p50 ${e.toFixed(2)} ms, min ${latencies[0]?.toFixed(2)} ms, max ${latencies.at(-1)?.toFixed(2)} ms`)

    const result = {
      a1: Math.round(a1),
      a16: Math.round(a16),
      b16: Math.round(b16),
      c1: Math.round(c1),
      c16: Math.round(c16),
      d: Math.round(d),
      e: Math.round(e * 100) / 100
    }
    process.stdout.write(`${JSON.stringify(result)}\n`)
  } finally {
    // Both hold the same cached pg.Pool (use-counted by dumbo): the second close ends it.
    await pool.close()
    await store.close()
  }
}

try {
  await main()
} catch (error) {
  console.error(error)
  process.exitCode = 1
}
