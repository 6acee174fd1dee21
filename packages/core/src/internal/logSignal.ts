/**
 * In-process wake-up for the memory platform: the memory EventStore bumps it on every append,
 * and the memory EventTopic waits on it.
 */
import { Context, Deferred, Effect, Layer } from "effect"

export class LogSignal extends Context.Service<LogSignal, {
  readonly notify: (head: number) => void
  readonly awaitAfter: (position: number) => Effect.Effect<void>
}>()("@reventless/core/internal/LogSignal") {}

export const layer: Layer.Layer<LogSignal> = Layer.sync(LogSignal, () => {
  let head = 0
  let waiting: Array<Deferred.Deferred<void>> = []
  return LogSignal.of({
    notify: (next) => {
      head = next
      if (waiting.length === 0) return
      const woken = waiting
      waiting = []
      for (const deferred of woken) Deferred.doneUnsafe(deferred, Effect.void)
    },
    awaitAfter: (position) =>
      Effect.suspend(() => {
        if (head > position) return Effect.void
        const deferred = Deferred.makeUnsafe<void>()
        waiting.push(deferred)
        return Deferred.await(deferred)
      })
  })
})
