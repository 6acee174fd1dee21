/**
 * The DCB event store contract (dcb.events), written once for every platform: query matching,
 * conditional and unconditional appends, positions, streaming reads, and a race of conflicting
 * conditional appends whose log must be explainable by some serial order. A platform's test file
 * calls `suite(name, layer)` with a layer that builds a fresh, empty store.
 *
 * @since 0.1.0
 */
import { assert, describe, it } from "@effect/vitest"
import { DcbEventStore, Message } from "@reventless/core"
import { Deferred, Effect, Exit, type Layer, Schema, Stream } from "effect"

const meta = Message.makeMeta({ msgId: "dcb-conformance" }, new Date(0).toISOString())

/**
 * An event to append in these checks.
 *
 * @since 0.1.0
 * @category constructors
 */
export const event = (type: string, tags: ReadonlyArray<string>, data: unknown = {}): DcbEventStore.NewEvent => ({ type, tags, data, meta })

const readAll = (query: DcbEventStore.Query, after?: number) =>
  Effect.flatMap(DcbEventStore.DcbEventStore, (store) => Stream.runCollect(store.read(query, { after })))

/**
 * A successful append, as the race saw it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Committed {
  readonly condition: DcbEventStore.AppendCondition | undefined
  readonly count: number
  /** The last position the append wrote. */
  readonly position: number
}

/**
 * The ways `log` cannot be explained by running `commits` one after another, each at its place:
 * an append whose events are not contiguous, or whose condition was already broken by an event
 * before its own first event. Empty when the store behaved.
 *
 * @since 0.1.0
 * @category checks
 */
export const serialViolations = (log: ReadonlyArray<DcbEventStore.SequencedEvent>, commits: ReadonlyArray<Committed>): Array<string> => {
  const violations: Array<string> = []
  const index = new Map(log.map((event, i) => [event.position, i]))
  for (const commit of commits) {
    const last = index.get(commit.position)
    if (last === undefined || last - commit.count + 1 < 0) {
      violations.push(`append ending at ${commit.position} is not in the log`)
      continue
    }
    const first = last - commit.count + 1
    const firstPosition = log[first]!.position
    if (commit.condition === undefined) continue
    const after = commit.condition.after ?? 0
    const broken = log.slice(0, first).find((e) => e.position > after && DcbEventStore.matches(commit.condition!.failIfEventsMatch, e))
    if (broken !== undefined) {
      violations.push(`append at ${firstPosition} required nothing matching its query after ${after}, but ${broken.type} at ${broken.position} was there`)
    }
  }
  const positions = log.map((e) => e.position)
  if (positions.some((p, i) => i > 0 && p <= positions[i - 1]!)) violations.push("positions do not strictly increase")
  return violations
}

/**
 * Races `claims.length` fibers: fiber i reads the events tagged `slot:<claims[i]>`, waits until
 * every fiber has read, then appends a claim on that slot on the condition that nothing tagged
 * with it arrived since its read. Returns the winners per slot, the losers' errors, and the
 * serial-order violations of the final log.
 *
 * @since 0.1.0
 * @category checks
 */
