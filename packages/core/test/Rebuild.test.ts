/**
 * Rebuilding a read model on the memory platform, the API PostgreSQL has: a new version of the
 * projection is rebuilt from the log while the current rows answer (here the rebuild waits on a
 * parked event meanwhile), then swapped in; the running projection carries on over the new rows.
 */
import { assert, describe, it } from "@effect/vitest"
import { Aggregate, MemoryPlatform, Plugin, ReadModel, Runtime } from "@reventless/core"
import { Context, Effect, Exit, Fiber, Layer, Option, Result, Schedule, Schema, Scope } from "effect"

const Add = Schema.TaggedStruct("Add", { by: Schema.Int })
const Added = Schema.TaggedStruct("Added", { by: Schema.Int })
const Counter = Aggregate.make({
  name: "Counter",
  command: Add,
  event: Added,
  rejection: Schema.Never,
  state: Schema.Int,
  initialState: 0,
  evolve: (total: number, event) => total + event.by,
  decide: (_total, command) => Result.succeed([Added.make({ by: command.by })])
})

const Row = Schema.Struct({ value: Schema.Int })
/** Version 1 counts the additions; version 2 sums them (and cannot read `by: 7` while `broken`). */
let broken = true
const Sums = (version: 1 | 2) =>
  ReadModel.make({
    name: "Sums",
    row: Row,
    projections: [ReadModel.projection(Counter, ({ event, id }) => {
      if (version === 2 && broken && event.by === 7) throw new Error("version 2 cannot read it yet")
      return ReadModel.updateWithDefault(id, { value: 0 }, (row: typeof Row.Type) => ({ value: row.value + (version === 1 ? 1 : event.by) }))
    })]
  })
const app = (version: 1 | 2) => Plugin.make({ name: "App", heartbeatInterval: 60, aggregates: [Counter], readModels: [Sums(version)] })
const fast: Schedule.Schedule<unknown, unknown> = Schedule.spaced("1 millis").pipe(Schedule.upTo({ times: 2 }))

describe("Runtime.rebuild on the memory platform", () => {
  it.live("the current rows answer until the swap; then the rebuilt rows, and the projection carries on over them", () =>
    Effect.gen(function*() {
      const platform = Layer.succeedContext(yield* Layer.build(MemoryPlatform.layer))
      const runtimeOf = (version: 1 | 2, scope: Scope.Scope) =>
        Effect.map(Scope.provide(Layer.build(Runtime.layer({ plugins: [app(version)], retrySchedule: fast }).pipe(Layer.provide(platform))), scope), (context) =>
          Context.get(context, Runtime.Runtime))
      const add = (runtime: Runtime.Runtime["Service"], id: string, by: number) => runtime.submit({ component: "Counter", id, command: { _tag: "Add", by } })
      const value = (runtime: Runtime.Runtime["Service"], id: string) => Effect.map(runtime.query("Sums", id), Option.map((row) => (row as typeof Row.Type).value))

      // Version 1 runs and is stopped.
      const first = yield* Scope.make()
      const v1 = yield* runtimeOf(1, first)
      yield* Effect.forEach([1, 2, 3, 7, 5], (by) => add(v1, "a", by), { discard: true })
      yield* Effect.forEach([10, 20], (by) => add(v1, "b", by), { discard: true })
      yield* v1.awaitIdle
      yield* Scope.close(first, Exit.void)

      // Version 2 is deployed; its rebuild meets an event it cannot read and waits on it, parked.
      const v2 = yield* runtimeOf(2, yield* Effect.scope)
      const rebuilding = yield* Effect.forkChild(v2.rebuild("Sums"))
      const letter = yield* Effect.retry(
        Effect.flatMap(v2.deadLetters.list(), (letters) => letters.length > 0 ? Effect.succeed(letters[0]!) : Effect.fail("none yet")),
        Schedule.spaced("10 millis").pipe(Schedule.upTo({ times: 300 }))
      )
      assert.strictEqual(letter._tag === "Event" ? letter.consumer : "", "rebuild:Sums")
      assert.deepStrictEqual([yield* value(v2, "a"), yield* value(v2, "b")], [Option.some(5), Option.some(2)], "version 1's rows answer meanwhile")

      // Fixed and replayed: the rebuild finishes and swaps version 2's rows in.
      broken = false
      yield* v2.deadLetters.replay(letter.id)
      const done = yield* Fiber.join(rebuilding)
      assert.strictEqual(done.phase, "done")
      assert.deepStrictEqual([yield* value(v2, "a"), yield* value(v2, "b")], [Option.some(18), Option.some(30)])

      // The running projection carries on from the swap, over the new rows.
      yield* add(v2, "a", 100)
      yield* add(v2, "c", 1)
      yield* v2.awaitIdle
      assert.deepStrictEqual([yield* value(v2, "a"), yield* value(v2, "c")], [Option.some(118), Option.some(1)])
      const status = yield* v2.status()
      assert.deepStrictEqual(status.consumers.map((consumer) => [consumer.name, consumer.checkpoint]), [["projection:Sums", status.head]])
    }).pipe(Effect.scoped))
})
