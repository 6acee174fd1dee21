/**
 * A plugin is the unit of deployment: a bounded context's aggregates, event mappings, read
 * models, tasks, extension points and extensions under one name, sharing one event log. `make` builds the descriptor;
 * `validate` checks the graph (names unique, every reference resolves) and names the problem.
 * The runtime validates every plugin it starts.
 *
 * @since 0.1.0
 */
import { Predicate, Result, Schema } from "effect"
import type * as Aggregate from "./Aggregate.ts"
import * as DcbEventLog from "./DcbEventLog.ts"
import type * as AutomationSlice from "./AutomationSlice.ts"
import type * as InboundTranslationSlice from "./InboundTranslationSlice.ts"
import type * as OutboundTranslationSlice from "./OutboundTranslationSlice.ts"
import * as StateChangeSlice from "./StateChangeSlice.ts"
import type { EventMapping } from "./EventMapping.ts"
import type * as Extension from "./Extension.ts"
import type * as ExtensionPoint from "./ExtensionPoint.ts"
import type * as ReadModel from "./ReadModel.ts"
import type { Task } from "./Task.ts"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId = "~@reventless/core/Plugin" as const

/**
 * @since 0.1.0
 * @category models
 */
export interface Plugin<R> {
  readonly [TypeId]: typeof TypeId
  readonly name: string
  /** Seconds between heartbeats (the seed's unit for slice sweeps). */
  readonly heartbeatInterval: number
  readonly aggregates: ReadonlyArray<Aggregate.Any>
  readonly eventMappings: ReadonlyArray<EventMapping>
  readonly readModels: ReadonlyArray<ReadModel.Any>
  readonly tasks: ReadonlyArray<Task<R>>
  /** Its public contracts, mapped onto its aggregates. */
  readonly extensionPoints: ReadonlyArray<ExtensionPoint.ExtensionPoint>
  /** Its subscriptions to other plugins' extension points. */
  readonly extensions: ReadonlyArray<Extension.Extension>
  /** Its DCB write side: command handlers over the plugin's DCB log (`<Plugin>.DcbEventLog`). */
  readonly stateChangeSlices: ReadonlyArray<StateChangeSlice.Any>
  /** Its doors for outside input, translated into commands. */
  readonly inboundTranslationSlices: ReadonlyArray<InboundTranslationSlice.Any>
  /** Its TODO lists: items collected from events, processed by commands. */
  readonly automationSlices: ReadonlyArray<AutomationSlice.Any>
  /** Its tracked calls to the outside, from events. */
  readonly outboundTranslationSlices: ReadonlyArray<OutboundTranslationSlice.OutboundTranslationSlice<R>>
}

/**
 * @since 0.1.0
 * @category guards
 */
export const isPlugin = (u: unknown): u is Plugin<unknown> => Predicate.hasProperty(u, TypeId)

/**
 * The plugin graph is inconsistent; `problems` lists every issue found.
 *
 * @since 0.1.0
 * @category errors
 */
