/**
 * The database restarts under a running platform: commands sent while it is down fail with a
 * retryable error (nothing half-written), and once it is back the workers reconnect and take
 * new commands; every ledger ends with each entry once, in order.
 */
import { assert, describe, it } from "@effect/vitest"
import { Runtime } from "@reventless/core"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer, Schedule } from "effect"
import { Ledger } from "@reventless/testing"
import { EmbeddedServer, PostgresPlatform } from "../src/index.ts"

const send = (ledger: string, seq: number) =>
  Effect.flatMap(Effect.service(Runtime.Runtime), (runtime) => runtime.send({ component: "Ledger", id: ledger, command: { _tag: "Record", seq }, meta: { msgId: `${ledger}-${seq}` } }))

describe("a database restart", { timeout: 120_000 }, () => {
  it.live("workers reconnect and continue; nothing is lost or duplicated", () =>
    Effect.gen(function*() {
      const dataDir = join(mkdtempSync(join(tmpdir(), "reventless-restart-")), "data")
      const first = yield* Effect.promise(() => EmbeddedServer.start({ dataDir, persistent: true }))
      const runtime = yield* Layer.build(Runtime.layer({ plugins: [Ledger.Books] }).pipe(
        Layer.provide(PostgresPlatform.layer({ url: first.url, maxConnections: 4, commands: { leaseSeconds: 2 } }))
      ))
      const ledgers = ["a", "b", "c"]
      const run = <A, E>(effect: Effect.Effect<A, E, Runtime.Runtime>) => Effect.provide(effect, runtime)
      yield* run(Effect.forEach(ledgers, (ledger) => Effect.forEach([1, 2, 3], (seq) => send(ledger, seq)), { discard: true }))
      yield* run(Runtime.awaitIdle)

      yield* Effect.promise(() => first.stop())
      const refused = yield* run(Effect.flip(send("a", 4)))
      assert.strictEqual(refused._tag, "InfrastructureError")

      const second = yield* Effect.promise(() => EmbeddedServer.start({ dataDir, persistent: true, port: first.port }))
      yield* Effect.addFinalizer(() => Effect.promise(() => second.stop()))
      // Retried until the pool reconnects, as a client would.
      yield* run(Effect.forEach(ledgers, (ledger) => Effect.forEach([4, 5], (seq) => Effect.retry(send(ledger, seq), Schedule.spaced("200 millis").pipe(Schedule.upTo({ times: 50 })))), { discard: true }))
      yield* run(Runtime.awaitIdle)
      for (const ledger of ledgers) {
        const events = yield* run(Effect.flatMap(Effect.service(Runtime.Runtime), (r) => r.readStream("Ledger", ledger)))
        assert.deepStrictEqual(events.map((event) => (event.data as { seq: number }).seq), [1, 2, 3, 4, 5], ledger)
      }
    }).pipe(Effect.scoped))
})
