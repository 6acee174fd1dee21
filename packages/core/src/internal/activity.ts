/**
 * A progress signal: every unit of work the runtime finishes bumps it, and `awaitIdle` re-checks
 * its condition after each bump instead of polling a clock (so it also works under TestClock).
 */
import { Deferred, Effect } from "effect"

export interface Activity {
  readonly bump: () => void
  /** Waits for the next bump after `generation`. */
  readonly awaitChange: (generation: number) => Effect.Effect<void>
  readonly generation: () => number
}

export const make = (): Activity => {
  let generation = 0
  let waiting: Array<Deferred.Deferred<void>> = []
  return {
    bump: () => {
      generation++
      if (waiting.length === 0) return
      const woken = waiting
      waiting = []
      for (const deferred of woken) Deferred.doneUnsafe(deferred, Effect.void)
    },
    awaitChange: (seen) =>
      Effect.suspend(() => {
        if (generation > seen) return Effect.void
        const deferred = Deferred.makeUnsafe<void>()
        waiting.push(deferred)
        return Deferred.await(deferred)
      }),
    generation: () => generation
  }
}
