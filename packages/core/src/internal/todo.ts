/**
 * TODO-list slices at run time (automation and outbound translation): a consumer of the source
 * that fills the list (collect) and ticks items off (resolve), and a sweep every
 * `heartbeatInterval` seconds that works each pending item: its next step (a command, or an
 * outside call that may answer with one), settled by the outcome. Failures are retried under the
 * same message id up to `maxRetries`; then `onExhausted` may send a last command and the item is
 * abandoned, with a dead letter that a replay sets pending again.
 */
import { type Context, Effect, Option, Result, Schedule, Schema } from "effect"
import type * as Aggregate from "../Aggregate.ts"
import type * as AutomationSlice from "../AutomationSlice.ts"
import type { CommandTopic } from "../CommandTopic.ts"
import type * as DcbEventLog from "../DcbEventLog.ts"
import type { DeadLetters } from "../DeadLetters.ts"
import type { InfrastructureError } from "../Errors.ts"
import type { EventStore } from "../EventStore.ts"
import type { Translated } from "../InboundTranslationSlice.ts"
import * as Message from "../Message.ts"
import type * as OutboundTranslationSlice from "../OutboundTranslationSlice.ts"
import type * as Plugin from "../Plugin.ts"
import type * as StateChangeSlice from "../StateChangeSlice.ts"
import type { Row, TodoStore } from "../TodoStore.ts"
import { checkpointed, type ConsumerDeps, decoderFor, guard, type Handler, HandlerFailure, infrastructure } from "./consumers.ts"
import { targetOf } from "./inbound.ts"

export interface TodoDeps {
  readonly consumers: ConsumerDeps
  readonly todos: TodoStore["Service"]
  readonly store: EventStore["Service"]
  readonly commands: CommandTopic["Service"]
  readonly deadLetters: DeadLetters["Service"]
}

/** What the runner needs of a TODO-list slice. */
export interface TodoSpec {
  /** The list's name, `<Plugin>.<Slice>`. */
  readonly list: string
  readonly source: Aggregate.Any | DcbEventLog.Source<unknown>
  readonly item: Schema.Codec<unknown, unknown>
  readonly target: Aggregate.Any | StateChangeSlice.Any | undefined
  readonly maxRetries: number
  readonly heartbeatInterval: number
  collect(input: AutomationSlice.SourceInput<unknown>): ReadonlyArray<readonly [string, unknown]>
  resolve(input: AutomationSlice.SourceInput<unknown>): string | undefined
  /** The item's next step: a command for the target, or none; a failure is retried. */
  next(id: string, item: unknown): Effect.Effect<Translated<unknown> | undefined, string>
  onExhausted(id: string, item: unknown, lastError: string): Translated<unknown> | undefined
}

export const fromAutomation = (plugin: Plugin.Plugin<unknown>, automation: AutomationSlice.Any): TodoSpec => ({
  list: `${plugin.name}.${automation.name}`,
  source: automation.source,
  item: automation.todoItem,
  target: automation.target,
  maxRetries: automation.maxRetries,
  heartbeatInterval: automation.heartbeatInterval,
  collect: (input) => automation.collect(input),
  resolve: (input) => automation.resolve(input),
  next: (id, item) => Effect.sync(() => automation.process(id, item)),
  onExhausted: (id, item, lastError) => automation.onExhausted(id, item, lastError)
})

export const fromOutbound = <R>(
  plugin: Plugin.Plugin<unknown>,
  outbound: OutboundTranslationSlice.OutboundTranslationSlice<R>,
  services: Context.Context<R>
): TodoSpec => ({
  list: `${plugin.name}.${outbound.name}`,
  source: outbound.source,
  item: outbound.outboundItem,
  target: outbound.target,
  maxRetries: outbound.maxRetries,
  heartbeatInterval: outbound.heartbeatInterval,
  collect: (input) => outbound.collect(input),
  resolve: () => undefined,
  next: (id, item) =>
    Effect.mapError(Effect.provideContext(Effect.suspend(() => outbound.translate(id, item)), services), (error) =>
      error instanceof Error ? error.message : typeof error === "object" && error !== null && "_tag" in error ? JSON.stringify(error) : String(error)),
  onExhausted: (id, item, lastError) => outbound.onExhausted(id, item, lastError)
})

