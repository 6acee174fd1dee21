/**
 * Carries extension-point events from the deployment whose plugin owns the extension point to the
 * deployments whose plugins extend it. The events are stored in the owner's log first; a relay
 * (a consumer of that log, with its own checkpoint) publishes them, so no event is published that
 * is not in the log and none in the log is left unpublished. A subscriber imports what it
 * receives into its own log, once per event id, and its extension consumes that log as every
 * consumer does.
 *
 * When every plugin reads one shared log (the memory and PostgreSQL platforms, or plugins that
 * run in one deployment), there is nothing to carry: `layerShared`.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, type Scope } from "effect"
import type { InfrastructureError } from "./Errors.ts"
import type * as Event from "./Event.ts"

/**
 * @since 0.1.0
 * @category services
 */
export class ExtensionPointTopic extends Context.Service<ExtensionPointTopic, {
  /** False when every plugin reads one shared log: the runtime then starts no relay and no import. */
  readonly crossesDeployments: boolean
  /**
   * Publishes events of one extension point, in the order given (the log's); publishing an event
   * again is harmless (subscribers import it once).
   */
  readonly publish: (extensionPoint: string, events: ReadonlyArray<Event.Envelope>) => Effect.Effect<void, InfrastructureError>
  /**
   * Delivers the extension point's events to `subscriber` (`Plugin.Extension`) until the scope
   * closes: at least once, in publish order per stream; an event is done once `handle` succeeds.
   */
  readonly subscribe: (
    extensionPoint: string,
    subscriber: string,
    handle: (events: ReadonlyArray<Event.Envelope>) => Effect.Effect<void, InfrastructureError>
  ) => Effect.Effect<void, InfrastructureError, Scope.Scope>
}>()("@reventless/core/ExtensionPointTopic") {}

/**
 * One log for every plugin: nothing crosses a deployment.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerShared: Layer.Layer<ExtensionPointTopic> = Layer.succeed(
  ExtensionPointTopic,
  ExtensionPointTopic.of({ crossesDeployments: false, publish: () => Effect.void, subscribe: () => Effect.void })
)
