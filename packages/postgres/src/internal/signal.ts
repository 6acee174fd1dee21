/** A wake-up: waiters park until the next `bump`. */
import { Deferred, Effect } from "effect"

export interface Signal {
  readonly bump: () => void
  /** Completes at the next bump (or at once after a bump nobody waited for, if `latched`). */
  readonly next: Effect.Effect<void>
}

/**
 * `latched`: a bump with no waiter is kept for the next `next`, so a loop that checks for work
 * and then waits never sleeps through a bump that came while it was checking.
 */
export const make = (options: { readonly latched?: boolean } = {}): Signal => {
  let waiters: Array<Deferred.Deferred<void>> = []
  let latched = false
  return {
    bump: () => {
      if (waiters.length === 0) {
        latched = options.latched === true
        return
      }
      const woken = waiters
      waiters = []
      for (const deferred of woken) Deferred.doneUnsafe(deferred, Effect.void)
    },
    next: Effect.suspend(() => {
      if (latched) {
        latched = false
        return Effect.void
      }
      const deferred = Deferred.makeUnsafe<void>()
      waiters.push(deferred)
      // A waiter that gave up (lost a race) must not swallow a later bump.
      return Effect.onInterrupt(Deferred.await(deferred), () => Effect.sync(() => void (waiters = waiters.filter((waiter) => waiter !== deferred))))
    })
  }
}
