/**
 * In-memory command throughput: Reventless (memory platform) side by side with Emmett's
 * in-memory event store + CommandHandler and a plain Map of arrays (the ceiling), on the same
 * tiny decider. Run: `pnpm bench` (node scratchpad/bench/commands.bench.ts [scale] [rounds];
 * scale 1, 5 rounds).
 *
 * Each round runs every contender in a process of its own (a fresh heap: what one contender
 * leaves behind, Emmett's copied streams above all, would otherwise tax the next one's garbage
 * collection), in a rotated order. Rates are medians over the rounds, and each ratio is the median
 * of the rounds' ratios, so that the machine's swings between rounds (2x here) cancel out.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { CommandHandler, getInMemoryEventStore } from "@event-driven-io/emmett"
import { CommandTopic, MemoryPlatform, Plugin, Runtime } from "@reventless/core"
import { Deferred, Effect, Layer, ManagedRuntime, Queue } from "effect"
import { Account, decide, deposit as depositCommand, evolve, type State } from "./account.ts"
import { median, timed } from "./harness.ts"

const contenderArgument = process.argv.indexOf("--contender")
const scale = Number(process.argv[2] ?? 1)
const rounds = Number(process.argv[3] ?? 5)
if (!(scale > 0 && Number.isInteger(rounds) && rounds > 0)) throw new Error(`usage: commands.bench.ts [scale > 0] [rounds >= 1], got ${process.argv.slice(2).join(" ")}`)
const callers = 64
const aggregates = 10_000
const concurrentCommands = Math.round(50_000 * scale)
const oneStreamEvents = Math.round(20_000 * scale)

interface Contender {
  readonly name: string
  readonly deposit: (id: string, amount: number) => Promise<unknown>
  /** Runs `callers` loops of `perCaller` deposits, natively for the contender (fibers for Effect). */
  readonly run?: (callers: number, perCaller: number, id: (caller: number, k: number) => string) => Promise<void>
  readonly close: () => Promise<void>
}

/** The decider over a plain Map of arrays: states kept warm, events appended. */
const mapStore = () => {
  const streams = new Map<string, Array<{ _tag: "Deposited"; amount: number }>>()
  const states = new Map<string, State>()
  return (id: string, amount: number) => {
    const state = states.get(id) ?? { balance: 0 }
    const events = decide(state, depositCommand(amount))
    let stream = streams.get(id)
    if (stream === undefined) streams.set(id, stream = [])
    stream.push(...events)
    states.set(id, events.reduce(evolve, state))
  }
}

const plainMap = (): Contender => {
  const apply = mapStore()
  return {
    name: "plain Map (ceiling)",
    deposit: async (id, amount) => apply(id, amount),
    close: async () => {}
  }
}

const emmett = (): Contender => {
  const store = getInMemoryEventStore()
  const handle = CommandHandler<State, { type: "Deposited"; data: { amount: number } }>({
    evolve: (state, event) => ({ balance: state.balance + event.data.amount }),
    initialState: () => ({ balance: 0 })
  })
  return {
    name: "Emmett in-memory CommandHandler",
    deposit: (id, amount) => handle(store, id, () => ({ type: "Deposited", data: { amount } })),
    close: async () => {}
  }
}

/** Runs `deposit` from Effect fibers, as the Reventless callers do. */
const fiberCallers = <R, ER>(runtime: ManagedRuntime.ManagedRuntime<R, ER>, deposit: (id: string, amount: number) => Effect.Effect<unknown, unknown, R>) =>
  (callers: number, perCaller: number, id: (caller: number, k: number) => string) =>
    runtime.runPromise(Effect.forEach(
      Array.from({ length: callers }, (_, caller) => caller),
      (caller) => Effect.forEach(Array.from({ length: perCaller }, (_, k) => k), (k) => Effect.ignore(deposit(id(caller, k), 1)), { discard: true }),
      { concurrency: "unbounded", discard: true }
    ))

/**
 * The Effect floor: the same decider behind 16 sharded queues, each caller a fiber awaiting a
 * Deferred, no store, no codecs, no outcome by msgId. What any Effect runtime with this shape
 * pays before doing the work of an event store.
 */
const effectFloor = (): Contender => {
  const runtime = ManagedRuntime.make(Layer.empty)
  const apply = mapStore()
  const shards = runtime.runSync(Effect.forEach(Array.from({ length: 16 }), () => Queue.unbounded<{ id: string; amount: number; done: Deferred.Deferred<void> }>()))
  for (const shard of shards) {
    runtime.runFork(Effect.forever(Effect.flatMap(Queue.takeAll(shard), (batch) =>
      Effect.sync(() => {
        for (const { amount, done, id } of batch) {
          apply(id, amount)
          Deferred.doneUnsafe(done, Effect.void)
        }
      })), { disableYield: true }))
  }
  const deposit = (id: string, amount: number) =>
    Effect.suspend(() => {
      const done = Deferred.makeUnsafe<void>()
      Queue.offerUnsafe(shards[CommandTopic.hashKey({ component: "Bank.Account", id }) % shards.length]!, { id, amount, done })
      return Deferred.await(done)
    })
  return {
    name: "Effect floor: fibers + queues + Deferred",
    deposit: (id, amount) => runtime.runPromise(deposit(id, amount)),
    run: fiberCallers(runtime, deposit),
    close: () => runtime.dispose()
  }
}

