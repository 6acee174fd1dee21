/**
 * An operator's actions on a running deployment: dead letters (list, replay, skip), its status
 * (who runs each piece of work, how far each consumer is), and the rebuild of a read model. Each
 * is checked first (`Operation`, see `Authorization`); a replayed command is authorized again
 * for the user who sent it.
 */
import { type Clock, Effect, Option, Result } from "effect"
import { hostname } from "node:os"
import * as Authorization from "../Authorization.ts"
import type { BlobStore } from "../BlobStore.ts"
import type { Checkpoints } from "../Checkpoints.ts"
import type { CommandTopic } from "../CommandTopic.ts"
import type { DeadLetters, Resolution } from "../DeadLetters.ts"
import { type InfrastructureError, type InvalidInput, RebuildRunning, type Unauthorized } from "../Errors.ts"
import type { EventStore } from "../EventStore.ts"
import type * as Leases from "../Leases.ts"
import type * as Message from "../Message.ts"
import * as Plugin from "../Plugin.ts"
import type { ReadModelStore } from "../ReadModelStore.ts"
import type { AsUser, Holder, RebuildProgress, Status } from "../Runtime.ts"
import type { TodoStore } from "../TodoStore.ts"
import type { Activity } from "./activity.ts"
import * as Consumers from "./consumers.ts"
import * as Ownership from "./ownership.ts"
import type { Registry } from "./registry.ts"
import * as Todo from "./todo.ts"

export interface OperationsDeps {
  readonly registry: Registry
  readonly store: EventStore["Service"]
  readonly commands: CommandTopic["Service"]
  readonly blobs: BlobStore["Service"]
  readonly todos: TodoStore["Service"]
  readonly deadLetters: DeadLetters["Service"]
  readonly checkpoints: Checkpoints["Service"]
  readonly leases: Leases.Leases["Service"]
  readonly rows: ReadModelStore["Service"]
  readonly clock: Clock.Clock
  readonly activity: Activity
  readonly authorization: Authorization.Hook
  readonly consumers: Consumers.ConsumerDeps
  readonly statuses: ReadonlyArray<Consumers.ConsumerStatus>
  readonly ownership: Ownership.Ownership
  /** The sources of each consumer, by name. */
  readonly sourcesOf: ReadonlyMap<string, ReadonlySet<string>>
  readonly works: ReadonlyArray<Ownership.Work>
  /** The `Operation` check (internal/access.ts). */
  readonly operation: (options: AsUser | undefined, op: Authorization.Operation, target?: string) => Effect.Effect<void, InvalidInput | Unauthorized>
  /** The `Command` check of a send (internal/client.ts). */
  readonly authorized: (message: Message.CommandMessage, command: unknown) => Effect.Effect<unknown, Unauthorized>
}

