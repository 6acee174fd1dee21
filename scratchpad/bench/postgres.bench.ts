/**
 * PostgreSQL: Reventless's Postgres layer side by side with the raw `pg` driver doing the
 * equivalent statements (the naive ceiling) and Emmett 0.42's PostgreSQL event store (the peer,
 * in its own process: see emmett-postgres.bench.ts), on one server, in one run.
 *
 * - (a) append 1 event per call, 1 caller (2,000 calls) and 16 callers (8,000), each caller on
 *   its own 8 streams with the expected version; appends/s.
 * - (b) 10 events per call, 16 callers, 1,000 calls; events/s.
 * - (c) end-to-end commands over 64 aggregates (Deposit → Deposited), 1 caller (1,000) and 16
 *   callers (4,000); commands/s. Ours: `Runtime.execute` on the Postgres platform (the command
 *   goes through the queue table, a worker decides on warm state, the commit stores events and
 *   outcome, the caller hears the outcome). Raw: read the stream, fold, append with the expected
 *   version, retry on a unique violation. Emmett: its `CommandHandler`.
 * - (d) catch-up from a 200,000-event log (written untimed: 100 events per call over 2,000
 *   streams), read from the start in pages of 1,000 and folded into a Map of balances; events/s.
 *   Ours also as what an application runs: a read model projected into `rv_rows` by the runtime
 *   (rows and checkpoint committed together per page), from start until it is idle.
 * - (e) read one 1,000-event stream, 50 times; p50 in ms (lower is better).
 *
 * Usage: `node scratchpad/bench/postgres.bench.ts [scale] [rounds]` (`pnpm bench:postgres`;
 * scale 1, 3 rounds by default). Starts an embedded server in a temporary directory (or uses
 * `DATABASE_URL`'s server) and makes a fresh database per contender and round. The contenders
 * take turns round after round and the table shows the median of each figure (the rounds are
 * printed below it): single runs here swing by 2x. A `CHECKPOINT` before each timed phase keeps
 * automatic checkpoints out of the phases. The table goes to stdout, progress to stderr.
 */
import { EmbeddedServer, PostgresPlatform } from "@reventless/postgres"
import { EventStore, Plugin, ReadModel, Runtime, type Message } from "@reventless/core"
import { Effect, Layer, ManagedRuntime, Schema } from "effect"
import { execFile } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"
import { Account, decide, deposit, evolve, type State } from "./account.ts"
import { median, runCallers, timed } from "./harness.ts"

const scale = Number(process.argv[2] ?? 1)
if (!(scale > 0)) throw new Error(`scale must be a positive number, got ${process.argv[2]}`)
const rounds = Number(process.argv[3] ?? 3)
if (!(Number.isInteger(rounds) && rounds > 0)) throw new Error(`rounds must be a positive integer, got ${process.argv[3]}`)
const count = (n: number) => Math.max(1, Math.round(n * scale))
const log = (line: string) => console.error(line)

// --- harness ------------------------------------------------------------------------------------

/** Each caller appends to its own 8 streams, so it knows their versions. */
const versions = () => {
  const known = new Map<string, number>()
  return (stream: string, appended: number) => {
    const version = known.get(stream) ?? 0
    known.set(stream, version + appended)
    return version
  }
}

interface Results {
  readonly a1: number
  readonly a16: number
  readonly b16: number
  readonly c1: number
  readonly c16: number
  readonly d: number
  readonly e: number
}

const source = "Bank.Account"
const meta = (msgId: string): Message.Meta => ({ service: "bench", time: new Date().toISOString(), ip: "", user: "bench", msgId, correlationId: msgId })
let msgIds = 0
const nextMsgId = () => `bench-${process.pid}-${++msgIds}`

// --- raw pg ---------------------------------------------------------------------------------------

/**
 * The naive ceiling: the same columns and indexes as `rv_events`, a `bigserial` position (not
 * gap-safe: sequence values commit out of order), the unique (source, stream, version) as the
 * concurrency guard, and msgId dedup in the same statement. One autocommit statement per append,
 * a connection per caller.
 */