export const race = (claims: ReadonlyArray<number>, existing: number) =>
  Effect.gen(function*() {
    const store = yield* DcbEventStore.DcbEventStore
    const slots = [...new Set(claims)]
    for (const slot of slots) {
      for (let i = 0; i < existing; i++) yield* store.append([event("Seeded", [`slot:${slot}`])])
    }
    const allRead = yield* Deferred.make<void>()
    let reads = 0
    const attempts = yield* Effect.forEach(claims, (slot, fiber) =>
      Effect.gen(function*() {
        // The slot's clause comes second: a store must consider every clause of a condition.
        const query: DcbEventStore.Query = [{ tags: ["unrelated:0"] }, { tags: [`slot:${slot}`] }]
        const seen = yield* Stream.runCollect(store.read(query))
        const after = seen.length === 0 ? 0 : seen[seen.length - 1]!.position
        if (++reads === claims.length) yield* Deferred.succeed(allRead, undefined)
        yield* Deferred.await(allRead)
        const condition: DcbEventStore.AppendCondition = { failIfEventsMatch: query, after }
        // A store may abort a contender with a retryable error (a serialization failure): it retries.
        const exit = yield* Effect.exit(store.append([event("Claimed", [`slot:${slot}`], { fiber })], condition).pipe(
          Effect.retry({ while: (error) => error._tag === "InfrastructureError" && error.retryable, times: 5 })
        ))
        return { slot, condition, exit }
      }), { concurrency: "unbounded" })
    const winners = new Map<number, number>(slots.map((slot) => [slot, 0]))
    const commits: Array<Committed> = []
    const losers: Array<unknown> = []
    for (const { condition, exit, slot } of attempts) {
      if (Exit.isSuccess(exit)) {
        winners.set(slot, winners.get(slot)! + 1)
        commits.push({ condition, count: 1, position: exit.value.position })
      } else losers.push(Exit.findErrorOption(exit))
    }
    const log = yield* Stream.runCollect(store.read(DcbEventStore.all))
    return { winners, losers, violations: serialViolations(log, commits) }
  })

/**
 * Registers the suite for one store. `store` must build a fresh, empty store each time.
 *
 * @since 0.1.0
 * @category suites
 */