/** Fills and ticks off the list from the source's events. */
export const collector = (deps: TodoDeps, plugin: Plugin.Plugin<unknown>, spec: TodoSpec): Handler => {
  const name = `todo:${spec.list}`
  const source = `${plugin.name}.${spec.source.name}`
  const decode = decoderFor(deps.consumers.registry, spec.source, source)
  const encodeItem = Schema.encodeUnknownResult(spec.item)
  return {
    ...checkpointed(deps.consumers, name, source),
    handle: (event) =>
      Effect.gen(function*() {
        const value = yield* decode(event)
        const input = { event: value, id: event.streamId, meta: event.meta }
        const done = yield* guard(spec.list, () => spec.resolve(input))
        if (done !== undefined) yield* Effect.mapError(deps.todos.update(spec.list, done, { status: "Done" }), infrastructure)
        const items = yield* guard(spec.list, () => spec.collect(input))
        for (const [id, item] of items) {
          const encoded = encodeItem(item)
          if (Result.isFailure(encoded)) return yield* new HandlerFailure({ reason: `${spec.list} collected an invalid item: ${encoded.failure.message}`, retryable: false })
          yield* Effect.mapError(
            deps.todos.add(spec.list, { id, item: encoded.success, status: "Pending", attempts: 0, causeId: event.id, meta: event.meta }),
            infrastructure
          )
        }
      })
  }
}

/** Works every pending item, every heartbeat. */
export const sweeper = (deps: TodoDeps, plugin: Plugin.Plugin<unknown>, spec: TodoSpec): Effect.Effect<void, InfrastructureError> => {
  const { list } = spec
  const decodeItem = Schema.decodeUnknownResult(spec.item)
  const send = (row: Row, key: string, step: Translated<unknown>) =>
    Effect.gen(function*() {
      const target = spec.target === undefined ? Result.fail(`${list} has no target for its commands`) : targetOf(plugin, spec.target, step.command, step.id)
      if (Result.isFailure(target)) return Result.fail(target.failure)
      const msgId = Message.derivedMsgId(row.causeId, list, key)
      const meta = Message.derivedMeta(row.meta, { msgId, service: list, causationId: row.causeId, time: deps.consumers.now() })
      yield* deps.store.retry(msgId)
      yield* deps.commands.publish([{ ...target.success, msgId, meta }])
      return Result.succeed(yield* deps.store.awaitOutcome(msgId))
    })
  const failed = (row: Row, item: unknown, reason: string) =>
    Effect.gen(function*() {
      const attempts = row.attempts + 1
      yield* deps.todos.update(list, row.id, { attempts, lastError: reason })
      if (attempts <= spec.maxRetries) return
      const last = spec.onExhausted(row.id, item, reason)
      if (last !== undefined) yield* send({ ...row, attempts }, `exhausted:${row.id}`, last)
      yield* deps.todos.update(list, row.id, { status: "Abandoned" })
      yield* deps.deadLetters.park({ _tag: "Todo", id: Message.stableId(`${list}|${row.id}`), automation: list, itemId: row.id, reason, attempts, parkedAt: deps.consumers.now() })
    })
  const settle = (row: Row) =>
    Effect.gen(function*() {
      const item = decodeItem(row.item)
      if (Result.isFailure(item)) return yield* failed({ ...row, attempts: spec.maxRetries }, row.item, item.failure.message)
      const step = yield* Effect.result(spec.next(row.id, item.success))
      if (Result.isFailure(step)) return yield* failed(row, item.success, step.failure)
      if (step.success === undefined || spec.target === undefined) return yield* deps.todos.update(list, row.id, { status: "Done" })
      // One message id per item: a retry after a failure is the same command again.
      const outcome = yield* send(row, `todo:${row.id}`, step.success)
      if (Result.isFailure(outcome)) return yield* failed({ ...row, attempts: spec.maxRetries }, item.success, outcome.failure)
      switch (outcome.success._tag) {
        case "Accepted":
          return yield* deps.todos.update(list, row.id, { status: "Done" })
        case "Rejected":
          return yield* deps.todos.update(list, row.id, { status: "Rejected", lastError: JSON.stringify(outcome.success.error) })
        case "Failed":
          // The list owns the retries: the parked command leaves the dead letters.
          yield* Effect.ignore(deps.deadLetters.resolve(outcome.success.msgId, "Skip"))
          return yield* failed(row, item.success, outcome.success.reason)
      }
    })
  const sweep = Effect.flatMap(deps.todos.pending(list), (rows) => Effect.forEach(rows, settle, { discard: true }))
  return Effect.asVoid(Effect.repeat(sweep, Schedule.spaced(`${spec.heartbeatInterval} seconds`)))
}

/** Sets an abandoned item pending again (a replay of its dead letter). */
export const retry = (todos: TodoStore["Service"], list: string, itemId: string) =>
  Effect.flatMap(todos.get(list, itemId), (row) => Option.isSome(row) ? todos.update(list, itemId, { status: "Pending", attempts: 0 }) : Effect.void)
