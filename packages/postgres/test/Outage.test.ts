/**
 * The database goes away under load and comes back: every consumer (a projection that lags behind,
 * an event mapping, a side effect, a TODO list's collector and sweep) outlives the outage, and
 * afterwards all have caught up: the read model equals a fold of the log, every event was mapped
 * once (versions contiguous), called out for at least once (every key reached the outside),
 * flagged once, and nothing was parked.
 */
import { assert, describe, it } from "@effect/vitest"
import { Aggregate, AutomationSlice, EventMapping, Plugin, ReadModel, Runtime, SideEffect, Task } from "@reventless/core"
import { Ledger } from "@reventless/testing"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Fiber, Layer, Option, Result, Schedule, Schema } from "effect"
import { EmbeddedServer, PostgresPlatform } from "../src/index.ts"

const Mirror = Aggregate.make({ ...Ledger.Ledger, name: "Mirror" })

const Flag = Schema.TaggedStruct("Flag", {})
const Flagged = Schema.TaggedStruct("Flagged", {})
const Flags = Aggregate.make({
  name: "Flags",
  command: Flag,
  event: Flagged,
  rejection: Schema.Never,
  state: Schema.Boolean,
  initialState: false,
  evolve: () => true,
  decide: (flagged) => Result.succeed(flagged ? [] : [Flagged.make({})])
})

const pause = new Int32Array(new SharedArrayBuffer(4))
/** Counts every entry, a millisecond of CPU each: it lags behind the commands. */
const Counts = ReadModel.make({
  name: "Counts",
  row: Schema.Struct({ count: Schema.Int }),
  projections: [ReadModel.projection(Ledger.Ledger, () => {
    Atomics.wait(pause, 0, 0, 1)
    return ReadModel.updateWithDefault("all", { count: 0 }, (row: { readonly count: number }) => ({ count: row.count + 1 }))
  })]
})

/** The outside world the side effect calls, by idempotency key. */
const calls = new Map<string, number>()

const Books = Plugin.make({
  name: "Books",
  heartbeatInterval: 1,
  aggregates: [Ledger.Ledger, Mirror, Flags],
  readModels: [Counts],
  eventMappings: [EventMapping.make({
    name: "MirrorEntries",
    source: Ledger.Ledger,
    targets: [Mirror],
    map: ({ event, id }) => [EventMapping.publish(Mirror, id, Ledger.Record.make({ seq: event.seq }))]
  })],
  tasks: [Task.make({
    name: "Outside",
    sideEffects: [SideEffect.make({
      name: "Call",
      source: Ledger.Ledger,
      execute: ({ idempotencyKey }) => Effect.sync(() => void calls.set(idempotencyKey, (calls.get(idempotencyKey) ?? 0) + 1))
    })]
  })],
  automationSlices: [AutomationSlice.make({
    name: "FlagTens",
    todoItem: Schema.Struct({ id: Schema.String }),
    source: Ledger.Ledger,
    target: Flags,
    collect: ({ event, id }) => event.seq % 10 === 0 ? [[`${id}-${event.seq}`, { id: `${id}-${event.seq}` }]] : [],
    process: (_id, item) => ({ id: item.id, command: Flag.make({}) }),
    heartbeatInterval: 1
  })]
})

const retried = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.retry(effect, Schedule.spaced("100 millis").pipe(Schedule.upTo({ times: 300 })))

describe("a database outage under load", { timeout: 120_000 }, () => {
  it.live("every consumer outlives it and catches up; the read model equals a fold of the log", () =>
    Effect.gen(function*() {
      const dataDir = join(mkdtempSync(join(tmpdir(), "reventless-outage-")), "data")
      let server = yield* Effect.promise(() => EmbeddedServer.start({ dataDir, persistent: true }))
      yield* Effect.addFinalizer(() => Effect.promise(() => server.stop()))
      const context = yield* Layer.build(Runtime.layer({ plugins: [Books] }).pipe(
        Layer.provide(PostgresPlatform.layer({ url: server.url, maxConnections: 6, commands: { leaseSeconds: 2 }, leases: { ttlSeconds: 2 } }))
      ))
      const run = <A, E>(effect: Effect.Effect<A, E, Runtime.Runtime>) => Effect.provide(effect, context)
      const runtime = yield* run(Effect.service(Runtime.Runtime))
      const ledgers = Array.from({ length: 20 }, (_, i) => `ledger-${i}`)
      const send = (ledger: string, seq: number) =>
        retried(runtime.send({ component: "Ledger", id: ledger, command: { _tag: "Record", seq }, meta: { msgId: `${ledger}-${seq}` } }))
      const load = yield* Effect.forkChild(Effect.forEach(Array.from({ length: 100 }, (_, i) => i + 1), (seq) =>
        Effect.forEach(ledgers, (ledger) => send(ledger, seq), { discard: true, concurrency: 4 }), { discard: true }))

      // Under load, with the projection behind: the server goes away for 4 s.
      yield* Effect.sleep("1500 millis")
      yield* Effect.promise(() => server.stop())
      yield* Effect.sleep("4 seconds")
      server = yield* Effect.promise(() => EmbeddedServer.start({ dataDir, persistent: true, port: server.port }))
      yield* Fiber.join(load)
      yield* retried(runtime.settle)

      const entries = ledgers.length * 100
      const streams = yield* Effect.forEach(ledgers, (ledger) =>
        Effect.all([runtime.readStream("Ledger", ledger), runtime.readStream("Mirror", ledger)]))
      for (const [i, [ledger, mirror]] of streams.entries()) {
        const seqs = Array.from({ length: 100 }, (_, j) => j + 1)
        assert.deepStrictEqual(ledger.map((event) => (event.data as { seq: number }).seq), seqs, ledgers[i])
        assert.deepStrictEqual(mirror.map((event) => (event.data as { seq: number }).seq), seqs, `mirror of ${ledgers[i]}`)
      }
      assert.deepStrictEqual(yield* runtime.query("Counts", "all"), Option.some({ count: entries }))
      const ledgerEvents = streams.flatMap(([ledger]) => ledger)
      assert.deepStrictEqual(
        new Set(calls.keys()),
        new Set(ledgerEvents.map((event) => `${event.id}|sideEffect:Books.Outside.Call`)),
        "the outside was called for every event"
      )
      const flags = yield* Effect.forEach(ledgerEvents.filter((event) => (event.data as { seq: number }).seq % 10 === 0), (event) =>
        runtime.readStream("Flags", `${event.streamId}-${(event.data as { seq: number }).seq}`))
      assert.deepStrictEqual(flags.map((events) => events.length), flags.map(() => 1), "every tenth entry flagged once")
      assert.deepStrictEqual(yield* runtime.deadLetters.list(), [])
    }).pipe(Effect.scoped))
})