export const make = (deps: OperationsDeps) => {
  const { activity, checkpoints, clock, deadLetters, leases, operation, ownership, registry, statuses, store } = deps

  const resolve = (id: string, resolution: Resolution) =>
    Effect.tap(deadLetters.resolve(id, resolution), (letter) => {
      if (letter._tag === "Event") {
        // The consumer has work again from now on, before its fiber wakes: awaitIdle must wait for it.
        for (const status of statuses) if (status.stalledOn === letter.id) status.stalledOn = undefined
      }
      activity.bump()
      if (resolution === "Skip") return Effect.void
      switch (letter._tag) {
        case "Command":
          return Effect.andThen(store.retry(letter.message.msgId), deps.commands.publish([letter.message], { redelivery: true }))
        case "Task":
          return deps.blobs.redeliver(letter.notification)
        case "Event":
          return Effect.void
        case "Todo":
          return Todo.retry(deps.todos, letter.automation, letter.itemId)
      }
    })

  /**
   * A parked command is authorized again before it is replayed, for the user who sent it: the
   * hook sees it as it would a new send, its command decoded when its component's schema still
   * decodes it, else as stored (the hook is asked either way; the input limits do not apply to
   * what was accepted once).
   */
  const reauthorize = (id: string): Effect.Effect<void, Unauthorized | InfrastructureError> =>
    deps.authorization === Authorization.allowAll ? Effect.void : Effect.flatMap(deadLetters.list, (letters) => {
      const letter = letters.find((candidate) => candidate.id === id)
      if (letter?._tag !== "Command") return Effect.void
      const { message } = letter
      const codecs = registry.aggregates.get(message.component)?.codecs ?? registry.slices.get(message.component)?.codecs
      const decoded = codecs === undefined ? undefined : codecs.decodeCommand(message.command)
      return Effect.asVoid(deps.authorized(message, decoded !== undefined && Result.isSuccess(decoded) ? decoded.success : message.command))
    })

  const holderOf = (holding: Leases.Holding | undefined): Option.Option<Holder> =>
    holding === undefined || holding.expiresInMillis <= 0
      ? Option.none()
      : Option.some({ host: holding.host, pid: holding.pid, here: holding.owner === ownership.owner.id })

  const status = (options?: AsUser): Effect.Effect<Status, InvalidInput | Unauthorized | InfrastructureError> =>
    Effect.gen(function*() {
      yield* operation(options, "Status")
      const head = yield* store.head
      const holdings = new Map((yield* leases.holdings).map((holding) => [holding.name, holding]))
      const saved = yield* checkpoints.all
      const letters = yield* deadLetters.list
      const parked = new Map<string, number>()
      for (const letter of letters) if (letter._tag === "Event") parked.set(letter.consumer, (parked.get(letter.consumer) ?? 0) + 1)
      const nowMillis = clock.currentTimeMillisUnsafe()
      const consumers = yield* Effect.forEach(statuses, (consumer) =>
        Effect.gen(function*() {
          const here = ownership.runs(consumer.name)
          const checkpoint = here ? consumer.position : saved.get(consumer.name) ?? 0
          const { events } = yield* store.readAll({ after: checkpoint, limit: 1, sources: deps.sourcesOf.get(consumer.name)! })
          const oldest = events[0]
          return {
            name: consumer.name,
            owner: holderOf(holdings.get(consumer.name)),
            checkpoint,
            behind: oldest === undefined ? 0 : head - checkpoint,
            lagSeconds: oldest === undefined ? 0 : Math.max(0, (nowMillis - Date.parse(oldest.recordedAt ?? oldest.meta.time)) / 1000),
            handled: here ? Option.some(consumer.handled) : Option.none(),
            parked: parked.get(consumer.name) ?? 0,
            lastError: Option.fromUndefinedOr(ownership.statuses.get(consumer.name)?.lastError)
          }
        }), { concurrency: 8 })
      const work = deps.works.filter((piece) => !deps.sourcesOf.has(piece.name)).map((piece) => ({
        name: piece.name,
        owner: holderOf(holdings.get(piece.name)),
        lastError: Option.fromUndefinedOr(ownership.statuses.get(piece.name)?.lastError)
      }))
      return { head, consumers, work, commands: yield* deps.commands.owners, deadLetters: letters.length }
    })

  const rebuild = (name: string, options: AsUser & { readonly onProgress?: ((progress: RebuildProgress) => Effect.Effect<void>) | undefined } = {}) =>
    Effect.gen(function*() {
      yield* operation(options, "Rebuild", name)
      const entry = yield* Effect.fromResult(registry.readModel(name))
      const model = entry.readModel
      const live = `projection:${model.name}`
      const into = { name: `rebuild:${model.name}`, key: `${model.name}~rebuild` }
      // Its own owner, not a worker: it takes no share of the deployment's work.
      const owner: Leases.Owner = { id: crypto.randomUUID(), host: hostname(), pid: process.pid, worker: false }
      yield* Effect.addFinalizer(() => Effect.ignore(leases.leave(owner.id)))
      yield* leases.renew(owner)
      const [lease] = yield* leases.acquire(owner.id, [into.name], 1)
      if (lease === undefined) {
        const holding = (yield* leases.holdings).find((held) => held.name === into.name)
        return yield* new RebuildRunning({ readModel: model.name, holder: holding === undefined ? "another process" : `${holding.host}:${holding.pid}` })
      }
      yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep(Ownership.renewEvery(leases)), Effect.ignore(leases.renew(owner)))))
      const handler = Consumers.projectionHandler(deps.consumers, deps.rows, model, (projection) => Plugin.qualify(entry.plugin, projection.source), undefined, into)
      const progress: Consumers.ConsumerStatus = { name: into.name, position: 0, stalledOn: undefined, skipped: 0, handled: 0 }
      const from = Option.getOrElse(yield* checkpoints.load(into.name), () => 0)
      let head = yield* store.head
      let phase: RebuildProgress["phase"] = "rebuilding"
      const startedAt = clock.currentTimeMillisUnsafe()
      const report = (): RebuildProgress => {
        const seconds = (clock.currentTimeMillisUnsafe() - startedAt) / 1000
        const rate = seconds > 0 ? (progress.position - from) / seconds : 0
        return {
          readModel: model.name,
          phase,
          position: progress.position,
          head,
          from,
          eventsPerSecond: rate,
          etaSeconds: rate > 0 ? Option.some(Math.max(0, head - progress.position) / rate) : Option.none()
        }
      }
      const onProgress = options.onProgress ?? (() => Effect.void)
      yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep("1 second"), Effect.suspend(() => onProgress(report())))))
      const headNow = Effect.map(store.head, (position) => head = position)
      // The long stretch, while the running projection keeps the current rows up to date.
      yield* Consumers.catchUp(deps.consumers, handler, progress, lease, headNow)
      // The last stretch: the running projection is stopped (its lease seized: a new epoch fences
      // off a commit it still tries), so the rebuild reaches the head and swaps with nothing
      // moving under it; the swap releases the lease, and a worker carries on from there.
      phase = "swapping"
      const seized = yield* leases.seize(owner.id, live)
      yield* Consumers.catchUp(deps.consumers, handler, progress, lease, headNow)
      yield* deps.rows.swap({ readModel: model.name, from: into.key, position: progress.position, rebuild: lease, live: seized })
      // Letters the old projection parked are moot: the rebuilt rows are past them.
      for (const letter of yield* deadLetters.list) {
        if (letter._tag === "Event" && letter.consumer === live) yield* Effect.ignore(resolve(letter.id, "Skip"))
      }
      phase = "done"
      activity.bump()
      const done = report()
      yield* onProgress(done)
      return done
    }).pipe(Effect.scoped)

  return {
    status,
    rebuild,
    deadLetters: {
      list: (options?: AsUser) => Effect.andThen(operation(options, "ListDeadLetters"), deadLetters.list),
      replay: (id: string, options?: AsUser) => Effect.andThen(operation(options, "ReplayDeadLetter", id), Effect.andThen(reauthorize(id), resolve(id, "Replay"))),
      skip: (id: string, options?: AsUser) => Effect.andThen(operation(options, "SkipDeadLetter", id), resolve(id, "Skip"))
    }
  }
}
