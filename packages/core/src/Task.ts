/**
 * A task is a handler triggered by a blob created in a named bucket (an S3 ObjectCreated
 * notification on AWS). It returns actions, which the runtime carries out: publish commands to
 * a component by name, schedule a command for later, cancel a schedule. A task also hosts side
 * effects, as the seed's `OrderNotifications` task hosts the confirmation email.
 *
 * @since 0.1.0
 */
import type { Effect } from "effect"
import type * as Aggregate from "./Aggregate.ts"
import type { BlobCreated, BlobStore } from "./BlobStore.ts"
import type { QueryEngine } from "./QueryEngine.ts"
import type { SideEffect } from "./SideEffect.ts"

/**
 * A command a task publishes. `msgId` should be derived from the input (file, row, ...) so that
 * a redelivered notification publishes nothing twice.
 *
 * @since 0.1.0
 * @category models
 */
export interface OutgoingCommand<Command> {
  readonly id: string
  readonly command: Command
  readonly msgId: string
  readonly correlationId?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export type Action =
  | {
    readonly _tag: "PublishCommands"
    readonly target: Aggregate.Any
    readonly commands: ReadonlyArray<OutgoingCommand<unknown>>
  }
  | {
    readonly _tag: "ScheduleCommand"
    readonly key: string
    readonly target: Aggregate.Any
    readonly command: OutgoingCommand<unknown>
    /** Epoch milliseconds. */
    readonly at: number
  }
  | { readonly _tag: "CancelSchedule"; readonly key: string }

/**
 * Publishes commands to an aggregate of the plugin (the seed's `PublishCommands(name, commands)`).
 *
 * @since 0.1.0
 * @category actions
 */
export const publishCommands = <Command>(
  target: Aggregate.Aggregate<string, unknown, Command, unknown, unknown>,
  commands: ReadonlyArray<OutgoingCommand<Command>>
): Action => ({ _tag: "PublishCommands", target: target as Aggregate.Any, commands })

/**
 * Delivers a command at a later time. Scheduling the same key again replaces the entry.
 *
 * @since 0.1.0
 * @category actions
 */
export const scheduleCommand = <Command>(
  target: Aggregate.Aggregate<string, unknown, Command, unknown, unknown>,
  options: { readonly key: string; readonly at: number; readonly command: OutgoingCommand<Command> }
): Action => ({ _tag: "ScheduleCommand", target: target as Aggregate.Any, ...options })

/**
 * @since 0.1.0
 * @category actions
 */
export const cancelSchedule = (key: string): Action => ({ _tag: "CancelSchedule", key })

/**
 * What a bucket handler may use besides its own services.
 *
 * @since 0.1.0
 * @category models
 */
export type Services = BlobStore | QueryEngine

/**
 * A bucket the task watches, and what to do with each created blob.
 *
 * @since 0.1.0
 * @category models
 */
export interface Bucket<R> {
  readonly bucket: string
  readonly mode: "Read" | "ReadWrite"
  onCreated(blob: BlobCreated): Effect.Effect<ReadonlyArray<Action>, unknown, R | Services>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Task<R> {
  readonly name: string
  readonly buckets: ReadonlyArray<Bucket<R>>
  readonly sideEffects: ReadonlyArray<SideEffect<R>>
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = <R = never>(options: {
  readonly name: string
  readonly buckets?: ReadonlyArray<Bucket<R>> | undefined
  readonly sideEffects?: ReadonlyArray<SideEffect<R>> | undefined
}): Task<R> => ({
  name: options.name,
  buckets: options.buckets ?? [],
  sideEffects: options.sideEffects ?? []
})

/**
 * A bucket handler.
 *
 * @since 0.1.0
 * @category constructors
 */
export const bucket = <E, R>(
  bucket: string,
  onCreated: (blob: BlobCreated) => Effect.Effect<ReadonlyArray<Action>, E, R>,
  mode: "Read" | "ReadWrite" = "Read"
): Bucket<Exclude<R, Services>> => ({ bucket, mode, onCreated: onCreated as Bucket<Exclude<R, Services>>["onCreated"] })
