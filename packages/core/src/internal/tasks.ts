/**
 * Tasks (blob notifications → actions), the scheduler's delivery loop, and plugin heartbeats.
 */
import { type Context, Effect, Result, type Schedule } from "effect"
import { BlobStore, type BlobCreated } from "../BlobStore.ts"
import type { CommandTopic } from "../CommandTopic.ts"
import type { DeadLetters } from "../DeadLetters.ts"
import { InfrastructureError, untilItWorks } from "../Errors.ts"
import * as Message from "../Message.ts"
import type { QueryEngine } from "../QueryEngine.ts"
import type { Scheduler } from "../Scheduler.ts"
import type * as Task from "../Task.ts"
import type { Activity } from "./activity.ts"
import type { Registry } from "./registry.ts"

export interface TaskDeps {
  readonly registry: Registry
  readonly commands: CommandTopic["Service"]
  readonly blobs: BlobStore["Service"]
  readonly scheduler: Scheduler["Service"]
  readonly deadLetters: DeadLetters["Service"]
  readonly activity: Activity
  readonly retrySchedule: Schedule.Schedule<unknown, unknown>
  readonly now: () => string
  /** Tasks currently running, for `awaitIdle`. */
  readonly running: { count: number }
}

const invalid = (detail: string) => new InfrastructureError({ service: "Task", operation: "action", detail, retryable: false })

/** Turns one task action's commands into messages for the command topic. */
const messagesOf = (
  deps: TaskDeps,
  plugin: string,
  task: string,
  cause: string,
  target: { readonly name: string },
  commands: ReadonlyArray<Task.OutgoingCommand<unknown>>
): Result.Result<Array<Message.CommandMessage>, InfrastructureError> => {
  const messages: Array<Message.CommandMessage> = []
  for (const outgoing of commands) {
    const encoded = deps.registry.encodeCommand(plugin, target, outgoing.command)
    if (Result.isFailure(encoded)) return Result.fail(invalid(`task ${task} ${encoded.failure}`))
    messages.push({
      component: encoded.success.component,
      id: outgoing.id,
      msgId: outgoing.msgId,
      meta: Message.makeMeta(
        { msgId: outgoing.msgId, service: task, user: "system", correlationId: outgoing.correlationId ?? cause, causationId: cause },
        deps.now()
      ),
      command: encoded.success.command
    })
  }
  return Result.succeed(messages)
}

const perform = (deps: TaskDeps, plugin: string, task: string, cause: string, actions: ReadonlyArray<Task.Action>) =>
  Effect.forEach(actions, (action) => {
    switch (action._tag) {
      case "PublishCommands":
        return Effect.flatMap(Effect.fromResult(messagesOf(deps, plugin, task, cause, action.target, action.commands)), deps.commands.publish)
      case "ScheduleCommand":
        return Effect.flatMap(
          Effect.fromResult(messagesOf(deps, plugin, task, cause, action.target, [action.command])),
          ([message]) => deps.scheduler.schedule({ key: action.key, dueAt: action.at, message: message! })
        )
      case "CancelSchedule":
        return deps.scheduler.cancel(action.key)
    }
  }, { discard: true })

/** Watches one bucket of a task until interrupted. */
export const runBucket = <R>(
  deps: TaskDeps,
  plugin: string,
  task: Task.Task<R>,
  bucket: Task.Bucket<R>,
  services: Context.Context<R | QueryEngine | BlobStore>
): Effect.Effect<never> => {
  const runOnce = (notification: BlobCreated) => {
    let attempts = 0
    const cause = `${notification.bucket}/${notification.key}@${notification.sequencer}`
    return Effect.suspend(() => {
      attempts++
      return Effect.flatMap(Effect.provideContext(bucket.onCreated(notification), services), (actions) => perform(deps, plugin, task.name, cause, actions))
    }).pipe(
      Effect.catchDefect((defect) => Effect.fail(invalid(`task ${task.name} died: ${String(defect)}`))),
      Effect.retry({ schedule: deps.retrySchedule, while: (error) => !(error instanceof InfrastructureError) || error.retryable }),
      Effect.catch((error) =>
        deps.deadLetters.park({
          _tag: "Task",
          id: Message.stableId(`${task.name}|${cause}`),
          task: `${plugin}.${task.name}`,
          notification,
          reason: error instanceof Error ? error.message : String(error),
          attempts,
          parkedAt: deps.now()
        })
      )
    )
  }
  return Effect.forever(
    Effect.flatMap(untilItWorks(`receiving from bucket ${bucket.bucket}`, deps.blobs.receive(bucket.bucket)), (notification) => {
      deps.running.count++
      // A task that could not even be parked (the stores are down) runs again: its notification
      // must not be acknowledged unhandled.
      return untilItWorks(`task ${task.name} on ${notification.key}`, Effect.andThen(runOnce(notification), deps.blobs.ack(notification))).pipe(
        Effect.ensuring(Effect.sync(() => {
          deps.running.count--
          deps.activity.bump()
        }))
      )
    })
  )
}

/** Publishes due scheduled commands every `pollMillis`; a failed round is tried again at the next. */
export const runScheduler = (deps: TaskDeps, pollMillis: number, nowMillis: () => number) =>
  Effect.forever(
    Effect.andThen(
      Effect.sleep(pollMillis),
      Effect.catch(
        Effect.flatMap(Effect.suspend(() => deps.scheduler.due(nowMillis(), 100)), (due) =>
          due.length === 0
            ? Effect.void
            : Effect.andThen(deps.commands.publish(due.map((entry) => entry.message)), deps.scheduler.delivered(due))),
        (error) => Effect.logWarning(`delivering due commands failed, trying again: ${error.message}`)
      )
    )
  )
