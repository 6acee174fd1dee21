/**
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as Aggregate from "./Aggregate.ts"

/**
 * @since 0.1.0
 */
export * as Authorization from "./Authorization.ts"

/**
 * @since 0.1.0
 */
export * as AutomationSlice from "./AutomationSlice.ts"

/**
 * @since 0.1.0
 */
export * as BlobStore from "./BlobStore.ts"

/**
 * @since 0.1.0
 */
export * as Checkpoints from "./Checkpoints.ts"

/**
 * @since 0.1.0
 */
export * as CommandTopic from "./CommandTopic.ts"

/**
 * @since 0.1.0
 */
export * as DcbEventLog from "./DcbEventLog.ts"

/**
 * @since 0.1.0
 */
export * as DcbEventStore from "./DcbEventStore.ts"

/**
 * @since 0.1.0
 */
export * as DeadLetters from "./DeadLetters.ts"

/**
 * @since 0.1.0
 */
export * as Decision from "./Decision.ts"

/**
 * @since 0.1.0
 */
export * as Errors from "./Errors.ts"

/**
 * @since 0.1.0
 */
export * as Event from "./Event.ts"

/**
 * @since 0.1.0
 */
export * as EventMapping from "./EventMapping.ts"

/**
 * @since 0.1.0
 */
export * as EventStore from "./EventStore.ts"

/**
 * @since 0.1.0
 */
export * as EventTopic from "./EventTopic.ts"

/**
 * @since 0.1.0
 */
export * as Extension from "./Extension.ts"

/**
 * @since 0.1.0
 */
export * as ExtensionPointTopic from "./ExtensionPointTopic.ts"

/**
 * @since 0.1.0
 */
export * as ExtensionPoint from "./ExtensionPoint.ts"

/**
 * @since 0.1.0
 */
export * as MemoryPlatform from "./MemoryPlatform.ts"

/**
 * @since 0.1.0
 */
export * as InboundTranslationSlice from "./InboundTranslationSlice.ts"

/**
 * @since 0.1.0
 */
export * as Leases from "./Leases.ts"

/**
 * @since 0.1.0
 */
export * as Limits from "./Limits.ts"

/**
 * @since 0.1.0
 */
export * as Message from "./Message.ts"

/**
 * @since 0.1.0
 */
export * as Outcome from "./Outcome.ts"

/**
 * @since 0.1.0
 */
export * as OutboundTranslationSlice from "./OutboundTranslationSlice.ts"

/**
 * @since 0.1.0
 */
export * as Plugin from "./Plugin.ts"

/**
 * @since 0.1.0
 */
export * as QueryEngine from "./QueryEngine.ts"

/**
 * @since 0.1.0
 */
export * as ReadModel from "./ReadModel.ts"

/**
 * @since 0.1.0
 */
export * as ReadModelStore from "./ReadModelStore.ts"

/**
 * @since 0.1.0
 */
export * as Runtime from "./Runtime.ts"

/**
 * @since 0.1.0
 */
export * as Scheduler from "./Scheduler.ts"

/**
 * @since 0.1.0
 */
export * as SideEffect from "./SideEffect.ts"

/**
 * @since 0.1.0
 */
export * as StateChangeSlice from "./StateChangeSlice.ts"

/**
 * @since 0.1.0
 */
export * as StateViewSlice from "./StateViewSlice.ts"

/**
 * @since 0.1.0
 */
export * as Task from "./Task.ts"

/**
 * @since 0.1.0
 */
export * as TodoStore from "./TodoStore.ts"
