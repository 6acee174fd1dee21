/**
 * Creates, idempotently, every AWS resource one deployment's plugin graph needs: a command queue
 * (and its dead-letter queue) per aggregate, state-change slice and extension point; a topic per
 * extension point; a queue subscribed to the topic for each extension of an extension point that
 * another deployment owns; a bucket and its notification queue per task bucket.
 *
 * Run it once per deployment, with that deployment's plugins (`reventless aws provision`): the
 * subscriptions are the deployment's, and an extension whose extension point runs in the same
 * deployment reads the shared log instead.
 *
 * @since 0.1.0
 */
import { type Errors, Plugin } from "@reventless/core"
import { Effect } from "effect"
import * as Names from "./Names.ts"
import { Resources } from "./Resources.ts"

/**
 * What the graph needs, by kind, before anything is created.
 *
 * @since 0.1.0
 * @category models
 */
export interface Needs {
  /** Qualified components whose commands have a queue. */
  readonly components: ReadonlyArray<string>
  /** Extension points owned here (a topic each). */
  readonly extensionPoints: ReadonlyArray<string>
  /** Extensions of extension points owned elsewhere (a subscribed queue each). */
  readonly subscriptions: ReadonlyArray<{ readonly extensionPoint: string; readonly subscriber: string }>
  readonly buckets: ReadonlyArray<string>
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const needs = (plugins: ReadonlyArray<Plugin.Plugin<unknown>>): Needs => {
  const owned = new Set(plugins.flatMap((plugin) => plugin.extensionPoints.map((extensionPoint) => extensionPoint.spec.name)))
  return {
    components: plugins.flatMap((plugin) => [
      ...plugin.aggregates.map((aggregate) => Plugin.qualify(plugin, aggregate)),
      ...plugin.stateChangeSlices.map((slice) => Plugin.qualify(plugin, slice)),
      ...plugin.extensionPoints.map((extensionPoint) => extensionPoint.spec.name)
    ]),
    extensionPoints: [...owned],
    subscriptions: plugins.flatMap((plugin) =>
      plugin.extensions
        .filter((extension) => !owned.has(extension.extensionPoint.name))
        .map((extension) => ({ extensionPoint: extension.extensionPoint.name, subscriber: Plugin.qualify(plugin, extension) }))
    ),
    buckets: [...new Set(plugins.flatMap((plugin) => plugin.tasks.flatMap((task) => task.buckets.map((bucket) => bucket.bucket))))]
  }
}

/**
 * Creates what `plugins` need (the `Resources` must allow creation); returns what was created or
 * confirmed, one line each.
 *
 * @since 0.1.0
 * @category provisioning
 */
export const provision = (plugins: ReadonlyArray<Plugin.Plugin<unknown>>): Effect.Effect<ReadonlyArray<string>, Errors.InfrastructureError, Resources> =>
  Effect.gen(function*() {
    const resources = yield* Resources
    const prefix = resources.options.prefix
    const need = needs(plugins)
    yield* Effect.forEach(need.components, (component) => resources.fifoQueue(Names.commandQueue(prefix, component)), { concurrency: 4, discard: true })
    yield* Effect.forEach(need.extensionPoints, (extensionPoint) => resources.fifoTopic(Names.extensionPointTopic(prefix, extensionPoint)), { discard: true })
    yield* Effect.forEach(need.subscriptions, ({ extensionPoint, subscriber }) =>
      Effect.gen(function*() {
        const topicArn = yield* resources.fifoTopic(Names.extensionPointTopic(prefix, extensionPoint))
        const queue = yield* resources.fifoQueue(Names.subscriberQueue(prefix, extensionPoint, subscriber))
        yield* resources.subscribe(topicArn, queue)
      }), { discard: true })
    yield* Effect.forEach(need.buckets, (bucket) =>
      Effect.flatMap(resources.standardQueue(Names.notificationQueue(prefix, bucket)), (queue) => resources.bucket(Names.bucket(prefix, bucket), queue)), {
      discard: true
    })
    return resources.created()
  })
