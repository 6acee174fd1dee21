/**
 * Specification-style tests for state-change slices: given the events in the log, when a command,
 * then the events or the rejection. The given events pass through exactly what the runtime reads:
 * the command's query (by type and tags) and the consumed-event schema, so an event the slice
 * would not see does not count here either.
 *
 * @since 0.1.0
 */
import { DcbEventStore, type Errors, StateChangeSlice } from "@reventless/core"
import { Effect, type Exit, type Layer } from "effect"
import { emptyQueries, expect } from "./DeciderSpec.ts"
import type { QueryEngine } from "@reventless/core"

/**
 * The events the slice's decision for `command` reads from `log` (tagged events with a `_tag`).
 *
 * @since 0.1.0
 * @category helpers
 */
export const visible = (
  slice: StateChangeSlice.Any,
  log: ReadonlyArray<unknown>,
  command: unknown
): ReadonlyArray<unknown> => {
  const query = StateChangeSlice.queryFor(slice, command)
  return log.filter((event) => {
    const type = (event as { readonly _tag?: unknown })._tag
    // Tagged as the slice reads them (Plugin.validate rejects a producer that leaves out a tag its
    // consumers read by); a type the slice does not consume by its tag fields' names.
    return typeof type === "string" && DcbEventStore.matches(query, { type, tags: StateChangeSlice.tagsOf(event, slice.consumedEvent) })
  })
}

/**
 * Runs the slice's decision against the events of `log` it can see.
 *
 * @since 0.1.0
 * @category helpers
 */
export const decide = <State, Command, Event, Rejection>(
  slice: StateChangeSlice.StateChangeSlice<string, State, Command, Event, unknown, Rejection>,
  log: ReadonlyArray<unknown>,
  command: Command,
  queries: Layer.Layer<QueryEngine.QueryEngine> = emptyQueries
): Exit.Exit<ReadonlyArray<Event>, Rejection | Errors.InfrastructureError> => {
  const events = visible(slice as StateChangeSlice.Any, log, command).map((data) => ({ type: (data as { readonly _tag: string })._tag, data }))
  return Effect.runSyncExit(
    Effect.flatMap(Effect.orDie(Effect.fromResult(StateChangeSlice.fold(slice, events))), (state) => StateChangeSlice.decideEffect(slice, state, command))
      .pipe(Effect.provide(queries))
  )
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = <State, Command, Event, Rejection>(
  slice: StateChangeSlice.StateChangeSlice<string, State, Command, Event, unknown, Rejection>,
  queries?: Layer.Layer<QueryEngine.QueryEngine>
) => ({
  given: (...log: ReadonlyArray<unknown>) => ({
    when: (command: Command) => expect(decide(slice, log, command, queries))
  })
})
