/**
 * Work that kept failing after its retries (guarantee 6). A parked command blocks nothing else;
 * a parked event stalls only its own consumer, which waits until an operator replays the event
 * (try again) or skips it (move past it). Nothing is retried forever, nothing dropped silently.
 *
 * @since 0.1.0
 */
import { Context, Deferred, Effect, Layer, Schema } from "effect"
import { BlobCreated } from "./BlobStore.ts"
import { Envelope } from "./Event.ts"
import { InfrastructureError } from "./Errors.ts"
import { CommandMessage } from "./Message.ts"

/**
 * @since 0.1.0
 * @category models
 */
export const CommandLetter = Schema.TaggedStruct("Command", {
  id: Schema.String,
  message: CommandMessage,
  reason: Schema.String,
  attempts: Schema.Int,
  parkedAt: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
export const EventLetter = Schema.TaggedStruct("Event", {
  id: Schema.String,
  consumer: Schema.String,
  event: Envelope,
  reason: Schema.String,
  attempts: Schema.Int,
  parkedAt: Schema.String
})

/**
 * A blob notification whose task kept failing.
 *
 * @since 0.1.0
 * @category models
 */
export const TaskLetter = Schema.TaggedStruct("Task", {
  id: Schema.String,
  task: Schema.String,
  notification: BlobCreated,
  reason: Schema.String,
  attempts: Schema.Int,
  parkedAt: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
/**
 * An automation's TODO item abandoned after its retries; a replay sets it pending again.
 *
 * @since 0.1.0
 * @category models
 */
export const TodoLetter = Schema.TaggedStruct("Todo", {
  id: Schema.String,
  automation: Schema.String,
  itemId: Schema.String,
  reason: Schema.String,
  attempts: Schema.Int,
  parkedAt: Schema.String
})

export const DeadLetter = Schema.Union([CommandLetter, EventLetter, TaskLetter, TodoLetter])

/**
 * @since 0.1.0
 * @category models
 */
export type DeadLetter = typeof DeadLetter.Type

/**
 * @since 0.1.0
 * @category models
 */
export type Resolution = "Replay" | "Skip"

/**
 * No dead letter has that id (anymore).
 *
 * @since 0.1.0
 * @category errors
 */
export class DeadLetterNotFound extends Schema.TaggedError<DeadLetterNotFound>()("DeadLetterNotFound", {
  id: Schema.String
}) {
  override get message(): string {
    return `no dead letter "${this.id}"`
  }
}

/**
 * @since 0.1.0
 * @category services
 */
export class DeadLetters extends Context.Service<DeadLetters, {
  readonly park: (letter: DeadLetter) => Effect.Effect<void, InfrastructureError>
  readonly list: Effect.Effect<ReadonlyArray<DeadLetter>, InfrastructureError>
  /** Removes the letter and hands the resolution to whoever waits on it. */
  readonly resolve: (id: string, resolution: Resolution) => Effect.Effect<DeadLetter, DeadLetterNotFound | InfrastructureError>
  /**
   * Waits for an operator's decision on the letter parked under `id`, including one taken before
   * this call (the operator may act as soon as the letter is parked).
   */
  readonly awaitResolution: (id: string) => Effect.Effect<Resolution, InfrastructureError>
}>()("@reventless/core/DeadLetters") {}

/**
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<DeadLetters> = Layer.effect(DeadLetters, Effect.gen(function*() {
  const letters = new Map<string, DeadLetter>()
  // A decision outlives its resolve call: the parking consumer may ask for it only after an
  // operator (woken by the parking) already decided. Parking the same id again starts afresh
  // after a replay; a skip stands (the letter is not listed again, its consumer moves past it).
  const decisions = new Map<string, Deferred.Deferred<Resolution>>()
  const resolved = new Map<string, Resolution>()
  const decision = (id: string) => {
    let deferred = decisions.get(id)
    if (deferred === undefined) {
      deferred = Deferred.makeUnsafe<Resolution>()
      decisions.set(id, deferred)
    }
    return deferred
  }
  return DeadLetters.of({
    park: (letter) =>
      Effect.suspend(() => {
        if (resolved.get(letter.id) === "Skip") return Effect.void
        resolved.delete(letter.id)
        decisions.delete(letter.id)
        letters.set(letter.id, letter)
        return Effect.void
      }),
    list: Effect.sync(() => [...letters.values()]),
    resolve: (id, resolution) =>
      Effect.suspend(() => {
        const letter = letters.get(id)
        if (letter === undefined) return Effect.fail(new DeadLetterNotFound({ id }))
        letters.delete(id)
        resolved.set(id, resolution)
        Deferred.doneUnsafe(decision(id), Effect.succeed(resolution))
        return Effect.succeed(letter)
      }),
    awaitResolution: (id) => Effect.suspend(() => Deferred.await(decision(id)))
  })
}))
