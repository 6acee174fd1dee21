/**
 * Rebuilding a read model on PostgreSQL: a 200,000-event log (2,000 accounts, written untimed),
 * the `Balances` read model (one row per account) built three ways per round, in rotated order:
 * - catch-up: a runtime that starts with the read model consumes the log from 0 (the projection's
 *   own path: pages of 1,000, rows and checkpoint per page, fenced by its lease);
 * - rebuild: `Runtime.rebuild("Balances")` over the caught-up read model (the same pages into a
 *   key space of its own, then the swap);
 * - raw pg: node-postgres reads pages of 1,000, folds in JavaScript and upserts the page's rows
 *   and a checkpoint in one transaction (no decoding, no leases: the driver's ceiling).
 * Prints a table of medians and every round. Target: rebuild >= 50,000 events/s.
 *
 * Run: node scratchpad/bench/rebuild.bench.ts [rounds]
 */
import { EmbeddedServer, PostgresPlatform } from "@reventless/postgres"
import { EventStore, type Message, Plugin, ReadModel, Runtime } from "@reventless/core"
import { Effect, Layer, ManagedRuntime, Schema } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"
import { Account, evolve } from "./account.ts"
import { median, runCallers, timed } from "./harness.ts"

const rounds = Number(process.argv[2] ?? 3)
const events = 200_000
const streams = 2_000
const source = "Bank.Account"
const meta = (msgId: string): Message.Meta => ({ service: "bench", time: new Date().toISOString(), ip: "", user: "bench", msgId, correlationId: msgId })

const Balances = ReadModel.make({
  name: "Balances",
  row: Schema.Struct({ balance: Schema.Finite }),
  projections: [ReadModel.projection(Account, ({ event, id }) => ReadModel.updateWithDefault(id, Account.initialState, (row) => evolve(row, event)))]
})
const bank = Plugin.make({ name: "Bank", heartbeatInterval: 60, aggregates: [Account], readModels: [Balances] })
const platformOn = (url: string) => PostgresPlatform.layer({ url, maxConnections: 4 })

const dataDir = mkdtempSync(join(tmpdir(), "reventless-bench-rebuild-"))
const server = await EmbeddedServer.start({ dataDir: join(dataDir, "data") })
const admin = new pg.Client({ connectionString: server.url })
await admin.connect()
const checkpoint = () => admin.query("CHECKPOINT").then(() => {}, () => {})
await admin.query(`CREATE DATABASE bench_rebuild`)
const url = server.urlOf("bench_rebuild")
const db = new pg.Client({ connectionString: url })
await db.connect()

