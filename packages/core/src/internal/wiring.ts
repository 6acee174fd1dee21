/**
 * The background work of a plugin graph, as named pieces for the ownership rounds
 * (internal/ownership.ts) to run: a consumer of the log for every projection, event mapping,
 * side effect, extension point, extension and TODO list's collector (each with its status), a
 * sweep per TODO list, a bucket per task bucket, the scheduler, and, where extension points cross
 * deployments, a relay per extension point of this deployment and an import per extension of
 * another's.
 */
import { type Clock, Context, Effect, PubSub } from "effect"
import { BlobStore } from "../BlobStore.ts"
import type { CommandTopic } from "../CommandTopic.ts"
import type { EventStore } from "../EventStore.ts"
import type { ExtensionPointTopic } from "../ExtensionPointTopic.ts"
import * as Plugin from "../Plugin.ts"
import type { QueryEngine } from "../QueryEngine.ts"
import type { ReadModelStore, RowWrite } from "../ReadModelStore.ts"
import * as Consumers from "./consumers.ts"
import * as Extensions from "./extensions.ts"
import type * as Ownership from "./ownership.ts"
import * as Tasks from "./tasks.ts"
import * as Todo from "./todo.ts"

export interface WiringDeps<R> {
  readonly plugins: ReadonlyArray<Plugin.Plugin<R>>
  readonly consumers: Consumers.ConsumerDeps
  readonly links: Extensions.LinkDeps
  readonly todos: Todo.TodoDeps
  readonly tasks: Tasks.TaskDeps
  readonly store: EventStore["Service"]
  readonly commands: CommandTopic["Service"]
  readonly rows: ReadModelStore["Service"]
  readonly blobs: BlobStore["Service"]
  readonly extensionPointTopic: ExtensionPointTopic["Service"]
  readonly clock: Clock.Clock
  readonly schedulerPollMillis: number
  /** The plugins' own services, for their tasks and side effects. */
  readonly services: Context.Context<R>
  readonly queries: Context.Context<QueryEngine>
}

export interface Wiring {
  readonly works: ReadonlyArray<Ownership.Work>
  /** Each consumer's progress in this process. */
  readonly statuses: ReadonlyArray<Consumers.ConsumerStatus>
  /** The sources of each consumer, by name. */
  readonly sourcesOf: ReadonlyMap<string, ReadonlySet<string>>
  /** Every TODO list's sweep, by the name of its work: `settle` runs the ones this process owns. */
  readonly sweeps: ReadonlyMap<string, Effect.Effect<void>>
  /** The change feed of each `ReadModelStream`, by name. */
  readonly changeFeeds: ReadonlyMap<string, PubSub.PubSub<RowWrite>>
}

export const wire = <R>(deps: WiringDeps<R>): Effect.Effect<Wiring> =>
  Effect.gen(function*() {
    const { consumers, links } = deps
    const registry = consumers.registry
    const withQueries = Context.merge(deps.services, deps.queries)
    const works: Array<Ownership.Work> = []
    const sweeps = new Map<string, Effect.Effect<void>>()
    const changeFeeds = new Map<string, PubSub.PubSub<RowWrite>>()
    const handlers: Array<Consumers.Handler> = []
    for (const plugin of deps.plugins) {
      for (const readModel of plugin.readModels) {
        const feed = readModel.kind === "ReadModelStream" ? yield* PubSub.unbounded<RowWrite>() : undefined
        if (feed !== undefined) changeFeeds.set(readModel.name, feed)
        handlers.push(Consumers.projectionHandler(consumers, deps.rows, readModel, (projection) => Plugin.qualify(plugin, projection.source), feed))
      }
      for (const mapping of plugin.eventMappings) handlers.push(Consumers.mappingHandler(consumers, deps.commands, mapping, plugin.name, deps.queries))
      for (const task of plugin.tasks) {
        for (const sideEffect of task.sideEffects) handlers.push(Consumers.sideEffectHandler(consumers, sideEffect, plugin.name, task.name, withQueries))
      }
      for (const extensionPoint of plugin.extensionPoints) {
        handlers.push(Extensions.extensionPointHandler(links, registry.extensionPoints.get(extensionPoint.spec.name)!))
      }
      const todoSpecs = [
        ...plugin.automationSlices.map((automation) => Todo.fromAutomation(plugin, automation)),
        ...plugin.outboundTranslationSlices.map((outbound) => Todo.fromOutbound(plugin, outbound, withQueries))
      ]
      for (const spec of todoSpecs) {
        handlers.push(Todo.collector(deps.todos, plugin, spec))
        const sweeper = Todo.sweeper(deps.todos, plugin, spec)
        sweeps.set(`sweep:${spec.list}`, sweeper.once)
        works.push({ name: `sweep:${spec.list}`, run: () => sweeper.forever })
      }
      for (const extension of plugin.extensions) {
        handlers.push(Extensions.extensionIncomingHandler(links, plugin, extension))
        const { mapOutgoingEvent } = extension
        if (mapOutgoingEvent !== undefined) handlers.push(Extensions.extensionOutgoingHandler(links, plugin, { ...extension, mapOutgoingEvent }))
      }
    }
    if (deps.extensionPointTopic.crossesDeployments) {
      // Extension points of this deployment are relayed from its log; extensions of another
      // deployment's extension points import its events into this log.
      for (const name of registry.extensionPoints.keys()) handlers.push(Extensions.extensionPointRelay(consumers, deps.extensionPointTopic, name))
      for (const plugin of deps.plugins) {
        for (const extension of plugin.extensions) {
          if (registry.extensionPoints.has(extension.extensionPoint.name)) continue
          const subscriber = `${plugin.name}.${extension.name}`
          works.push({
            name: `import:${subscriber}`,
            run: () =>
              Effect.scoped(Effect.andThen(deps.extensionPointTopic.subscribe(extension.extensionPoint.name, subscriber, Extensions.importExtensionPointEvents(deps.store)), Effect.never))
          })
        }
      }
    }
    const statuses: Array<Consumers.ConsumerStatus> = []
    const sourcesOf = new Map<string, ReadonlySet<string>>()
    for (const handler of handlers) {
      sourcesOf.set(handler.name, handler.sources)
      const status: Consumers.ConsumerStatus = { name: handler.name, position: 0, stalledOn: undefined, skipped: 0, handled: 0 }
      statuses.push(status)
      works.push({ name: handler.name, run: (lease) => Consumers.run(consumers, handler, status, lease) })
    }
    const taskServices = Context.merge(withQueries, Context.make(BlobStore, deps.blobs))
    for (const plugin of deps.plugins) {
      for (const task of plugin.tasks) {
        for (const bucket of task.buckets) {
          works.push({ name: `bucket:${plugin.name}.${task.name}.${bucket.bucket}`, run: () => Tasks.runBucket(deps.tasks, plugin.name, task, bucket, taskServices) })
        }
      }
    }
    works.push({ name: "scheduler", run: () => Tasks.runScheduler(deps.tasks, deps.schedulerPollMillis, () => deps.clock.currentTimeMillisUnsafe()) })
    return { works, statuses, sourcesOf, sweeps, changeFeeds }
  })
