/**
 * Automation slices at run time: a consumer of the source that fills the TODO list (collect) and
 * ticks items off (resolve), and a sweep every `heartbeatInterval` seconds that sends each pending
 * item's command and settles the item by the command's outcome.
 */
import { Effect, Option, Result, Schedule, Schema } from "effect"
import type * as AutomationSlice from "../AutomationSlice.ts"
import type { CommandTopic } from "../CommandTopic.ts"
import type { DeadLetters } from "../DeadLetters.ts"
import type { InfrastructureError } from "../Errors.ts"
import type { EventStore } from "../EventStore.ts"
import * as Message from "../Message.ts"
import type * as Plugin from "../Plugin.ts"
import type { Row, TodoStore } from "../TodoStore.ts"
import { checkpointed, type ConsumerDeps, decoderFor, guard, type Handler, HandlerFailure, infrastructure } from "./consumers.ts"
import { targetOf } from "./inbound.ts"

export interface AutomationDeps {
  readonly consumers: ConsumerDeps
  readonly todos: TodoStore["Service"]
  readonly store: EventStore["Service"]
  readonly commands: CommandTopic["Service"]
  readonly deadLetters: DeadLetters["Service"]
}

/** The TODO list's name. */
export const listOf = (plugin: Plugin.Plugin<unknown>, automation: AutomationSlice.Any) => `${plugin.name}.${automation.name}`

/** Fills and ticks off the list from the source's events. */
export const collector = (deps: AutomationDeps, plugin: Plugin.Plugin<unknown>, automation: AutomationSlice.Any): Handler => {
  const list = listOf(plugin, automation)
  const name = `automation:${list}`
  const source = `${plugin.name}.${automation.source.name}`
  const decode = decoderFor(deps.consumers.registry, automation.source, source)
  const encodeItem = Schema.encodeUnknownResult(automation.todoItem)
  return {
    ...checkpointed(deps.consumers, name, source),
    handle: (event) =>
      Effect.gen(function*() {
        const value = yield* decode(event)
        const input = { event: value, id: event.streamId, meta: event.meta }
        const done = yield* guard(`automation ${automation.name}`, () => automation.resolve(input))
        if (done !== undefined) yield* Effect.mapError(deps.todos.update(list, done, { status: "Done" }), infrastructure)
        const items = yield* guard(`automation ${automation.name}`, () => automation.collect(input))
        for (const [id, item] of items) {
          const encoded = encodeItem(item)
          if (Result.isFailure(encoded)) return yield* new HandlerFailure({ reason: `automation ${automation.name} collected an invalid item: ${encoded.failure.message}`, retryable: false })
          yield* Effect.mapError(
            deps.todos.add(list, { id, item: encoded.success, status: "Pending", attempts: 0, causeId: event.id, meta: event.meta }),
            infrastructure
          )
        }
      })
  }
}

/** Sends each pending item's command and settles the item by the outcome, every heartbeat. */
export const sweeper = (deps: AutomationDeps, plugin: Plugin.Plugin<unknown>, automation: AutomationSlice.Any): Effect.Effect<void, InfrastructureError> => {
  const list = listOf(plugin, automation)
  const decodeItem = Schema.decodeUnknownResult(automation.todoItem)
  const settle = (row: Row) =>
    Effect.gen(function*() {
      const item = decodeItem(row.item)
      if (Result.isFailure(item)) return yield* deps.todos.update(list, row.id, { status: "Abandoned", lastError: item.failure.message })
      const command = automation.process(row.id, item.success)
      if (command === undefined) return yield* deps.todos.update(list, row.id, { status: "Done" })
      const target = targetOf(plugin, automation.target, command.command, command.id)
      if (Result.isFailure(target)) return yield* abandon(row, item.success, target.failure)
      // One message id per item: a retry after a failure is the same command again.
      const msgId = Message.derivedMsgId(row.causeId, list, `todo:${row.id}`)
      const message = { ...target.success, msgId, meta: Message.derivedMeta(row.meta, { msgId, service: list, causationId: row.causeId, time: deps.consumers.now() }) }
      yield* deps.store.retry(msgId)
      yield* deps.commands.publish([message])
      const outcome = yield* deps.store.awaitOutcome(msgId)
      switch (outcome._tag) {
        case "Accepted":
          return yield* deps.todos.update(list, row.id, { status: "Done" })
        case "Rejected":
          return yield* deps.todos.update(list, row.id, { status: "Rejected", lastError: JSON.stringify(outcome.error) })
        case "Failed": {
          // The automation owns the retries: its parked command leaves the dead letters.
          yield* Effect.ignore(deps.deadLetters.resolve(msgId, "Skip"))
          const attempts = row.attempts + 1
          if (attempts <= automation.maxRetries) return yield* deps.todos.update(list, row.id, { attempts, lastError: outcome.reason })
          yield* deps.todos.update(list, row.id, { attempts, lastError: outcome.reason })
          return yield* abandon({ ...row, attempts }, item.success, outcome.reason)
        }
      }
    })
  const abandon = (row: Row, item: unknown, reason: string) =>
    Effect.gen(function*() {
      const last = automation.onExhausted(row.id, item, reason)
      if (last !== undefined) {
        const target = targetOf(plugin, automation.target, last.command, last.id)
        if (Result.isSuccess(target)) {
          const msgId = Message.derivedMsgId(row.causeId, list, `exhausted:${row.id}`)
          yield* deps.commands.publish([{ ...target.success, msgId, meta: Message.derivedMeta(row.meta, { msgId, service: list, causationId: row.causeId, time: deps.consumers.now() }) }])
        }
      }
      yield* deps.todos.update(list, row.id, { status: "Abandoned", lastError: reason })
      yield* deps.deadLetters.park({
        _tag: "Todo",
        id: Message.stableId(`${list}|${row.id}`),
        automation: list,
        itemId: row.id,
        reason,
        attempts: row.attempts,
        parkedAt: deps.consumers.now()
      })
    })
  const sweep = Effect.flatMap(deps.todos.pending(list), (rows) => Effect.forEach(rows, settle, { discard: true }))
  return Effect.asVoid(Effect.repeat(sweep, Schedule.spaced(`${automation.heartbeatInterval} seconds`)))
}

/** Sets an abandoned item pending again (a replay of its dead letter). */
export const retry = (todos: TodoStore["Service"], list: string, itemId: string) =>
  Effect.flatMap(todos.get(list, itemId), (row) => Option.isSome(row) ? todos.update(list, itemId, { status: "Pending", attempts: 0 }) : Effect.void)