export class PluginDefinitionError extends Schema.TaggedError<PluginDefinitionError>()("PluginDefinitionError", {
  plugin: Schema.String,
  problems: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `plugin "${this.plugin}" is not valid:\n- ${this.problems.join("\n- ")}`
  }
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = <R = never>(options: {
  readonly name: string
  readonly heartbeatInterval: number
  readonly aggregates: ReadonlyArray<Aggregate.Any>
  readonly eventMappings?: ReadonlyArray<EventMapping> | undefined
  readonly readModels?: ReadonlyArray<ReadModel.Any> | undefined
  readonly tasks?: ReadonlyArray<Task<R>> | undefined
  readonly extensionPoints?: ReadonlyArray<ExtensionPoint.ExtensionPoint> | undefined
  readonly extensions?: ReadonlyArray<Extension.Extension> | undefined
  readonly stateChangeSlices?: ReadonlyArray<StateChangeSlice.Any> | undefined
  readonly inboundTranslationSlices?: ReadonlyArray<InboundTranslationSlice.Any> | undefined
  readonly automationSlices?: ReadonlyArray<AutomationSlice.Any> | undefined
  readonly outboundTranslationSlices?: ReadonlyArray<OutboundTranslationSlice.OutboundTranslationSlice<R>> | undefined
}): Plugin<R> => ({
  [TypeId]: TypeId,
  name: options.name,
  heartbeatInterval: options.heartbeatInterval,
  aggregates: options.aggregates,
  eventMappings: options.eventMappings ?? [],
  readModels: options.readModels ?? [],
  tasks: options.tasks ?? [],
  extensionPoints: options.extensionPoints ?? [],
  extensions: options.extensions ?? [],
  stateChangeSlices: options.stateChangeSlices ?? [],
  inboundTranslationSlices: options.inboundTranslationSlices ?? [],
  automationSlices: options.automationSlices ?? [],
  outboundTranslationSlices: options.outboundTranslationSlices ?? []
})

/**
 * The name of a plugin's DCB log, the source of its slices' events (the seed's
 * `<pluginName>DcbEventLog`).
 *
 * @since 0.1.0
 * @category utils
 */
export const dcbLog = (plugin: { readonly name: string }): string => `${plugin.name}.DcbEventLog`

/**
 * The qualified name of a component: `Plugin.Component`.
 *
 * @since 0.1.0
 * @category utils
 */
export const qualify = (plugin: { readonly name: string }, component: { readonly name: string }): string =>
  `${plugin.name}.${component.name}`

const namePattern = /^[A-Za-z][A-Za-z0-9_]*$/

/**
 * The DCB log's events across the plugin: a type produced by several slices has one payload, and
 * every consumed type (by a slice, a state view or an extension point) has a producer whose
 * fields include the consumed ones.
 */
const checkDcbEvents = <R>(plugin: Plugin<R>): Array<string> => {
  const problems: Array<string> = []
  const produced = new Map<string, { readonly by: string; readonly fields: ReadonlyMap<string, string>; readonly tags: ReadonlyArray<string> }>()
  const tagsByType = (schema: { readonly ast: unknown }) =>
    new Map([...StateChangeSlice.tagFieldsByType(schema)].map(([type, fields]) => [type, fields.map((field) => field.key).sort()]))
  const sameKeys = (a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>) => [...a.keys()].sort().join() === [...b.keys()].sort().join()
  for (const slice of plugin.stateChangeSlices) {
    const tags = tagsByType(slice.event)
    for (const [type, fields] of StateChangeSlice.fieldShapesByType(slice.event)) {
      const other = produced.get(type)
      if (other === undefined) {
        produced.set(type, { by: slice.name, fields, tags: tags.get(type) ?? [] })
        continue
      }
      if (!sameKeys(other.fields, fields)) {
        problems.push(`event "${type}" is produced by ${other.by} and ${slice.name} with different fields`)
        continue
      }
      for (const [field, shape] of fields) {
        const theirs = other.fields.get(field)
        if (theirs !== shape) problems.push(`event "${type}" field ${field} is ${theirs} in ${other.by} but ${shape} in ${slice.name}`)
      }
      if (other.tags.join() !== (tags.get(type) ?? []).join()) problems.push(`event "${type}" is tagged differently by ${other.by} and ${slice.name}`)
    }
  }
  // Slices read by tags (their opt-outs given); views, extension points and TODO lists read whole
  // types. Every reader must read each field as it is written (the same shape, or unknown).
  const sources = (kind: string, name: string, source: unknown) =>
    DcbEventLog.isSource(source) ? [[`${kind} "${name}"`, source.event, undefined] as const] : []
  const consumers: Array<readonly [string, { readonly ast: unknown }, ReadonlyMap<string, ReadonlyArray<string>> | undefined]> = [
    ...plugin.stateChangeSlices.map((slice) => [`state-change slice "${slice.name}"`, slice.consumedEvent, tagsByType(slice.consumedEvent)] as const),
    ...plugin.readModels.flatMap((readModel) => readModel.projections.flatMap((projection) => sources("read model", readModel.name, projection.source))),
    ...plugin.extensionPoints.flatMap((extensionPoint) => sources("extension point", extensionPoint.spec.name, extensionPoint.delegate)),
    ...plugin.automationSlices.flatMap((automation) => sources("automation slice", automation.name, automation.source)),
    ...plugin.outboundTranslationSlices.flatMap((outbound) => sources("outbound translation slice", outbound.name, outbound.source))
  ]
  for (const [consumer, schema, readBy] of consumers) {
    for (const [type, fields] of StateChangeSlice.fieldShapesByType(schema)) {
      const producer = produced.get(type)
      if (producer === undefined) {
        problems.push(`${consumer} consumes "${type}", which no state-change slice produces`)
        continue
      }
      const missing = [...fields.keys()].filter((field) => !producer.fields.has(field))
      if (missing.length > 0) problems.push(`${consumer} consumes "${type}" fields ${missing.join(", ")} that ${producer.by} does not produce`)
      for (const [field, shape] of fields) {
        const written = producer.fields.get(field)
        if (written === undefined || written === shape || shape === "unknown" || shape === "?unknown") continue
        // An optional reader of a field always written is fine; anything else must match.
        if (shape.startsWith("?") && shape.slice(1) === written) continue
        problems.push(`${consumer} reads "${type}" field ${field} as ${shape}, but ${producer.by} writes ${written}`)
      }
      if (readBy === undefined) continue
      // A slice reads a consumed type by its tags: the producer must write them.
      const unread = (readBy.get(type) ?? []).filter((key) => !producer.tags.includes(key))
      if (unread.length > 0) problems.push(`${consumer} reads "${type}" by ${unread.join(", ")}, which ${producer.by} does not tag`)
    }
  }
  return problems
}

/**
 * Checks the plugin graph and lists every problem at once.
 *
 * @since 0.1.0
 * @category validation
 */
export const validate = <R>(plugin: Plugin<R>): Result.Result<Plugin<R>, PluginDefinitionError> => {
  const problems: Array<string> = []
  // Names are unique per namespace: aggregates, extension points and slices are addressed by name
  // (commands, streams), so they share one; every other kind has its own.
  const seen = new Map<string, string>()
  const declare = (kind: string, name: string) => {
    if (!namePattern.test(name)) problems.push(`${kind} name "${name}" must be an identifier (letters, digits, _)`)
    const component = kind === "aggregate" || kind === "extension point" || kind === "state-change slice" || kind === "inbound translation slice"
    const namespace = component ? "component" : kind === "automation slice" || kind === "outbound translation slice" ? "todo list" : kind
    if (component && name === "DcbEventLog") problems.push(`${kind} may not be called "DcbEventLog": that is the plugin's DCB log`)
    const previous = seen.get(`${namespace}:${name}`)
    if (previous !== undefined) problems.push(`${kind} "${name}" has the same name as ${previous === kind ? "another" : `the ${previous}`}`)
    else seen.set(`${namespace}:${name}`, kind)
    if (!component || previous !== undefined) return
    // Platforms name queues after components in lower case (SQS): case alone must not tell two apart.
    const folded = seen.get(`folded:${name.toLowerCase()}`)
    if (folded !== undefined) problems.push(`${kind} "${name}" differs from ${folded} only in case; some platforms cannot tell them apart`)
    else seen.set(`folded:${name.toLowerCase()}`, `the ${kind} "${name}"`)
  }
  if (!namePattern.test(plugin.name)) problems.push(`plugin name "${plugin.name}" must be an identifier`)
  if (!(plugin.heartbeatInterval > 0)) problems.push(`heartbeatInterval must be a positive number of seconds, got ${plugin.heartbeatInterval}`)

  const aggregates = new Set(plugin.aggregates)
  for (const aggregate of plugin.aggregates) declare("aggregate", aggregate.name)
  // The DCB log is a known source when the plugin has slices writing to it.
  const known = (source: Aggregate.Any | DcbEventLog.Source<unknown>) =>
    DcbEventLog.isSource(source)
      ? plugin.stateChangeSlices.length > 0
      : aggregates.has(source) || plugin.aggregates.some((a) => a.name === source.name)

  for (const mapping of plugin.eventMappings) {
    declare("event mapping", mapping.name)
    if (!known(mapping.source)) problems.push(`event mapping "${mapping.name}" reads unknown aggregate "${mapping.source.name}"`)
    for (const target of mapping.targets) {
      if (!known(target)) problems.push(`event mapping "${mapping.name}" commands unknown aggregate "${target.name}"`)
    }
  }
  for (const readModel of plugin.readModels) {
    declare("read model", readModel.name)
    if (readModel.projections.length === 0) problems.push(`read model "${readModel.name}" has no projections`)
    const sources = new Set<string>()
    for (const projection of readModel.projections) {
      if (!known(projection.source)) {
        problems.push(`read model "${readModel.name}" projects unknown aggregate "${projection.source.name}"`)
      }
      if (sources.has(projection.source.name)) {
        problems.push(`read model "${readModel.name}" has two projections of "${projection.source.name}"`)
      }
      sources.add(projection.source.name)
    }
  }
  const buckets = new Map<string, string>()
  for (const task of plugin.tasks) {
    declare("task", task.name)
    for (const { bucket } of task.buckets) {
      const owner = buckets.get(bucket)
      if (owner !== undefined) problems.push(`bucket "${bucket}" is watched by both task "${owner}" and task "${task.name}"`)
      buckets.set(bucket, task.name)
    }
    for (const sideEffect of task.sideEffects) {
      declare("side effect", sideEffect.name)
      if (!known(sideEffect.source)) {
        problems.push(`side effect "${sideEffect.name}" of task "${task.name}" reads unknown aggregate "${sideEffect.source.name}"`)
      }
    }
  }
  for (const extensionPoint of plugin.extensionPoints) {
    const name = extensionPoint.spec.name
    const [owner, short = ""] = name.split(".", 2)
    if (owner !== plugin.name) problems.push(`extension point "${name}" must be named "${plugin.name}.<Name>" to belong to plugin ${plugin.name}`)
    declare("extension point", short)
    if (!known(extensionPoint.delegate)) problems.push(`extension point "${name}" maps unknown aggregate "${extensionPoint.delegate.name}"`)
    for (const target of extensionPoint.targets) {
      if (!known(target)) problems.push(`extension point "${name}" commands unknown aggregate "${target.name}"`)
    }
  }
  for (const slice of plugin.stateChangeSlices) declare("state-change slice", slice.name)
  const knownTarget = (target: Aggregate.Any | StateChangeSlice.Any) =>
    StateChangeSlice.isStateChangeSlice(target) ? plugin.stateChangeSlices.includes(target) : known(target)
  const checkSweep = (kind: string, slice: { readonly name: string; readonly heartbeatInterval: number; readonly maxRetries: number }) => {
    if (!(slice.heartbeatInterval > 0)) problems.push(`${kind} "${slice.name}" needs a positive heartbeatInterval`)
    if (!(Number.isInteger(slice.maxRetries) && slice.maxRetries >= 0)) problems.push(`${kind} "${slice.name}" needs a whole, non-negative maxRetries`)
  }
  for (const outbound of plugin.outboundTranslationSlices) {
    declare("outbound translation slice", outbound.name)
    checkSweep("outbound translation slice", outbound)
    if (!known(outbound.source)) problems.push(`outbound translation slice "${outbound.name}" reads unknown source "${outbound.source.name}"`)
    if (outbound.target !== undefined && !knownTarget(outbound.target)) {
      problems.push(`outbound translation slice "${outbound.name}" commands unknown component "${outbound.target.name}"`)
    }
  }
  for (const automation of plugin.automationSlices) {
    declare("automation slice", automation.name)
    if (!known(automation.source)) problems.push(`automation slice "${automation.name}" reads unknown source "${automation.source.name}"`)
    if (!knownTarget(automation.target)) problems.push(`automation slice "${automation.name}" commands unknown component "${automation.target.name}"`)
    checkSweep("automation slice", automation)
  }
  for (const inbound of plugin.inboundTranslationSlices) {
    declare("inbound translation slice", inbound.name)
    const target = inbound.target
    if (!knownTarget(target)) problems.push(`inbound translation slice "${inbound.name}" commands unknown component "${target.name}"`)
  }
  problems.push(...checkDcbEvents(plugin))
  for (const extension of plugin.extensions) {
    declare("extension", extension.name)
    const delegate = extension.delegate
    if (!("kind" in delegate) && !known(delegate)) problems.push(`extension "${extension.name}" delegates to unknown aggregate "${delegate.name}"`)
    if (extension.extensionPoint.name.startsWith(`${plugin.name}.`)) {
      problems.push(`extension "${extension.name}" subscribes to its own plugin's extension point "${extension.extensionPoint.name}"`)
    }
  }
  return problems.length === 0 ? Result.succeed(plugin) : Result.fail(new PluginDefinitionError({ plugin: plugin.name, problems }))
}
