import { EmbeddedServer, PostgresPlatform } from "@reventless/postgres"
import { Effect, ManagedRuntime } from "effect"
import pg from "pg"
import { mkdtempSync, readFileSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { tmpdir } from "node:os"
const server = await EmbeddedServer.start({ dataDir: join(mkdtempSync(join(tmpdir(), "fs-")), "d") })
const rt = ManagedRuntime.make(PostgresPlatform.layer({ url: server.url }))
await rt.runPromise(Effect.void)
const pool = new pg.Pool({ connectionString: server.url, max: 16 })
const variants = ["rv_commit"]
for (const f of readdirSync("/tmp/rv").filter((f) => f.endsWith(".sql")).sort()) { await pool.query(readFileSync(`/tmp/rv/${f}`, "utf8")); variants.push(f.replace(".sql", "")) }
const meta = { service: "bench", time: new Date().toISOString(), ip: "", user: "bench", correlationId: "xxxxxxxxxxxxxxxxxxxxx" }
let n = 0
const one = (stream: string, k: number) => { const m = `m${++n}`; return { t: "A", m, s: "B.A", i: stream, x: 0, e: Array.from({ length: k }, () => ({ y: "Deposited", v: 1, d: { _tag: "Deposited", amount: 1 } })), meta: { ...meta, msgId: m } } }
const group = (size: number, k: number) => JSON.stringify(Array.from({ length: size }, (_, i) => one(`g${n}-${i}`, k)))
// correctness probe: duplicates and conflicts
for (const fn of variants) {
  const r1 = (await pool.query(`SELECT ${fn}($1::jsonb, 'x') AS r`, [JSON.stringify([{ ...one(`probe-${fn}`, 2), m: `dup-${fn}` }, { ...one(`probe-${fn}`, 1), m: `dup-${fn}` }, { ...one(`probe-${fn}`, 1), x: 2 }, { ...one(`probe-${fn}`, 1), x: 2 }])])).rows[0].r
  console.log(fn, JSON.stringify(r1).replace(/"p":\d+/g, "p"))
}
const totals: Record<string, number> = {}
const rounds = Number(process.argv[2] ?? 6)
for (let round = 0; round < rounds; round++) {
  for (const fn of round % 2 === 0 ? variants : [...variants].reverse()) {
    for (const [size, k] of [[16, 10], [16, 1], [1, 1]] as const) {
      const s = performance.now()
      for (let i = 0; i < 60; i++) await pool.query(`SELECT ${fn}($1::jsonb, 'x')`, [group(size, k)])
      const key = `${size}x${k} ${fn}`
      totals[key] = (totals[key] ?? 0) + (performance.now() - s)
    }
  }
}
for (const [key, ms] of Object.entries(totals).sort()) console.log(key, (ms / (60 * rounds)).toFixed(2), "ms per call")
await pool.end(); await rt.dispose(); await server.stop()