const rawSchema = [
  `CREATE TABLE raw_events (
    position bigserial PRIMARY KEY, id text NOT NULL, source text NOT NULL, stream_id text NOT NULL, version integer NOT NULL,
    type text NOT NULL, schema_version integer NOT NULL, data jsonb NOT NULL, meta jsonb NOT NULL, tags text[], recorded_at text NOT NULL,
    UNIQUE (source, stream_id, version))`,
  `CREATE INDEX raw_events_source ON raw_events (source, position)`,
  `CREATE INDEX raw_events_tags ON raw_events USING gin (tags) WHERE tags IS NOT NULL`,
  `CREATE TABLE raw_outcomes (msg_id text PRIMARY KEY, outcome jsonb NOT NULL)`
]

const rawAppendSql = `WITH o AS (
    INSERT INTO raw_outcomes (msg_id, outcome)
    VALUES ($1, jsonb_build_object('_tag', 'Accepted', 'msgId', $1::text, 'component', $2::text, 'id', $3::text))
    ON CONFLICT DO NOTHING RETURNING msg_id)
  INSERT INTO raw_events (id, source, stream_id, version, type, schema_version, data, meta, recorded_at)
  SELECT $2 || '/' || $3 || '/' || ($4 + e.ord), $2, $3, $4 + e.ord, e.ev->>'type', (e.ev->>'schemaVersion')::integer, e.ev->'data', $6::jsonb, $7
  FROM o, jsonb_array_elements($5::jsonb) WITH ORDINALITY AS e(ev, ord)`

const columns = `position, id, source, stream_id, version, type, schema_version, data, meta, tags, recorded_at`

const raw = async (url: string): Promise<Results> => {
  const pool = new pg.Pool({ connectionString: url, max: 16 })
  // Idle connections that outlive `end` are terminated when the database is dropped: not news.
  pool.on("error", () => {})
  try {
    for (const statement of rawSchema) await pool.query(statement)
    const append = async (stream: string, expected: number, events: ReadonlyArray<NewEvent>) => {
      const msgId = nextMsgId()
      await pool.query(rawAppendSql, [msgId, source, stream, expected, JSON.stringify(events), JSON.stringify(meta(msgId)), new Date().toISOString()])
    }
    return await measure("raw pg", {
      append,
      // Read the stream, fold, decide, append at the version read; a unique violation means
      // another caller appended first: read again.
      command: async (id) => {
        for (;;) {
          const { rows } = await pool.query<{ data: { amount: number } }>(`SELECT data FROM raw_events WHERE source = $1 AND stream_id = $2 ORDER BY version`, [source, id])
          const state = rows.reduce((s: State, row) => evolve(s, { _tag: "Deposited", amount: row.data.amount }), Account.initialState)
          const events = decide(state, deposit(1)).map((data) => ({ type: "Deposited", schemaVersion: 1, data }))
          try {
            return await append(id, rows.length, events)
          } catch (error) {
            if ((error as { code?: string }).code !== "23505") throw error
          }
        }
      },
      readAll: async (after, limit) => {
        const { rows } = await pool.query<{ position: string; stream_id: string; data: { amount: number } }>(
          `SELECT ${columns} FROM raw_events WHERE position > $1 ORDER BY position LIMIT $2`,
          [after, limit]
        )
        return { events: rows.map((row) => ({ streamId: row.stream_id, data: row.data })), through: Number(rows.at(-1)?.position ?? after) }
      },
      readStream: async (stream) =>
        (await pool.query(`SELECT ${columns} FROM raw_events WHERE source = $1 AND stream_id = $2 AND version > 0 ORDER BY version`, [source, stream])).rows.length
    })
  } finally {
    await pool.end()
  }
}

// --- Reventless ---------------------------------------------------------------------------------

const Balances = ReadModel.make({
  name: "Balances",
  row: Schema.Struct({ balance: Schema.Finite }),
  projections: [ReadModel.projection(Account, ({ event, id }) => ReadModel.updateWithDefault(id, Account.initialState, (row) => evolve(row, event)))]
})