const reventless = (): Contender => {
  const plugin = Plugin.make({ name: "Bank", heartbeatInterval: 60, aggregates: [Account] })
  const runtime = ManagedRuntime.make(Runtime.layer({ plugins: [plugin], concurrency: 16 }).pipe(Layer.provide(MemoryPlatform.layer)))
  const deposit = (id: string, amount: number) => Runtime.execute(Account, id, depositCommand(amount))
  return {
    name: "Reventless memory platform",
    deposit: (id, amount) => runtime.runPromise(deposit(id, amount)),
    run: fiberCallers(runtime, deposit),
    close: () => runtime.dispose()
  }
}

const runCallers = (contender: Contender, count: number, perCaller: number, id: (caller: number, k: number) => string) =>
  contender.run !== undefined
    ? contender.run(count, perCaller, id)
    : Promise.all(Array.from({ length: count }, async (_, caller) => {
      for (let k = 0; k < perCaller; k++) await contender.deposit(id(caller, k), 1)
    })).then(() => {})

const concurrent = (contender: Contender) =>
  timed(() => runCallers(contender, callers, Math.ceil(concurrentCommands / callers), (caller, k) => `acc-${(caller + callers * k) % aggregates}`))

const oneStream = (contender: Contender) => timed(() => runCallers(contender, 1, oneStreamEvents, () => "hot"))

const contenders = { plainMap, emmett, effectFloor, reventless }
type ContenderKey = keyof typeof contenders
const scenarios = { concurrent: `(a) ${callers} callers / ${aggregates} aggregates`, oneStream: "(b) 1 caller / 1 aggregate" } as const
const counts = { concurrent: concurrentCommands, oneStream: oneStreamEvents }
type Rates = { readonly name: string; readonly concurrent: number; readonly oneStream: number }

/** A full garbage collection, where the process allows it (`--expose-gc`, as the rounds run it). */
const collect = () => (globalThis as { gc?: () => void }).gc?.()

/** In a child: one contender, warmed up, both scenarios; prints its rates as JSON. */
const measure = async (key: ContenderKey): Promise<Rates> => {
  const contender = contenders[key]()
  // Warm the JIT on the same code paths (other aggregate ids), as any benchmark harness does.
  await runCallers(contender, callers, 100, (caller) => `warmup-${caller}`)
  // Each scenario starts from a collected heap: a full collection left over from the one before
  // would otherwise land in the next one's window (about 100 ms for (b)) or not, by chance.
  collect()
  const concurrentRate = concurrentCommands / await concurrent(contender)
  collect()
  const oneStreamRate = oneStreamEvents / await oneStream(contender)
  await contender.close()
  return { name: contender.name, concurrent: concurrentRate, oneStream: oneStreamRate }
}

if (contenderArgument >= 0) {
  console.log(JSON.stringify(await measure(process.argv[contenderArgument + 1] as ContenderKey)))
} else {
  const keys = Object.keys(contenders) as Array<ContenderKey>
  const results: Array<Record<ContenderKey, Rates>> = []
  for (let round = 0; round < rounds; round++) {
    const order = keys.map((_, i) => keys[(i + round) % keys.length]!)
    const byKey: Partial<Record<ContenderKey, Rates>> = {}
    for (const key of order) {
      const { stdout } = await promisify(execFile)(process.execPath, ["--no-warnings", "--expose-gc", fileURLToPath(import.meta.url), String(scale), "1", "--contender", key])
      byKey[key] = JSON.parse(stdout.trim().split("\n").at(-1)!) as Rates
    }
    results.push(byKey as Record<ContenderKey, Rates>)
    console.error(`round ${round + 1}/${rounds}: ${keys.map((key) => `${key} ${Math.round(byKey[key]!.concurrent)}/${Math.round(byKey[key]!.oneStream)}`).join(", ")} commands/s ((a)/(b))`)
  }
  const format = (value: number) => Math.round(value).toLocaleString("en-US")
  console.log(`| scenario | contender | commands | commands/s (median) | vs Emmett (median of rounds) | vs ceiling (median of rounds) |`)
  console.log(`|---|---|---:|---:|---:|---:|`)
  for (const scenario of ["concurrent", "oneStream"] as const) {
    for (const key of keys) {
      const rates = results.map((round) => round[key][scenario])
      const vsEmmett = median(results.map((round) => round[key][scenario] / round.emmett[scenario]))
      const vsCeiling = median(results.map((round) => round[key][scenario] / round.plainMap[scenario]))
      console.log(`| ${scenarios[scenario]} | ${results[0]![key].name} | ${counts[scenario]} | ${format(median(rates))} | ${vsEmmett.toFixed(2)}x | ${vsCeiling.toFixed(3)} |`)
    }
  }
}
