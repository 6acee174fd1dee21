/**
 * The embedded platform: every service in process, in memory. It is the default for demos and
 * tests, deterministic under `TestClock`; fault injection wraps it as any platform (`@reventless/testing` `Faults`).
 *
 * @since 0.1.0
 */
import { Layer } from "effect"
import * as BlobStore from "./BlobStore.ts"
import * as Checkpoints from "./Checkpoints.ts"
import * as CommandTopic from "./CommandTopic.ts"
import * as DeadLetters from "./DeadLetters.ts"
import * as EventStore from "./EventStore.ts"
import * as EventTopic from "./EventTopic.ts"
import * as ExtensionPointTopic from "./ExtensionPointTopic.ts"
import * as LeaseTable from "./internal/leaseTable.ts"
import * as LogSignal from "./internal/logSignal.ts"
import * as Leases from "./Leases.ts"
import * as ReadModelStore from "./ReadModelStore.ts"
import type { Platform } from "./Runtime.ts"
import * as Scheduler from "./Scheduler.ts"
import * as TodoStore from "./TodoStore.ts"

/**
 * Every platform service, in memory. Each build of the layer is a fresh, empty platform.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Platform> = Layer.mergeAll(
  EventStore.layerMemory,
  EventTopic.layerMemory,
  ExtensionPointTopic.layerShared,
  ReadModelStore.layerMemory,
  CommandTopic.layerMemory,
  Scheduler.layerMemory,
  BlobStore.layerMemory,
  DeadLetters.layerMemory,
  TodoStore.layerMemory,
  Checkpoints.layerMemory,
  Leases.layerMemory
).pipe(
  Layer.provide(Layer.merge(LogSignal.layer, LeaseTable.layer))
)
