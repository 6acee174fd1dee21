/**
 * Knowing when a deployment has nothing left to do: no command pending, no task running, nothing
 * due on the scheduler, and every consumer caught up with the log (or waiting on a dead letter),
 * this process's consumers by their status and the others by their durable checkpoints. `settle`
 * also works every TODO list this process owns until a sweep appends nothing.
 */
import { type Clock, Effect } from "effect"
import type { BlobStore } from "../BlobStore.ts"
import type { Checkpoints } from "../Checkpoints.ts"
import type { CommandTopic } from "../CommandTopic.ts"
import type { DeadLetters } from "../DeadLetters.ts"
import type { InfrastructureError } from "../Errors.ts"
import type * as Event from "../Event.ts"
import type { EventStore } from "../EventStore.ts"
import type { Scheduler } from "../Scheduler.ts"
import type { Activity } from "./activity.ts"
import type { ConsumerStatus } from "./consumers.ts"
import type { Ownership } from "./ownership.ts"

export interface IdleDeps {
  readonly store: EventStore["Service"]
  readonly commands: CommandTopic["Service"]
  readonly blobs: BlobStore["Service"]
  readonly scheduler: Scheduler["Service"]
  readonly checkpoints: Checkpoints["Service"]
  readonly deadLetters: DeadLetters["Service"]
  readonly clock: Clock.Clock
  readonly activity: Activity
  /** Tasks and sweeps in progress. */
  readonly running: { readonly count: number }
  readonly statuses: ReadonlyArray<ConsumerStatus>
  readonly ownership: Ownership
  /** Every TODO list's sweep, by the name of its work. */
  readonly sweeps: ReadonlyMap<string, Effect.Effect<void>>
}

/** How often `awaitIdle` looks again while some consumer runs in another process (it hears nothing of it). */
const remotePoll = "50 millis"

export const make = (deps: IdleDeps) => {
  const { activity, checkpoints, ownership, statuses, store } = deps

  const busy = Effect.gen(function*() {
    return (yield* deps.commands.pending) > 0 || deps.running.count > 0 || (yield* deps.blobs.pending) > 0
  })

  /** Consumers another process runs (or nobody, between owners). */
  const elsewhere = () => statuses.filter((status) => !ownership.runs(status.name))

  /**
   * Whether every consumer has reached `head` or waits on a dead letter: this process's own by
   * their status, the others by their durable checkpoints and the dead letters.
   */
  const consumersCaughtUp = (head: Event.Position) =>
    Effect.gen(function*() {
      const remote = elsewhere()
      for (const status of statuses) {
        if (!remote.includes(status) && status.stalledOn === undefined && status.position < head) return false
      }
      if (remote.length === 0) return true
      const saved = yield* checkpoints.all
      const behind = remote.filter((status) => (saved.get(status.name) ?? 0) < head)
      if (behind.length === 0) return true
      const stalled = new Set((yield* deps.deadLetters.list).flatMap((letter) => letter._tag === "Event" ? [letter.consumer] : []))
      return behind.every((status) => stalled.has(status.name))
    })

  /**
   * Nothing to do, and nothing started while we looked: a consumer publishes its commands before
   * its checkpoint moves, so work it began after the first look shows in the second, and a
   * command handled in between has moved the head.
   */
  const isIdle = Effect.gen(function*() {
    if (yield* busy) return false
    if ((yield* deps.scheduler.due(deps.clock.currentTimeMillisUnsafe(), 1)).length > 0) return false
    const head = yield* store.head
    if (!(yield* consumersCaughtUp(head))) return false
    if (yield* busy) return false
    return (yield* store.head) === head
  })

  const awaitIdle: Effect.Effect<void, InfrastructureError> = Effect.suspend(() => {
    const seen = activity.generation()
    return Effect.flatMap(isIdle, (idle) => {
      if (idle) return Effect.void
      const change = activity.awaitChange(seen)
      return Effect.andThen(elsewhere().length === 0 ? change : Effect.raceFirst(change, Effect.sleep(remotePoll)), awaitIdle)
    })
  })

  /** The sweeps of the TODO lists this process owns; another process's run on their heartbeat. */
  const sweepAll = Effect.suspend(() => Effect.forEach([...deps.sweeps].filter(([name]) => ownership.runs(name)), ([, once]) => once, { discard: true }))

  const settle: Effect.Effect<void, InfrastructureError> = Effect.gen(function*() {
    yield* awaitIdle
    for (let round = 0; round < 10; round++) {
      const before = yield* store.head
      yield* sweepAll
      yield* awaitIdle
      if ((yield* store.head) === before) return
    }
  })

  return { awaitIdle, settle }
}
