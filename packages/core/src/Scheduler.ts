/**
 * Commands to deliver later. An entry is keyed, so scheduling the same key again replaces it
 * (idempotent under redelivery); the runtime publishes entries once they are due.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Schema } from "effect"
import type { InfrastructureError } from "./Errors.ts"
import { CommandMessage } from "./Message.ts"

/**
 * @since 0.1.0
 * @category models
 */
export const ScheduledCommand = Schema.Struct({
  key: Schema.String,
  /** Epoch milliseconds. */
  dueAt: Schema.Number,
  message: CommandMessage
})

/**
 * @since 0.1.0
 * @category models
 */
export type ScheduledCommand = typeof ScheduledCommand.Type

/**
 * @since 0.1.0
 * @category services
 */
export class Scheduler extends Context.Service<Scheduler, {
  readonly schedule: (entry: ScheduledCommand) => Effect.Effect<void, InfrastructureError>
  readonly cancel: (key: string) => Effect.Effect<void, InfrastructureError>
  /** Entries due at `now` (epoch milliseconds), earliest first. */
  readonly due: (now: number, limit: number) => Effect.Effect<ReadonlyArray<ScheduledCommand>, InfrastructureError>
  /**
   * Forgets delivered entries, each only as it was read: one replaced meanwhile under its key (a
   * new time or command, perhaps by a poller that took over from this one) stays.
   */
  readonly delivered: (entries: ReadonlyArray<ScheduledCommand>) => Effect.Effect<void, InfrastructureError>
  readonly list: Effect.Effect<ReadonlyArray<ScheduledCommand>, InfrastructureError>
}>()("@reventless/core/Scheduler") {}

/**
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<Scheduler> = Layer.sync(Scheduler, () => {
  const entries = new Map<string, ScheduledCommand>()
  const sorted = () => [...entries.values()].sort((a, b) => a.dueAt - b.dueAt || (a.key < b.key ? -1 : 1))
  return Scheduler.of({
    schedule: (entry) => Effect.sync(() => void entries.set(entry.key, entry)),
    cancel: (key) => Effect.sync(() => void entries.delete(key)),
    due: (now, limit) => Effect.sync(() => sorted().filter((entry) => entry.dueAt <= now).slice(0, limit)),
    delivered: (delivered) =>
      Effect.sync(() => {
        for (const entry of delivered) {
          const current = entries.get(entry.key)
          if (current !== undefined && current.dueAt === entry.dueAt && current.message.msgId === entry.message.msgId) entries.delete(entry.key)
        }
      }),
    list: Effect.sync(sorted)
  })
})
