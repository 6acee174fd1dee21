/**
 * TODO-list slices at run time (automation and outbound translation): a consumer of the source
 * that fills the list (collect) and ticks items off (resolve), and a sweep every
 * `heartbeatInterval` seconds that works each pending item: its next step (a command, or an
 * outside call that may answer with one), settled by the outcome. Failures are retried under the
 * same message id up to `maxRetries`; then `onExhausted` may send a last command and the item is
 * abandoned, with a dead letter that a replay sets pending again.
 */
import { Cause, type Context, Effect, Option, Result, Schema, Semaphore } from "effect"
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
import type { QueryEngine } from "../QueryEngine.ts"
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
  /** Work in progress, for `awaitIdle`: a sweep counts while it runs. */
  readonly running: { count: number }
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
  services: Context.Context<R | QueryEngine>
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

/**
 * Works the pending items: `once` now, `forever` every heartbeat. Sweeps of one list never overlap,
 * so an outside call is not made twice by a heartbeat and a `Runtime.sweep` at the same time.
 */
export const sweeper = (
  deps: TodoDeps,
  plugin: Plugin.Plugin<unknown>,
  spec: TodoSpec
): { readonly once: Effect.Effect<void>; readonly forever: Effect.Effect<void> } => {
  const { list } = spec
  const decodeItem = Schema.decodeUnknownResult(spec.item)
  // Every status change below applies only while the item is still pending: a resolve that lands
  // mid-sweep wins.
  const pendingUpdate = (row: Row, change: Parameters<TodoStore["Service"]["update"]>[2]) => deps.todos.update(list, row.id, change, "Pending")
  const isPending = (row: Row) => Effect.map(deps.todos.get(list, row.id), (current) => Option.isSome(current) && current.value.status === "Pending")

  /** Sends a command for the item and waits for its outcome, at most one heartbeat. */
  const send = (row: Row, key: string, step: Translated<unknown>) =>
    Effect.gen(function*() {
      const target = spec.target === undefined ? Result.fail(`${list} has no target for its commands`) : targetOf(plugin, spec.target, step.command, step.id)
      if (Result.isFailure(target)) return Result.fail(target.failure)
      const msgId = Message.derivedMsgId(row.causeId, list, key)
      const meta = Message.derivedMeta(row.meta, { msgId, service: list, causationId: row.causeId, time: deps.consumers.now() })
      yield* deps.store.retry(msgId)
      yield* deps.commands.publish([{ ...target.success, msgId, meta }])
      return Result.succeed(yield* Effect.timeoutOption(deps.store.awaitOutcome(msgId), `${spec.heartbeatInterval} seconds`))
    })

  const failed = (row: Row, item: unknown, reason: string) =>
    Effect.gen(function*() {
      const attempts = row.attempts + 1
      if (!(yield* pendingUpdate(row, { attempts, lastError: reason }))) return
      if (attempts <= spec.maxRetries) return
      const last = yield* Effect.sync(() => spec.onExhausted(row.id, item, reason))
      const lastOutcome = last === undefined ? undefined : yield* send({ ...row, attempts }, `exhausted:${row.id}`, last)
      const lastWord = lastOutcome === undefined || (Result.isSuccess(lastOutcome) && Option.isSome(lastOutcome.success) && lastOutcome.success.value._tag === "Accepted")
        ? ""
        : "; its onExhausted command did not go through"
      if (!(yield* pendingUpdate(row, { status: "Abandoned" }))) return
      yield* deps.deadLetters.park({
        _tag: "Todo",
        id: Message.stableId(`${list}|${row.id}`),
        automation: list,
        itemId: row.id,
        reason: reason + lastWord,
        attempts,
        parkedAt: deps.consumers.now()
      })
    })

  const settle = (row: Row): Effect.Effect<void, InfrastructureError> =>
    Effect.gen(function*() {
      const item = decodeItem(row.item)
      if (Result.isFailure(item)) {
        return yield* failed({ ...row, attempts: spec.maxRetries }, row.item, `the stored item does not decode: ${item.failure.message}`)
      }
      // An outside call that answered is not made again: its answer is resent.
      const step: Result.Result<Translated<unknown> | undefined, string> = row.answer !== undefined
        ? Result.succeed(row.answer as Translated<unknown>)
        : yield* Effect.result(spec.next(row.id, item.success))
      if (Result.isFailure(step)) return yield* failed(row, item.success, step.failure)
      if (step.success === undefined || spec.target === undefined) return yield* Effect.asVoid(pendingUpdate(row, { status: "Done" }))
      if (row.answer === undefined) yield* pendingUpdate(row, { answer: step.success })
      if (!(yield* isPending(row))) return
      // One message id per item: a retry after a failure is the same command again.
      const outcome = yield* send(row, `todo:${row.id}`, step.success)
      if (Result.isFailure(outcome)) return yield* failed({ ...row, attempts: spec.maxRetries }, item.success, outcome.failure)
      if (Option.isNone(outcome.success)) return // no answer within a heartbeat: the next sweep sends it again (same msgId)
      const settled = outcome.success.value
      switch (settled._tag) {
        case "Accepted":
          return yield* Effect.asVoid(pendingUpdate(row, { status: "Done" }))
        case "Rejected":
          return yield* Effect.asVoid(pendingUpdate(row, { status: "Rejected", lastError: JSON.stringify(settled.error) }))
        case "Failed":
          // The list owns the retries: the parked command leaves the dead letters.
          yield* Effect.ignore(deps.deadLetters.resolve(settled.msgId, "Skip"))
          return yield* failed(row, item.success, settled.reason)
      }
    })

  // A defect in user code (process, translate, onExhausted) is a failed attempt of that item; no
  // error stops the sweep or the ones after it.
  const safeSettle = (row: Row) =>
    settle(row).pipe(
      Effect.catchDefect((defect) => {
        const item = decodeItem(row.item)
        return failed(row, Result.isSuccess(item) ? item.success : row.item, `defect: ${String(defect)}`)
      }),
      // The last net: nothing an item does stops the sweep.
      Effect.catchCause((cause) => Effect.logWarning(`${list} item ${row.id}: ${Cause.pretty(cause)}`))
    )
  const lock = Semaphore.makeUnsafe(1)
  const once = Effect.flatMap(deps.todos.pending(list), (rows) => Effect.forEach(rows, safeSettle, { discard: true })).pipe(
    Effect.catch((error) => Effect.logWarning(`${list} sweep: ${error.message}`)),
    (sweep) =>
      Effect.suspend(() => {
        deps.running.count++
        return Effect.ensuring(sweep, Effect.sync(() => {
          deps.running.count--
          deps.consumers.activity.bump()
        }))
      }),
    (sweep) => lock.withPermit(sweep)
  )
  // The first sweep is a heartbeat after the list's owner starts (or takes it over), like every later one.
  return { once, forever: Effect.forever(Effect.andThen(Effect.sleep(`${spec.heartbeatInterval} seconds`), once)) }
}

/** Sets an abandoned item pending again (a replay of its dead letter). */
export const retry = (todos: TodoStore["Service"], list: string, itemId: string) =>
  Effect.asVoid(todos.update(list, itemId, { status: "Pending", attempts: 0, lastError: "" }, "Abandoned"))
