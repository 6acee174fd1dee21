import { EventStore, MemoryPlatform, Plugin, ReadModel, Runtime } from "@reventless/core"
import { Effect, Layer, ManagedRuntime, Schema } from "effect"
import { Account, evolve } from "./account.ts"
const Balances = ReadModel.make({
  name: "Balances",
  row: Schema.Struct({ balance: Schema.Finite }),
  projections: [ReadModel.projection(Account, ({ event, id }) => ReadModel.updateWithDefault(id, Account.initialState, (row) => evolve(row, event)))]
})
const platform = Layer.fresh(MemoryPlatform.layer)
const base = ManagedRuntime.make(platform)
const ctx = await base.runPromise(Effect.context<any>())
const events = Array.from({ length: 100 }, () => ({ type: "Bank.Account.Deposited", schemaVersion: 1, data: { _tag: "Deposited", amount: 1 } }))
let n = 0
await base.runPromise(Effect.flatMap(Effect.service(EventStore.EventStore), (store) => Effect.forEach(Array.from({ length: 2000 }, (_, i) => i), (i) => {
  const msgId = `m${n++}`
  return store.commit([{ _tag: "Append", request: { msgId, source: "Bank.Account", streamId: `s${i}`, expectedVersion: 0, events, meta: { service: "b", time: "", ip: "", user: "u", msgId, correlationId: msgId } } }])
}, { discard: true })))
const plugin = Plugin.make({ name: "Bank", heartbeatInterval: 60, aggregates: [Account], readModels: [Balances] })
const rt = ManagedRuntime.make(Runtime.layer({ plugins: [plugin], concurrency: 16, batchSize: 1000 }).pipe(Layer.provide(Layer.succeedContext(ctx))))
const t = performance.now()
await rt.runPromise(Runtime.awaitIdle)
const s = (performance.now() - t) / 1000
console.log(`${Math.round(200000 / s)} events/s`)
await rt.dispose(); await base.dispose()