const reventless = async (url: string): Promise<Results & { readonly dProjected: number }> => {
  const platform = PostgresPlatform.layer({ url })
  const bank = Plugin.make({ name: "Bank", heartbeatInterval: 60, aggregates: [Account] })
  const runtime = ManagedRuntime.make(Runtime.layer({ plugins: [bank], concurrency: 16 }).pipe(Layer.provideMerge(platform)))
  const withStore = <A, E>(f: (store: EventStore.EventStore["Service"]) => Effect.Effect<A, E>) =>
    runtime.runPromise(Effect.flatMap(Effect.service(EventStore.EventStore), f))
  let results: Results
  try {
    results = await measure("Reventless (Postgres layer)", {
      append: async (stream, expected, events) => {
        const msgId = nextMsgId()
        const [result] = await withStore((store) =>
          store.commit([{ msgId, component: source, id: stream, boundary: { _tag: "Stream", expectedVersion: expected }, decided: { _tag: "Events", events }, meta: meta(msgId) }]))
        if (result?._tag !== "Committed") throw new Error(`append to ${stream} at ${expected}: ${result?._tag}`)
      },
      command: (id) => runtime.runPromise(Runtime.execute(Account, id, deposit(1))).then(() => {}),
      readAll: (after, limit) => withStore((store) => store.readAll({ after, limit })),
      readStream: (stream) => withStore((store) => store.readStream(source, stream)).then((events) => events.length)
    })
  } finally {
    await runtime.dispose()
  }
  // The read model an application would run, started on the full log: rows and checkpoint
  // committed together, a page at a time, until the runtime is idle.
  const withBalances = Plugin.make({ name: "Bank", heartbeatInterval: 60, aggregates: [Account], readModels: [Balances] })
  const projecting = ManagedRuntime.make(Runtime.layer({ plugins: [withBalances], concurrency: 16, batchSize: 1_000 }).pipe(Layer.provideMerge(platform)))
  await checkpoint()
  try {
    const seconds = await timed(() => projecting.runPromise(Runtime.awaitIdle))
    const head = await projecting.runPromise(Effect.flatMap(Effect.service(EventStore.EventStore), (store) => store.head))
    const dProjected = head / seconds
    log(`  d (read model Balances into rv_rows): ${head} events in ${seconds.toFixed(2)}s, ${Math.round(dProjected)}/s`)
    return { ...results, dProjected }
  } finally {
    await projecting.dispose()
  }
}

// --- the shapes, the same for every contender ------------------------------------------------------

interface NewEvent {
  readonly type: string
  readonly schemaVersion: number
  readonly data: unknown
}

interface Contender {
  /** Appends `events` to `stream` expecting it at `expected`, with a new msgId. */
  readonly append: (stream: string, expected: number, events: ReadonlyArray<NewEvent>) => Promise<void>
  /** One Deposit command on aggregate `id`, decided on current state. */
  readonly command: (id: string) => Promise<void>
  readonly readAll: (after: number, limit: number) => Promise<{
    readonly events: ReadonlyArray<{ readonly streamId: string; readonly data: unknown }>
    readonly through: number
  }>
  /** Reads the whole stream, returns its length. */
  readonly readStream: (stream: string) => Promise<number>
}

const depositedEvents = (n: number): ReadonlyArray<NewEvent> =>
  Array.from({ length: n }, () => ({ type: "Deposited", schemaVersion: 1, data: { _tag: "Deposited", amount: 1 } }))

/**
 * Flushes the server's dirty pages before each timed phase, so that no automatic checkpoint (a
 * disk stall of seconds on these machines) lands inside one and decides a ratio by chance.
 */
let checkpoint: () => Promise<void> = async () => {}

