/**
 * Where the time of one single-event append goes on PostgreSQL (issue 6's target (a) with one
 * caller): the same append through the Reventless EventStore, through `rv_commit` called on
 * @effect/sql-pg, through `rv_commit` called on node-postgres, and the raw driver's equivalent
 * insert (postgres.bench.ts's naive ceiling), in interleaved blocks of 150 sequential calls on one
 * embedded server; median ms per call over 15 blocks.
 * Run: `node scratchpad/bench/append-breakdown.bench.ts`.
 */
import { EmbeddedServer, PostgresPlatform } from "@reventless/postgres"
import { EventStore } from "@reventless/core"
import { Effect, ManagedRuntime } from "effect"
import { PgClient } from "@effect/sql-pg"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"
const server = await EmbeddedServer.start({ dataDir: join(mkdtempSync(join(tmpdir(), "append-breakdown-")), "data") })
const admin = new pg.Client({ connectionString: server.url }); await admin.connect()
await admin.query(`CREATE DATABASE a1`)
const u = new URL(server.url); u.pathname = "/a1"
const rt = ManagedRuntime.make(PostgresPlatform.layer({ url: u.toString() }))
const store = await rt.runPromise(Effect.service(EventStore.EventStore))
const client = new pg.Client({ connectionString: u.toString() }); await client.connect()
await client.query(`CREATE TABLE raw_events (position bigserial PRIMARY KEY, id text NOT NULL, source text NOT NULL, stream_id text NOT NULL, version integer NOT NULL, type text NOT NULL, schema_version integer NOT NULL, data jsonb NOT NULL, meta jsonb NOT NULL, tags text[], recorded_at text NOT NULL, UNIQUE (source, stream_id, version))`)
await client.query(`CREATE INDEX raw_events_source ON raw_events (source, position)`)
await client.query(`CREATE TABLE raw_outcomes (msg_id text PRIMARY KEY, outcome jsonb NOT NULL)`)
const rawSql = `WITH o AS (INSERT INTO raw_outcomes (msg_id, outcome) VALUES ($1, jsonb_build_object('_tag', 'Accepted', 'msgId', $1::text, 'component', $2::text, 'id', $3::text)) ON CONFLICT DO NOTHING RETURNING msg_id)
  INSERT INTO raw_events (id, source, stream_id, version, type, schema_version, data, meta, recorded_at)
  SELECT $2 || '/' || $3 || '/' || ($4 + e.ord), $2, $3, $4 + e.ord, e.ev->>'type', (e.ev->>'schemaVersion')::integer, e.ev->'data', $6::jsonb, $7 FROM o, jsonb_array_elements($5::jsonb) WITH ORDINALITY AS e(ev, ord)`
let n = 0
const versions = new Map<string, number>()
const meta = (msgId: string) => ({ service: "b", time: "2026", ip: "", user: "u", msgId, correlationId: msgId })
const ev = [{ type: "Bank.Account.Deposited", schemaVersion: 1, data: { _tag: "Deposited", amount: 1 } }]
const ours = async () => { const s = `s${n % 8}`; const v = versions.get("o" + s) ?? 0; versions.set("o" + s, v + 1); const msgId = `m${n++}`
  const [r] = await rt.runPromise(store.commit([{ msgId, component: "Bank.Account", id: s, boundary: { _tag: "Stream", expectedVersion: v }, decided: { _tag: "Events", events: ev }, meta: meta(msgId) }])); if (r?._tag !== "Committed") throw new Error(r?._tag) }
const oursSql = async () => { const s = `q${n % 8}`; const v = versions.get("q" + s) ?? 0; versions.set("q" + s, v + 1); const msgId = `m${n++}`
  await client.query(`SELECT rv_commit($1::jsonb, $2) AS results`, [JSON.stringify([{ t: "A", m: msgId, s: "Bank.Account", i: s, x: v, e: [{ y: "Bank.Account.Deposited", v: 1, d: { _tag: "Deposited", amount: 1 } }], meta: meta(msgId) }]), "2026"]) }
const crt = ManagedRuntime.make(PostgresPlatform.client({ url: u.toString() }))
const sqlc = await crt.runPromise(Effect.service(PgClient.PgClient))
const viaEffectSql = async () => { const s = `e${n % 8}`; const v = versions.get("e" + s) ?? 0; versions.set("e" + s, v + 1); const msgId = `m${n++}`
  await crt.runPromise(sqlc.unsafe(`SELECT rv_commit($1::jsonb, $2) AS results`, [JSON.stringify([{ t: "A", m: msgId, s: "Bank.Account", i: s, x: v, e: [{ y: "Bank.Account.Deposited", v: 1, d: { _tag: "Deposited", amount: 1 } }], meta: meta(msgId) }]), "2026"])) }
const raw = async () => { const s = `r${n % 8}`; const v = versions.get("r" + s) ?? 0; versions.set("r" + s, v + 1); const msgId = `m${n++}`
  await client.query(rawSql, [msgId, "Bank.Account", s, v, JSON.stringify(ev), JSON.stringify(meta(msgId)), "2026"]) }
const times: Record<string, number[]> = { ours: [], oursSql: [], viaEffectSql: [], raw: [] }
for (let block = 0; block < 15; block++) {
  for (const [name, f] of Object.entries({ ours, oursSql, viaEffectSql, raw })) {
    const t = performance.now()
    for (let i = 0; i < 150; i++) await f()
    times[name]!.push((performance.now() - t) / 150)
  }
}
const labels: Record<string, string> = {
  ours: "EventStore.commit (Postgres layer: group commit, rv_commit on @effect/sql-pg)",
  oursSql: "rv_commit on node-postgres",
  viaEffectSql: "rv_commit on @effect/sql-pg",
  raw: "raw insert on node-postgres (the naive ceiling)"
}
const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
console.log("| path | ms per append (median) | vs raw |")
console.log("|---|---:|---:|")
for (const [name, ts] of Object.entries(times)) console.log(`| ${labels[name]} | ${median(ts).toFixed(3)} | ${(median(times.raw!) / median(ts)).toFixed(2)}x |`)
await client.end(); await crt.dispose(); await rt.dispose(); await admin.end(); await server.stop()
