/**
 * The race check catches a store whose conditional append is not atomic: one that checks the
 * condition, lets other fibers run, then writes.
 */
import { assert, describe, it } from "@effect/vitest"
import { DcbEventStore } from "@reventless/core"
import { Effect, Layer, Option, Stream } from "effect"
import { DcbConformance } from "../src/index.ts"

/** Checks, yields, writes: two appends can both pass the check before either writes. */
const nonAtomic = Layer.effect(
  DcbEventStore.DcbEventStore,
  Effect.map(Effect.provide(Effect.service(DcbEventStore.DcbEventStore), DcbEventStore.layerMemory), (inner) =>
    DcbEventStore.DcbEventStore.of({
      ...inner,
      append: (events, condition) =>
        Effect.gen(function*() {
          if (condition !== undefined) {
            const after = condition.after ?? 0
            const clash = yield* Stream.runHead(inner.read(condition.failIfEventsMatch, { after }))
            if (Option.isSome(clash)) return yield* DcbEventStore.conflictOf(condition, clash.value.position)
          }
          yield* Effect.yieldNow
          return yield* inner.append(events)
        })
    }))
)

/** Atomic, but looks only at the first clause of a condition. */
const firstClauseOnly = Layer.effect(
  DcbEventStore.DcbEventStore,
  Effect.map(Effect.provide(Effect.service(DcbEventStore.DcbEventStore), DcbEventStore.layerMemory), (inner) =>
    DcbEventStore.DcbEventStore.of({
      ...inner,
      append: (events, condition) =>
        inner.append(events, condition === undefined ? undefined : { ...condition, failIfEventsMatch: condition.failIfEventsMatch.slice(0, 1) })
    }))
)

describe("DcbConformance.race", () => {
  it.effect("passes on the memory store", () =>
    Effect.gen(function*() {
      const { violations, winners } = yield* DcbConformance.race([0, 0, 0, 1, 1], 1)
      assert.deepStrictEqual([...winners], [[0, 1], [1, 1]])
      assert.deepStrictEqual(violations, [])
    }).pipe(Effect.provide(DcbEventStore.layerMemory)))

  it.effect("catches a store that checks and writes in two steps: several winners, and no serial order explains the log", () =>
    Effect.gen(function*() {
      const { violations, winners } = yield* DcbConformance.race([0, 0, 0, 1, 1], 1)
      assert.isAbove(winners.get(0)!, 1)
      assert.isNotEmpty(violations)
      assert.include(violations[0]!, "required nothing matching its query after")
    }).pipe(Effect.provide(nonAtomic)))

  it.effect("catches a store that checks only the first clause of a condition", () =>
    Effect.gen(function*() {
      const { violations, winners } = yield* DcbConformance.race([0, 0, 0], 1)
      assert.isAbove(winners.get(0)!, 1)
      assert.isNotEmpty(violations)
    }).pipe(Effect.provide(firstClauseOnly)))
})