try {
  // The log, untimed: 100 events per append over 2,000 streams.
  const writer = ManagedRuntime.make(Layer.effectDiscard(Effect.void).pipe(Layer.provideMerge(platformOn(url))))
  const hundred = Array.from({ length: 100 }, () => ({ type: "Deposited", schemaVersion: 1, data: { _tag: "Deposited", amount: 1 } }))
  let call = 0
  const writeSeconds = await timed(() =>
    runCallers(8, events / 100, () => {
      const n = call++
      const msgId = `log-${n}`
      return writer.runPromise(Effect.flatMap(Effect.service(EventStore.EventStore), (store) =>
        store.commit([{ msgId, component: source, id: `a-${n % streams}`, boundary: { _tag: "Stream", expectedVersion: Math.floor(n / streams) * 100 }, decided: { _tag: "Events", events: hundred }, meta: meta(msgId) }]))).then(() => {})
    }))
  await writer.dispose()
  console.error(`wrote ${events} events in ${writeSeconds.toFixed(1)} s (untimed)`)

  const catchUp = async (): Promise<number> => {
    await db.query(`DELETE FROM rv_rows`)
    await db.query(`DELETE FROM rv_checkpoints`)
    await checkpoint()
    const runtime = ManagedRuntime.make(Runtime.layer({ plugins: [bank], batchSize: 1_000 }).pipe(Layer.provide(platformOn(url))))
    try {
      const seconds = await timed(() => runtime.runPromise(Runtime.awaitIdle))
      return events / seconds
    } finally {
      await runtime.dispose()
    }
  }

  const rebuild = async (): Promise<number> => {
    await checkpoint()
    const runtime = ManagedRuntime.make(Runtime.layer({ plugins: [bank], batchSize: 1_000, background: false }).pipe(Layer.provide(platformOn(url))))
    try {
      const seconds = await timed(() => runtime.runPromise(Effect.flatMap(Effect.service(Runtime.Runtime), (r) => r.rebuild("Balances"))).then(() => {}))
      return events / seconds
    } finally {
      await runtime.dispose()
    }
  }

  const raw = async (): Promise<number> => {
    const pool = new pg.Pool({ connectionString: url, max: 2 })
    await pool.query(`CREATE TABLE IF NOT EXISTS raw_rows (id text PRIMARY KEY, row jsonb NOT NULL)`)
    await pool.query(`CREATE TABLE IF NOT EXISTS raw_checkpoint (name text PRIMARY KEY, position bigint NOT NULL)`)
    await pool.query(`TRUNCATE raw_rows, raw_checkpoint`)
    await checkpoint()
    try {
      return events / await timed(async () => {
        let after = 0
        for (;;) {
          const { rows } = await pool.query<{ position: string; stream_id: string; data: { amount: number } }>(
            `SELECT position, stream_id, data FROM rv_events WHERE position > $1 AND source = $2 ORDER BY position LIMIT 1000`,
            [after, source]
          )
          if (rows.length === 0) return
          const ids = [...new Set(rows.map((row) => row.stream_id))]
          const client = await pool.connect()
          try {
            await client.query("BEGIN")
            const found = await client.query<{ id: string; row: { balance: number } }>(`SELECT id, row FROM raw_rows WHERE id = ANY($1::text[])`, [ids])
            const balances = new Map(found.rows.map((row) => [row.id, row.row.balance]))
            for (const row of rows) balances.set(row.stream_id, (balances.get(row.stream_id) ?? 0) + row.data.amount)
            await client.query(
              `INSERT INTO raw_rows (id, row) SELECT * FROM unnest($1::text[], $2::jsonb[]) ON CONFLICT (id) DO UPDATE SET row = excluded.row`,
              [[...balances.keys()], [...balances.values()].map((balance) => JSON.stringify({ balance }))]
            )
            after = Number(rows.at(-1)!.position)
            await client.query(`INSERT INTO raw_checkpoint VALUES ('raw', $1) ON CONFLICT (name) DO UPDATE SET position = excluded.position`, [after])
            await client.query("COMMIT")
          } finally {
            client.release()
          }
        }
      })
    } finally {
      await pool.end()
    }
  }

  const contenders = { "catch-up": catchUp, rebuild, "raw pg": raw } as const
  type Name = keyof typeof contenders
  // Rebuild needs the caught-up read model it replaces: catch-up always runs before it in a round.
  const orders: ReadonlyArray<ReadonlyArray<Name>> = [["catch-up", "rebuild", "raw pg"], ["raw pg", "catch-up", "rebuild"], ["catch-up", "raw pg", "rebuild"]]
  const results: Record<Name, Array<number>> = { "catch-up": [], rebuild: [], "raw pg": [] }
  for (let round = 0; round < rounds; round++) {
    for (const name of orders[round % orders.length]!) {
      const rate = await contenders[name]()
      results[name].push(rate)
      console.error(`round ${round + 1}: ${name} ${Math.round(rate).toLocaleString("en")} events/s`)
    }
  }
  const ratios = results.rebuild.map((rate, i) => rate / results["raw pg"][i]!)
  const fmt = (rate: number) => Math.round(rate).toLocaleString("en")
  console.log(`| contender | events/s (median of ${rounds}) | per round |`)
  console.log(`|---|---:|---|`)
  for (const name of Object.keys(contenders) as Array<Name>) console.log(`| ${name} | ${fmt(median(results[name]))} | ${results[name].map(fmt).join(", ")} |`)
  console.log()
  console.log(`rebuild / raw pg per round: ${ratios.map((ratio) => ratio.toFixed(2)).join(", ")} (median ${median(ratios).toFixed(2)}); rebuild / catch-up: ${(median(results.rebuild) / median(results["catch-up"])).toFixed(2)}`)
  console.log(`target: rebuild >= 50,000 events/s: ${median(results.rebuild) >= 50_000 ? "yes" : "NO"}`)
} finally {
  await db.end()
  await admin.end()
  await server.stop()
  rmSync(dataDir, { recursive: true, force: true })
}
