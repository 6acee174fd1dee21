/**
 * Specification-style tests for aggregates, as in Emmett's `DeciderSpecification`: given past
 * events, when a command, then the expected events or rejection.
 *
 * @since 0.1.0
 */
import { Aggregate, type Errors, QueryEngine } from "@reventless/core"
import { assert } from "@effect/vitest"
import { Effect, Exit, Layer, Option } from "effect"

/**
 * A query engine that finds nothing, for decisions that read read models; pass your own layer
 * to `for` for anything else.
 *
 * @since 0.1.0
 * @category layers
 */
export const emptyQueries: Layer.Layer<QueryEngine.QueryEngine> = Layer.succeed(
  QueryEngine.QueryEngine,
  QueryEngine.QueryEngine.of({
    get: () => Effect.succeedNone,
    list: () => Effect.succeed({ items: [], next: Option.none() })
  })
)

/**
 * A query engine over fixed rows, by read model name and id, for decisions that read read
 * models: `fixedQueries({ Customers: { alice: { active: true } } })`. `list` returns every row of
 * the read model, in id order.
 *
 * @since 0.1.0
 * @category layers
 */
export const fixedQueries = (rows: Readonly<Record<string, Readonly<Record<string, unknown>>>>): Layer.Layer<QueryEngine.QueryEngine> =>
  Layer.succeed(
    QueryEngine.QueryEngine,
    QueryEngine.QueryEngine.of({
      get: <Row>(readModel: { readonly name: string }, id: string) =>
        Effect.succeed(Option.fromUndefinedOr(rows[readModel.name]?.[id] as Row | undefined)),
      list: <Row>(readModel: { readonly name: string }) =>
        Effect.succeed({
          items: Object.entries(rows[readModel.name] ?? {}).sort(([a], [b]) => a < b ? -1 : 1).map(([id, row]) => ({ id, row: row as Row })),
          next: Option.none<string>()
        })
    })
  )

/**
 * Runs a decision (either form) against the state folded from `given`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const decide = <State, Command, Event, Rejection>(
  aggregate: Aggregate.Aggregate<string, State, Command, Event, Rejection>,
  given: ReadonlyArray<Event>,
  command: Command,
  queries: Layer.Layer<QueryEngine.QueryEngine> = emptyQueries
): Exit.Exit<ReadonlyArray<Event>, Rejection | Errors.InfrastructureError> =>
  Effect.runSyncExit(
    // suspended, so a decide that throws is reported as a defect of this command, not a crash
    Effect.suspend(() =>
      Aggregate.decideEffect(aggregate, Aggregate.fold(aggregate, given), command, { id: "spec", user: "spec", time: new Date(0).toISOString() })
    ).pipe(Effect.provide(queries))
  )

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = <State, Command, Event, Rejection>(
  aggregate: Aggregate.Aggregate<string, State, Command, Event, Rejection>,
  queries?: Layer.Layer<QueryEngine.QueryEngine>
) => ({
  given: (...events: ReadonlyArray<Event>) => ({
    when: (command: Command) => expect(decide(aggregate, events, command, queries))
  })
})

/**
 * The `then` / `thenRejects` assertions over a decision's exit, shared by the spec helpers.
 *
 * @since 0.1.0
 * @category assertions
 */
export const expect = <Event, Rejection>(exit: Exit.Exit<ReadonlyArray<Event>, Rejection>) => ({
  /** Expects exactly these events (none for an idempotent command). */
  then: (...expected: ReadonlyArray<Event>) => {
    if (Exit.isFailure(exit)) assert.fail(`expected events, got ${String(exit.cause)}`)
    assert.deepStrictEqual(exit.value, expected)
  },
  /** Expects a rejection with this tag and these fields. */
  thenRejects: (expected: Rejection) => {
    if (Exit.isSuccess(exit)) assert.fail(`expected rejection ${JSON.stringify(expected)}, got events ${JSON.stringify(exit.value)}`)
    const error = Exit.findErrorOption(exit)
    assert.isTrue(Option.isSome(error), `expected a rejection, got ${String(exit.cause)}`)
    assert.deepStrictEqual({ ...Option.getOrThrow(error) as object }, { ...expected as object })
    assert.strictEqual((Option.getOrThrow(error) as { readonly _tag?: unknown })._tag, (expected as { readonly _tag?: unknown })._tag)
  }
})