export const suite = <E>(name: string, store: Layer.Layer<DcbEventStore.DcbEventStore, E>) =>
  describe(`DCB conformance: ${name}`, () => {
    const seed = Effect.flatMap(DcbEventStore.DcbEventStore, (s) =>
      s.append([
        event("ProductAdded", ["product:p1", "category:c1"]),
        event("ProductAdded", ["product:p2", "category:c2"]),
        event("CategoryRenamed", ["category:c1"]),
        event("ProductPriced", ["product:p1"])
      ]))

    it.effect("a query item matches by types, by all of its tags, or both; items are OR-ed", () =>
      Effect.gen(function*() {
        yield* seed
        const types = (events: ReadonlyArray<DcbEventStore.SequencedEvent>) => events.map((e) => `${e.type}@${e.position}`)
        assert.deepStrictEqual(types(yield* readAll([{ types: ["ProductAdded"] }])), ["ProductAdded@1", "ProductAdded@2"])
        assert.deepStrictEqual(types(yield* readAll([{ tags: ["product:p1"] }])), ["ProductAdded@1", "ProductPriced@4"])
        assert.deepStrictEqual(types(yield* readAll([{ tags: ["product:p1", "category:c1"] }])), ["ProductAdded@1"])
        assert.deepStrictEqual(types(yield* readAll([{ types: ["ProductAdded", "CategoryRenamed"], tags: ["category:c1"] }])), ["ProductAdded@1", "CategoryRenamed@3"])
        assert.deepStrictEqual(types(yield* readAll([{ types: ["ProductPriced"] }, { tags: ["category:c2"] }])), ["ProductAdded@2", "ProductPriced@4"])
        assert.deepStrictEqual(types(yield* readAll(DcbEventStore.all, 2)), ["CategoryRenamed@3", "ProductPriced@4"])
        assert.deepStrictEqual(yield* readAll([]), [])
      }).pipe(Effect.provide(store)))

    it.effect("an unconditional append always succeeds, all of its events in order, positions increasing", () =>
      Effect.gen(function*() {
        const s = yield* DcbEventStore.DcbEventStore
        const first = yield* s.append([event("A", ["x:1"]), event("B", ["x:1"])])
        const second = yield* s.append([event("A", ["x:1"])])
        assert.isTrue(second.position > first.position)
        const log = yield* readAll(DcbEventStore.all)
        assert.deepStrictEqual(log.map((e) => e.type), ["A", "B", "A"])
        assert.deepStrictEqual(log[log.length - 1]!.position, second.position)
        assert.isTrue(log.every((e, i) => i === 0 || e.position > log[i - 1]!.position))
        assert.strictEqual(yield* s.head, second.position)
      }).pipe(Effect.provide(store)))

    it.effect("a condition without `after` fails if any matching event exists at all", () =>
      Effect.gen(function*() {
        const s = yield* DcbEventStore.DcbEventStore
        yield* seed
        const conflict = yield* Effect.flip(s.append([event("ProductAdded", ["product:p1"])], { failIfEventsMatch: [{ types: ["ProductAdded"], tags: ["product:p1"] }] }))
        assert.strictEqual(conflict._tag, "DcbConflict")
        yield* s.append([event("ProductAdded", ["product:p3"])], { failIfEventsMatch: [{ types: ["ProductAdded"], tags: ["product:p3"] }] })
        assert.strictEqual((yield* readAll([{ tags: ["product:p3"] }])).length, 1)
      }).pipe(Effect.provide(store)))

    it.effect("a condition with `after` fails only for matching events after that position; a failed append writes nothing", () =>
      Effect.gen(function*() {
        const s = yield* DcbEventStore.DcbEventStore
        yield* seed
        const query: DcbEventStore.Query = [{ tags: ["category:c1"] }]
        // Matching events at 1 and 3: reading up to 3 is current, up to 2 is stale.
        yield* s.append([event("ProductAdded", ["product:p9", "category:c1"])], { failIfEventsMatch: query, after: 3 })
        const head = yield* s.head
        const stale = yield* Effect.flip(s.append([event("X", ["category:c1"]), event("Y", [])], { failIfEventsMatch: query, after: 2 }))
        assert.strictEqual(stale._tag, "DcbConflict")
        assert.strictEqual(yield* s.head, head)
        assert.deepStrictEqual((yield* readAll([{ types: ["X", "Y"] }])).length, 0)
        // Events that do not match the query never conflict.
        yield* s.append([event("Z", ["category:c2"])], { failIfEventsMatch: [{ types: ["Nothing"] }], after: 0 })
      }).pipe(Effect.provide(store)))

    it.effect("a condition conflicts on any of its clauses; a clause with several tags only on events carrying all of them", () =>
      Effect.gen(function*() {
        const s = yield* DcbEventStore.DcbEventStore
        yield* seed
        const stale = yield* Effect.flip(s.append([event("X", [])], { failIfEventsMatch: [{ tags: ["product:p9"] }, { types: ["CategoryRenamed"] }], after: 2 }))
        assert.strictEqual(stale._tag, "DcbConflict")
        assert.strictEqual(stale._tag === "DcbConflict" ? stale.position : 0, 3)
        // Nothing carries both product:p1 and category:c2, so this holds.
        yield* s.append([event("Y", [])], { failIfEventsMatch: [{ tags: ["product:p1", "category:c2"] }], after: 0 })
      }).pipe(Effect.provide(store)))

    it.effect("reads stream the log a chunk at a time, from any position", () =>
      Effect.gen(function*() {
        const s = yield* DcbEventStore.DcbEventStore
        for (let i = 0; i < 700; i++) yield* s.append([event(i % 2 === 0 ? "Even" : "Odd", [`n:${i}`], { i })])
        assert.strictEqual((yield* readAll(DcbEventStore.all)).length, 700)
        const odd = yield* readAll([{ types: ["Odd"] }])
        assert.strictEqual(odd.length, 350)
        const middle = odd[174]!.position
        assert.deepStrictEqual((yield* readAll([{ types: ["Odd"] }], middle)).map((e) => e.data), odd.slice(175).map((e) => e.data))
      }).pipe(Effect.provide(store)))

    it.effect.prop(
      "racing conditional appends: one winner per conflict set, the losers get DcbConflict, a serial order explains the log",
      [Schema.Array(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 3 }))).check(Schema.isMinLength(2)), Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 2 }))],
      ([claims, existing]) =>
        Effect.gen(function*() {
          const { losers, violations, winners } = yield* race(claims, existing)
          assert.deepStrictEqual([...winners.values()].filter((count) => count !== 1), [])
          assert.strictEqual(losers.length, claims.length - winners.size)
          for (const loser of losers) assert.strictEqual((loser as { value?: { _tag?: string } }).value?._tag, "DcbConflict")
          assert.deepStrictEqual(violations, [])
        }).pipe(Effect.provide(store)),
      { arbitrary: { runs: 50 } }
    )
  })
