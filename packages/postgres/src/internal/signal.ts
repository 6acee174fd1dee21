/** A wake-up: waiters park until the next `bump`. */
import { Deferred, Effect } from "effect"

export interface Signal {
  readonly bump: () => void
  /** Completes at the next bump. */
  readonly next: Effect.Effect<void>
}

export const make = (): Signal => {
  let waiters: Array<Deferred.Deferred<void>> = []
  return {
    bump: () => {
      const woken = waiters
      waiters = []
      for (const deferred of woken) Deferred.doneUnsafe(deferred, Effect.void)
    },
    next: Effect.suspend(() => {
      const deferred = Deferred.makeUnsafe<void>()
      waiters.push(deferred)
      return Deferred.await(deferred)
    })
  }
}
