/**
 * The name → component tables of a running plugin graph, with each component's codecs compiled
 * once (`Aggregate.codecs`). Components are addressed by qualified name (`Catalog.Product`) or, when unambiguous, by
 * their short name (`Product`).
 */
import { Result, Schema } from "effect"
import * as Codec from "./codec.ts"
import * as Aggregate from "../Aggregate.ts"
import { UnknownComponent } from "../Errors.ts"
import type * as Event from "../Event.ts"
import type * as ExtensionPoint from "../ExtensionPoint.ts"
import * as Plugin from "../Plugin.ts"
import type * as ReadModel from "../ReadModel.ts"
import type { InboundEntry } from "./inbound.ts"
import * as StateChangeSlice from "../StateChangeSlice.ts"

export interface AggregateEntry {
  readonly plugin: Plugin.Plugin<unknown>
  readonly qualified: string
  readonly aggregate: Aggregate.Any
  readonly codecs: Aggregate.Codecs<unknown, unknown, unknown, unknown>
}

/** A state-change slice of a running plugin, with the DCB log it writes to. */
export interface SliceEntry {
  readonly plugin: Plugin.Plugin<unknown>
  readonly qualified: string
  readonly log: string
  readonly slice: StateChangeSlice.Any
  readonly codecs: StateChangeSlice.Codecs<unknown, unknown, unknown, unknown>
}

/** An extension-point contract with its codecs compiled once. */
export interface ContractEntry {
  readonly spec: ExtensionPoint.AnySpec
  readonly decodeCommand: (input: unknown) => Result.Result<unknown, Schema.SchemaError>
  readonly encodeCommand: (command: unknown) => Result.Result<unknown, Schema.SchemaError>
  readonly decodeEvent: (data: unknown) => Result.Result<unknown, Schema.SchemaError>
  readonly encodeEvent: (event: unknown) => Result.Result<unknown, Schema.SchemaError>
}

/** An extension point owned by a running plugin. */
export interface ExtensionPointEntry {
  readonly plugin: Plugin.Plugin<unknown>
  readonly extensionPoint: ExtensionPoint.ExtensionPoint
  readonly contract: ContractEntry
}

export interface ReadModelEntry {
  readonly plugin: Plugin.Plugin<unknown>
  readonly qualified: string
  readonly readModel: ReadModel.Any
}

export interface Registry {
  readonly plugins: ReadonlyArray<Plugin.Plugin<unknown>>
  readonly aggregates: ReadonlyMap<string, AggregateEntry>
  readonly readModels: ReadonlyMap<string, ReadModelEntry>
  /** Inbound translation slices by qualified name. */
  readonly inbound: ReadonlyMap<string, InboundEntry>
  readonly inboundSlice: (name: string) => Result.Result<InboundEntry, UnknownComponent>
  /** State-change slices by qualified name. */
  readonly slices: ReadonlyMap<string, SliceEntry>
  readonly slice: (name: string) => Result.Result<SliceEntry, UnknownComponent>
  /** Extension points owned by the running plugins, by name (`Catalog.Products`). */
  readonly extensionPoints: ReadonlyMap<string, ExtensionPointEntry>
  /** Every contract the running plugins own or subscribe to, by name. */
  readonly contracts: ReadonlyMap<string, ContractEntry>
  readonly aggregate: (name: string) => Result.Result<AggregateEntry, UnknownComponent>
  readonly readModel: (name: string) => Result.Result<ReadModelEntry, UnknownComponent>
  /**
   * Encodes a command for `plugin`'s aggregate `target`; fails with a reason to put after the
   * name of whoever built it ("commands unknown aggregate ...", "built an invalid ... command").
   */
  readonly encodeCommand: (
    plugin: string,
    target: { readonly name: string },
    command: unknown
  ) => Result.Result<{ readonly component: string; readonly command: unknown }, string>
  /** Decodes a stored event with its aggregate's schema, after upcasting. */
  readonly decodeEvent: (entry: AggregateEntry, event: Event.Envelope) => Result.Result<unknown, Schema.SchemaError>
}

const compile = (plugin: Plugin.Plugin<unknown>, aggregate: Aggregate.Any): AggregateEntry => ({
  plugin,
  qualified: Plugin.qualify(plugin, aggregate),
  aggregate,
  codecs: Aggregate.codecs(aggregate)
})

