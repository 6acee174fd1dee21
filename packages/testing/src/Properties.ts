/**
 * Laws every aggregate and read model should obey, as plain assertions to call from property
 * tests (`it.prop` with Schema-derived arbitraries):
 * replaying emitted events rebuilds the same state, a repeated idempotent command emits nothing,
 * decide never throws on a decoded command, and a read model equals the fold of its events.
 *
 * @since 0.1.0
 */
import { assert } from "@effect/vitest"
import { Aggregate, type QueryEngine, ReadModel } from "@reventless/core"
import { Exit, type Layer } from "effect"
import { decide } from "./DeciderSpec.ts"

/**
 * Runs the commands in order (rejections leave the state as it is) and returns the emitted events
 * and the state reached step by step.
 *
 * @since 0.1.0
 * @category combinators
 */
export const run = <State, Command, Event, Rejection>(
  aggregate: Aggregate.Aggregate<string, State, Command, Event, Rejection>,
  commands: ReadonlyArray<Command>,
  queries?: Layer.Layer<QueryEngine.QueryEngine>
): { readonly events: ReadonlyArray<Event>; readonly state: State } => {
  const events: Array<Event> = []
  let state = aggregate.initialState
  for (const command of commands) {
    const exit = decide(aggregate, events, command, queries)
    if (Exit.isFailure(exit)) {
      assert.isTrue(Exit.hasFails(exit), `decide died on ${JSON.stringify(command)}: ${String(exit.cause)}`)
      continue
    }
    for (const event of exit.value) {
      events.push(event)
      state = aggregate.evolve(state, event)
    }
  }
  return { events, state }
}

/**
 * Folding the emitted events from the initial state gives the state reached step by step, and
 * folding twice gives the same result (evolve is deterministic). Also checks decide never throws.
 *
 * @since 0.1.0
 * @category laws
 */
export const replayIsDeterministic = <State, Command, Event, Rejection>(
  aggregate: Aggregate.Aggregate<string, State, Command, Event, Rejection>,
  commands: ReadonlyArray<Command>,
  queries?: Layer.Layer<QueryEngine.QueryEngine>
): void => {
  const { events, state } = run(aggregate, commands, queries)
  assert.deepStrictEqual(Aggregate.fold(aggregate, events), state)
  assert.deepStrictEqual(Aggregate.fold(aggregate, events), Aggregate.fold(aggregate, events))
}

/**
 * After the commands, repeating `command` once it was accepted emits no events.
 *
 * @since 0.1.0
 * @category laws
 */
export const repeatIsIdempotent = <State, Command, Event, Rejection>(
  aggregate: Aggregate.Aggregate<string, State, Command, Event, Rejection>,
  history: ReadonlyArray<Command>,
  command: Command,
  queries?: Layer.Layer<QueryEngine.QueryEngine>
): void => {
  const { events } = run(aggregate, history, queries)
  const first = decide(aggregate, events, command, queries)
  if (Exit.isFailure(first)) return
  const second = decide(aggregate, [...events, ...first.value], command, queries)
  if (Exit.isSuccess(second)) assert.deepStrictEqual(second.value, [], `repeating ${JSON.stringify(command)} emitted events`)
}

/**
 * Projects events of one source into rows held in a map: the reference fold a platform's read
 * model must equal.
 *
 * @since 0.1.0
 * @category combinators
 */
export const foldReadModel = <Row>(
  readModel: ReadModel.ReadModel<string, Row>,
  events: ReadonlyArray<{ readonly source: string; readonly id: string; readonly event: unknown }>
): Map<string, Row> => {
  const rows = new Map<string, Row>()
  events.forEach(({ event, id, source }, index) => {
    const projection = readModel.projections.find((p) => p.source.name === source)
    if (projection === undefined) return
    const meta = { service: "spec", time: new Date(0).toISOString(), ip: "", user: "spec", msgId: `m${index}`, correlationId: `m${index}` }
    ReadModel.apply(rows, projection.project({ event, id, meta, position: index + 1, recordedAt: meta.time }))
  })
  return rows
}
