/**
 * In-process wake-up for the memory platform: the memory EventStore reports every new head, and
 * the memory EventTopic waits for one past a position.
 */
import { Context, Effect, Layer } from "effect"
import * as Activity from "./activity.ts"

export class LogSignal extends Context.Service<LogSignal, {
  readonly notify: (head: number) => void
  readonly awaitAfter: (position: number) => Effect.Effect<void>
}>()("@reventless/core/internal/LogSignal") {}

export const layer: Layer.Layer<LogSignal> = Layer.sync(LogSignal, () => {
  const activity = Activity.make()
  let head = 0
  const awaitAfter = (position: number): Effect.Effect<void> =>
    Effect.suspend(() => {
      const seen = activity.generation()
      return head > position ? Effect.void : Effect.andThen(activity.awaitChange(seen), awaitAfter(position))
    })
  return LogSignal.of({
    notify: (next) => {
      head = next
      activity.bump()
    },
    awaitAfter
  })
})