const lookup = <A>(kind: string, qualified: ReadonlyMap<string, A>, short: ReadonlyMap<string, A | null>) =>
(name: string): Result.Result<A, UnknownComponent> => {
  const found = qualified.get(name) ?? short.get(name)
  return found === undefined || found === null
    ? Result.fail(new UnknownComponent({ kind, name, known: [...qualified.keys()] }))
    : Result.succeed(found)
}

const shortNames = <A>(entries: ReadonlyMap<string, A>): Map<string, A | null> => {
  const short = new Map<string, A | null>()
  for (const [qualified, entry] of entries) {
    const name = qualified.slice(qualified.indexOf(".") + 1)
    short.set(name, short.has(name) ? null : entry)
  }
  return short
}

const compileContract = (spec: ExtensionPoint.AnySpec): ContractEntry => {
  const [command, event] = [Codec.of(spec.command as Schema.Codec<unknown, unknown>), Codec.of(spec.event as Schema.Codec<unknown, unknown>)]
  return { spec, decodeCommand: command.decode, encodeCommand: command.encode, decodeEvent: event.decode, encodeEvent: event.encode }
}

export const make = (plugins: ReadonlyArray<Plugin.Plugin<unknown>>): Registry => {
  const aggregates = new Map<string, AggregateEntry>()
  const readModels = new Map<string, ReadModelEntry>()
  const extensionPoints = new Map<string, ExtensionPointEntry>()
  const slices = new Map<string, SliceEntry>()
  const inbound = new Map<string, InboundEntry>()
  const contracts = new Map<string, ContractEntry>()
  const contract = (spec: ExtensionPoint.AnySpec) => {
    let entry = contracts.get(spec.name)
    if (entry === undefined) contracts.set(spec.name, entry = compileContract(spec))
    return entry
  }
  for (const plugin of plugins) {
    for (const aggregate of plugin.aggregates) {
      const entry = compile(plugin, aggregate)
      aggregates.set(entry.qualified, entry)
    }
    for (const readModel of plugin.readModels) {
      const qualified = Plugin.qualify(plugin, readModel)
      readModels.set(qualified, { plugin, qualified, readModel })
    }
    for (const extensionPoint of plugin.extensionPoints) {
      extensionPoints.set(extensionPoint.spec.name, { plugin, extensionPoint, contract: contract(extensionPoint.spec) })
    }
    for (const extension of plugin.extensions) contract(extension.extensionPoint)
    for (const slice of plugin.stateChangeSlices) {
      const qualified = Plugin.qualify(plugin, slice)
      slices.set(qualified, { plugin, qualified, log: Plugin.dcbLog(plugin), slice, codecs: StateChangeSlice.codecs(slice) })
    }
    for (const slice of plugin.inboundTranslationSlices) {
      const qualified = Plugin.qualify(plugin, slice)
      inbound.set(qualified, { plugin, qualified, slice })
    }
  }
  return {
    plugins,
    aggregates,
    readModels,
    extensionPoints,
    contracts,
    slices,
    slice: lookup("state-change slice", slices, shortNames(slices)),
    inbound,
    inboundSlice: lookup("inbound translation slice", inbound, shortNames(inbound)),
    aggregate: lookup("aggregate", aggregates, shortNames(aggregates)),
    readModel: lookup("read model", readModels, shortNames(readModels)),
    encodeCommand: (plugin, target, command) => {
      const component = `${plugin}.${target.name}`
      const entry = aggregates.get(component)
      if (entry === undefined) return Result.fail(`commands unknown aggregate ${component}`)
      const encoded = entry.codecs.encodeCommand(command)
      return Result.isFailure(encoded)
        ? Result.fail(`built an invalid ${component} command: ${encoded.failure.message}`)
        : Result.succeed({ component, command: encoded.success })
    },
    decodeEvent: (entry, event) =>
      entry.codecs.decodeEvent(
        event.schemaVersion === entry.aggregate.eventVersion
          ? event.data
          : entry.aggregate.upcast({ type: event.type, schemaVersion: event.schemaVersion, data: event.data })
      )
  }
}