/** The same shapes as emmett-postgres.bench.ts, in the same order. */
const measure = async (name: string, contender: Contender): Promise<Results> => {
  log(`${name}:`)
  const version = versions()
  /** `callers` callers, `calls` appends of `size` events, caller i on its own 8 streams. */
  const appendRun = (prefix: string, callers: number, calls: number, size: number) => {
    const events = depositedEvents(size)
    return timed(() => runCallers(callers, calls, (caller, k) => {
      const stream = `${prefix}-${caller}-${k % 8}`
      return contender.append(stream, version(stream, size), events)
    }))
  }
  const commandRun = (callers: number, commands: number, prefix = "acc") =>
    timed(() => runCallers(callers, commands, (caller, k) => contender.command(`${prefix}-${(caller + 16 * k) % 64}`)))

  // Warm-up, untimed: connections, JIT on the append and command paths.
  await appendRun("warm", 16, 200, 1)
  await commandRun(16, 200, "warmacc")

  await checkpoint()
  const a1Calls = count(2_000)
  const a1 = a1Calls / await appendRun("a1", 1, a1Calls, 1)
  await checkpoint()
  const a16Calls = count(8_000)
  const a16 = a16Calls / await appendRun("a16", 16, a16Calls, 1)
  await checkpoint()
  const b16Calls = count(1_000)
  const b16 = (b16Calls * 10) / await appendRun("b16", 16, b16Calls, 10)
  log(`  a1 ${Math.round(a1)}/s, a16 ${Math.round(a16)}/s, b16 ${Math.round(b16)} events/s`)

  await checkpoint()
  const c1Commands = count(1_000)
  const c1 = c1Commands / await commandRun(1, c1Commands)
  await checkpoint()
  const c16Commands = count(4_000)
  const c16 = c16Commands / await commandRun(16, c16Commands)
  log(`  c1 ${Math.round(c1)}/s, c16 ${Math.round(c16)}/s`)

  // (d) The log, untimed: 100 events per call over 2,000 streams, 8 callers; then catch-up.
  const logCalls = Math.ceil(count(200_000) / 100)
  const hundred = depositedEvents(100)
  let call = 0
  const writeSeconds = await timed(() =>
    runCallers(8, logCalls, () => {
      const stream = `d-${call++ % 2_000}`
      return contender.append(stream, version(stream, 100), hundred)
    }))
  log(`  d: wrote ${logCalls * 100} events in ${writeSeconds.toFixed(1)}s (untimed)`)
  await checkpoint()
  const balances = new Map<string, number>()
  let read = 0
  const readSeconds = await timed(async () => {
    let after = 0
    for (;;) {
      const page = await contender.readAll(after, 1_000)
      for (const event of page.events) balances.set(event.streamId, (balances.get(event.streamId) ?? 0) + (event.data as { amount: number }).amount)
      read += page.events.length
      if (page.events.length < 1_000) break
      after = page.through
    }
  })
  const d = read / readSeconds
  log(`  d: read ${read} events into ${balances.size} balances in ${readSeconds.toFixed(2)}s, ${Math.round(d)}/s`)

  // (e) One 1,000-event stream, read whole 50 times after 5 untimed reads.
  for (let i = 0; i < 10; i++) await contender.append("e-hot", version("e-hot", 100), hundred)
  await checkpoint()
  const latencies: Array<number> = []
  for (let i = 0; i < 55; i++) {
    const start = performance.now()
    const length = await contender.readStream("e-hot")
    if (i >= 5) latencies.push(performance.now() - start)
    if (length !== 1_000) throw new Error(`${name}: the hot stream has ${length} events, expected 1000`)
  }
  const e = median(latencies)
  log(`  e: p50 ${e.toFixed(2)} ms`)
  return { a1, a16, b16, c1, c16, d, e }
}

/** Emmett in a process of its own: its store changes `pg`'s type parsers process-wide. */
const emmett = (url: string) =>
  new Promise<Results>((resolve, reject) => {
    log("Emmett 0.42 emmett-postgresql (own process):")
    const child = execFile(process.execPath, [join(import.meta.dirname, "emmett-postgres.bench.ts"), url, String(scale)], { maxBuffer: 1 << 20 }, (error, stdout) => {
      if (error !== null) return reject(error)
      try {
        resolve(JSON.parse(stdout.trim().split("\n").at(-1)!))
      } catch (cause) {
        reject(new Error(`unexpected output from emmett-postgres.bench.ts: ${stdout}`, { cause }))
      }
    })
    child.stderr?.on("data", (chunk: Buffer) => process.stderr.write(chunk.toString().replace(/^(?=.)/gm, "  ")))
  })

// --- main -------------------------------------------------------------------------------------------

const dataDir = mkdtempSync(join(tmpdir(), "reventless-bench-pg-"))
const server = process.env.DATABASE_URL === undefined ? await EmbeddedServer.start({ dataDir: join(dataDir, "data") }) : undefined
const admin = new pg.Client({ connectionString: server?.url ?? process.env.DATABASE_URL! })
await admin.connect()
checkpoint = () => admin.query("CHECKPOINT").then(() => {}, () => {})
/**
 * Drops a contender's database as soon as it is done: left in place, autovacuum would work through
 * its 200k-row tables during the next contender's phases (a slowdown of up to 5x seen here).
 */
const drop = (name: string) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).then(() => {})
/** A new, empty database; its URL. */
const databaseUrl = async (name: string) => {
  await admin.query(`DROP DATABASE IF EXISTS ${name}`)
  await admin.query(`CREATE DATABASE ${name}`)
  const url = new URL(server?.url ?? process.env.DATABASE_URL!)
  url.pathname = `/${name}`
  return url.toString()
}

