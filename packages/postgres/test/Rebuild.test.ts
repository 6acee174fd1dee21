/**
 * Rebuilding a read model after its projection changed, on PostgreSQL with a worker running: the
 * current rows keep answering while the rebuild runs, a rebuild killed mid-way (SIGKILL) leaves
 * them untouched and resumes where it was, the swap puts the rebuilt rows in at once, and the
 * worker's projection carries on over them.
 */
import { assert, describe, it } from "@effect/vitest"
import { Checkpoints, Plugin, ReadModelStore, Runtime } from "@reventless/core"
import { Ledger } from "@reventless/testing"
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Context, Effect, Layer, Option, Schedule } from "effect"
import { PostgresPlatform } from "../src/index.ts"
import * as Versions from "./fixtures/counts.ts"
import { freshDatabase } from "./support.ts"

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}.ts`, import.meta.url))

/** A child process, and what it printed so far. */
const start = (script: string, args: ReadonlyArray<string>, ready: (output: string) => boolean) =>
  Effect.acquireRelease(
    Effect.callback<{ readonly child: ChildProcess; readonly output: () => string }, Error>((resume) => {
      const child = spawn(process.execPath, [fixture(script), ...args], { stdio: ["ignore", "pipe", "pipe"] })
      let output = ""
      const seen = (chunk: unknown) => {
        output += String(chunk)
        if (ready(output)) resume(Effect.succeed({ child, output: () => output }))
      }
      child.stdout!.on("data", seen)
      child.stderr!.on("data", (chunk) => output += String(chunk))
      child.on("exit", (code) => resume(Effect.fail(new Error(`${script} exited (${code}): ${output}`))))
    }),
    ({ child }) => Effect.sync(() => child.kill("SIGKILL"))
  )

const Evens = Plugin.make({ name: "Books", heartbeatInterval: 5, aggregates: [Ledger.Ledger], readModels: [Versions.counts(0, (seq) => seq % 2 === 0)] })

describe("rebuilding a read model", { timeout: 120_000 }, () => {
  it.live("keeps the current rows until the swap, survives a kill mid-way by resuming, and the worker carries on over the new rows", () =>
    Effect.gen(function*() {
      const url = yield* freshDatabase("rebuild")
      // This process sends and queries; it runs the new projection code but no background work.
      const context = yield* Layer.build(Runtime.layer({ plugins: [Evens], background: false }).pipe(
        Layer.provideMerge(PostgresPlatform.layer({ url, maxConnections: 4, leases: { ttlSeconds: 2 } }))
      ))
      const runtime = Context.get(context, Runtime.Runtime)
      const ledgers = Array.from({ length: 40 }, (_, i) => `ledger-${i}`)
      const record = (from: number, to: number) =>
        Effect.forEach(ledgers, (ledger) =>
          Effect.forEach(Array.from({ length: to - from + 1 }, (_, i) => from + i), (seq) =>
            runtime.submit({ component: "Ledger", id: ledger, command: { _tag: "Record", seq }, meta: { msgId: `${ledger}-${seq}` } }), { discard: true }), { concurrency: 16, discard: true })
      const count = Effect.map(runtime.query("Counts", "all"), (row) => row._tag === "Some" ? (row.value as { count: number }).count : 0)

      // Version 1 counts every entry.
      const first = yield* start("worker", [url, "2", "counted"], (output) => output.includes("ready"))
      yield* record(1, 50)
      yield* runtime.awaitIdle
      assert.strictEqual(yield* count, 2_000)
      // Version 2 (even entries only) is deployed: the worker restarts with it.
      first.child.kill("SIGTERM")
      yield* start("worker", [url, "2", "evens"], (output) => output.includes("ready"))

      // A rebuild, killed once it is on its way: the current rows are untouched.
      const doomed = yield* start("rebuild", [url], (output) => output.split("\n").some((line) => line.startsWith("{") && (JSON.parse(line) as { position: number }).position > 0))
      doomed.child.kill("SIGKILL")
      assert.strictEqual(yield* count, 2_000, "the current rows answer until the swap")

      // Run again once the killed one's lease lapsed (until then: RebuildRunning), it resumes
      // past the start and swaps the rebuilt rows in.
      const done = yield* Effect.retry(runtime.rebuild("Counts"), {
        while: (error) => error._tag === "RebuildRunning",
        schedule: Schedule.spaced("250 millis").pipe(Schedule.upTo({ times: 40 }))
      })
      assert.isAbove(done.from, 0, "the rebuild resumed")
      assert.strictEqual(done.phase, "done")
      assert.strictEqual(yield* count, 1_000)
      // Nothing of the rebuild is left: no rows in its key space, no checkpoint.
      const rows = Context.get(context, ReadModelStore.ReadModelStore)
      assert.deepStrictEqual((yield* rows.list("Counts~rebuild", {})).items, [])
      assert.isTrue(Option.isNone(yield* Context.get(context, Checkpoints.Checkpoints).load("rebuild:Counts")))

      // The worker's projection (fenced off by the swap) carries on over the new rows.
      yield* record(51, 60)
      yield* Effect.retry(
        Effect.flatMap(Effect.andThen(runtime.awaitIdle, count), (n) => n === 1_200 ? Effect.void : Effect.fail(`count ${n}`)),
        Schedule.spaced("200 millis").pipe(Schedule.upTo({ times: 50 }))
      )
    }).pipe(Effect.scoped))
})