try {
  // Rounds, the contenders in turn, each on a fresh database; the table shows each figure's median.
  const runs: { raw: Array<Results>; ours: Array<Results & { readonly dProjected: number }>; peer: Array<Results> } = { raw: [], ours: [], peer: [] }
  for (let round = 1; round <= rounds; round++) {
    log(`--- round ${round} of ${rounds}`)
    runs.raw.push(await raw(await databaseUrl("bench_raw")))
    await drop("bench_raw")
    runs.ours.push(await reventless(await databaseUrl("bench_reventless")))
    await drop("bench_reventless")
    runs.peer.push(await emmett(await databaseUrl("bench_emmett")))
    await drop("bench_emmett")
  }
  const mid = <R extends Results>(results: ReadonlyArray<R>, key: keyof R) => median(results.map((result) => result[key] as number))
  const keys = ["a1", "a16", "b16", "c1", "c16", "d", "e"] as const
  const rawResults = Object.fromEntries(keys.map((key) => [key, mid(runs.raw, key)])) as unknown as Results
  const peer = Object.fromEntries(keys.map((key) => [key, mid(runs.peer, key)])) as unknown as Results
  const ours = { ...Object.fromEntries(keys.map((key) => [key, mid(runs.ours, key)])), dProjected: mid(runs.ours, "dProjected") } as unknown as Results & { readonly dProjected: number }

  const scenarios: ReadonlyArray<{ key: keyof Results; label: string; unit: string; target: string; met: (o: number) => boolean }> = [
    { key: "a1", label: "(a) append 1 event/call, 1 caller", unit: "appends/s", target: ">= 0.9x raw", met: (o) => o >= 0.9 * rawResults.a1 },
    { key: "a16", label: "(a) append 1 event/call, 16 callers", unit: "appends/s", target: ">= 0.9x raw", met: (o) => o >= 0.9 * rawResults.a16 },
    { key: "b16", label: "(b) append 10 events/call, 16 callers", unit: "events/s", target: ">= 60,000/s", met: (o) => o >= 60_000 },
    { key: "c1", label: "(c) commands, 64 aggregates, 1 caller", unit: "commands/s", target: "", met: () => true },
    { key: "c16", label: "(c) commands, 64 aggregates, 16 callers", unit: "commands/s", target: ">= 3x Emmett", met: (o) => o >= 3 * peer.c16 },
    { key: "d", label: "(d) catch-up from the 200k log, pages of 1,000", unit: "events/s", target: ">= 50,000/s", met: (o) => o >= 50_000 },
    { key: "e", label: "(e) read a 1,000-event stream, p50", unit: "ms", target: "<= 1.5x raw", met: (o) => o <= 1.5 * rawResults.e }
  ]
  const format = (value: number, unit: string) => unit === "ms" ? value.toFixed(2) : Math.round(value).toLocaleString("en-US")
  console.log(`Scale ${scale}, median of ${rounds} rounds, ${new Date().toISOString().slice(0, 10)}, Node ${process.versions.node}, PostgreSQL ${server === undefined ? "at DATABASE_URL" : "embedded"}`)
  console.log()
  console.log(`| scenario | unit | Reventless | raw pg | Emmett | vs raw | vs Emmett | target | met |`)
  console.log(`|---|---|---:|---:|---:|---:|---:|---|---|`)
  for (const { key, label, met, target, unit } of scenarios) {
    const ratio = (theirs: number) => unit === "ms" ? `${(ours[key] / theirs).toFixed(2)}x time` : `${(ours[key] / theirs).toFixed(2)}x`
    console.log(`| ${label} | ${unit} | ${format(ours[key], unit)} | ${format(rawResults[key], unit)} | ${format(peer[key], unit)} | ${ratio(rawResults[key])} | ${ratio(peer[key])} | ${target} | ${target === "" ? "" : met(ours[key]) ? "yes" : "NO"} |`)
  }
  console.log(`| (d) catch-up into a read model (rows + checkpoint per page) | events/s | ${format(ours.dProjected, "")} | | | | | >= 50,000/s | ${ours.dProjected >= 50_000 ? "yes" : "NO"} |`)
  console.log()
  console.log("Every round (Reventless / raw pg / Emmett):")
  for (const key of keys) console.log(`  ${key}: ${runs.ours.map((r, i) => `${format(r[key], key === "e" ? "ms" : "")} / ${format(runs.raw[i]![key], key === "e" ? "ms" : "")} / ${format(runs.peer[i]![key], key === "e" ? "ms" : "")}`).join("   ")}`)
} finally {
  await admin.end()
  await server?.stop()
  rmSync(dataDir, { recursive: true, force: true })
}
