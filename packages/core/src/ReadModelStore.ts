/**
 * Where read models keep their rows: one keyed collection of encoded rows per read model, plus
 * the checkpoint of the projection that writes them. A projection's writes and its checkpoint
 * are one `commit` call, so a platform commits them together and a read model always equals a
 * fold of the log up to its checkpoint (guarantee 4).
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Option } from "effect"
import type { Position } from "./Event.ts"
import type { InfrastructureError, LeaseLost } from "./Errors.ts"
import { backward, fenced, lost } from "./internal/fence.ts"
import { LeaseTable } from "./internal/leaseTable.ts"
import type { Lease } from "./Leases.ts"

/**
 * @since 0.1.0
 * @category models
 */
export type RowWrite =
  | { readonly _tag: "Put"; readonly id: string; readonly row: unknown }
  | { readonly _tag: "Delete"; readonly id: string }

/**
 * Equality filters on top-level row fields, all of which must hold.
 *
 * @since 0.1.0
 * @category models
 */
export type Where = Readonly<Record<string, string | number | boolean | null>>

/**
 * @since 0.1.0
 * @category models
 */
export interface ListOptions {
  readonly where?: Where | undefined
  /** Page size, 1 to 1000 (default 100). */
  readonly limit?: number | undefined
  /** Cursor: the last id of the previous page. Rows come in id order. */
  readonly after?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Page<Row> {
  readonly items: ReadonlyArray<{ readonly id: string; readonly row: Row }>
  /** The cursor for the next page, if there may be one. */
  readonly next: Option.Option<string>
}

/**
 * @since 0.1.0
 * @category services
 */
export class ReadModelStore extends Context.Service<ReadModelStore, {
  readonly get: (readModel: string, id: string) => Effect.Effect<Option.Option<unknown>, InfrastructureError>
  /** The rows that exist among `ids`, in one read (a projection fetches a page's rows at once). */
  readonly getMany: (readModel: string, ids: ReadonlyArray<string>) => Effect.Effect<ReadonlyMap<string, unknown>, InfrastructureError>
  readonly list: (readModel: string, options: ListOptions) => Effect.Effect<Page<unknown>, InfrastructureError>
  /**
   * Applies the writes and moves the projection's checkpoint, atomically, and only while its
   * lease is still the writer's (else `LeaseLost` and nothing is written; see `Checkpoints.save`).
   */
  readonly commit: (request: {
    readonly readModel: string
    readonly writes: ReadonlyArray<RowWrite>
    readonly checkpoint: { readonly lease: Lease; readonly position: Position }
  }) => Effect.Effect<void, InfrastructureError | LeaseLost>
  /**
   * Ends a rebuild, in one step: the rows of `from` (the rebuild's key space) become the rows of
   * `readModel` and the old ones go, the projection's checkpoint (`live.name`) moves to `position`,
   * the rebuild's checkpoint (`rebuild.name`) goes, and the projection's lease, which the rebuild
   * seized, is released for a worker to take (it starts from `position`, over the new rows). Only
   * while the rebuild holds both leases (else `LeaseLost`), and never backward.
   */
  readonly swap: (request: {
    readonly readModel: string
    readonly from: string
    readonly position: Position
    readonly rebuild: Lease
    readonly live: Lease
  }) => Effect.Effect<void, InfrastructureError | LeaseLost>
}>()("@reventless/core/ReadModelStore") {}

/**
 * The page size asked for, clamped to 1..1000.
 *
 * @since 0.1.0
 * @category utils
 */
export const pageSize = (options: ListOptions): number => Math.min(1000, Math.max(1, Math.floor(options.limit ?? 100)))

/**
 * Whether a row matches an equality filter.
 *
 * @since 0.1.0
 * @category utils
 */
export const matches = (row: unknown, where: Where | undefined): boolean => {
  if (where === undefined) return true
  if (typeof row !== "object" || row === null) return false
  const record = row as Record<string, unknown>
  for (const key in where) {
    if (record[key] !== where[key]) return false
  }
  return true
}

/**
 * Rows in memory. A commit checks the lease, writes the rows and moves the checkpoint in one
 * synchronous step.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<ReadModelStore, never, LeaseTable> = Layer.effect(
  ReadModelStore,
  Effect.gen(function*() {
    const leases = yield* LeaseTable
    const tables = new Map<string, Map<string, unknown>>()
    const table = (name: string) => {
      let rows = tables.get(name)
      if (rows === undefined) {
        rows = new Map()
        tables.set(name, rows)
      }
      return rows
    }
    return ReadModelStore.of({
      get: (readModel, id) => Effect.sync(() => Option.fromUndefinedOr(table(readModel).get(id))),
      getMany: (readModel, ids) =>
        Effect.sync(() => {
          const rows = table(readModel)
          const found = new Map<string, unknown>()
          for (const id of ids) if (rows.has(id)) found.set(id, rows.get(id))
          return found
        }),
      list: (readModel, options) =>
        Effect.sync(() => {
          const limit = pageSize(options)
          const ids = [...table(readModel).keys()].sort()
          const items: Array<{ id: string; row: unknown }> = []
          const rows = table(readModel)
          for (const id of ids) {
            if (options.after !== undefined && id <= options.after) continue
            const row = rows.get(id)
            if (!matches(row, options.where)) continue
            if (items.length === limit) return { items, next: Option.some(items[items.length - 1]!.id) }
            items.push({ id, row })
          }
          return { items, next: Option.none() }
        }),
      swap: ({ from, live, position, readModel, rebuild }) =>
        Effect.suspend((): Effect.Effect<void, InfrastructureError | LeaseLost> => {
          for (const lease of [rebuild, live]) if (!leases.holds(lease)) return Effect.fail(lost(lease))
          if ((leases.positions.get(live.name) ?? 0) > position) return Effect.fail(backward(live.name, position))
          tables.set(readModel, table(from))
          tables.delete(from)
          leases.positions.set(live.name, position)
          leases.positions.delete(rebuild.name)
          leases.release(live.owner, [live.name])
          return Effect.void
        }),
      commit: ({ checkpoint, readModel, writes }) =>
        fenced(leases, checkpoint.lease, checkpoint.position, () => {
          const rows = table(readModel)
          for (const write of writes) {
            if (write._tag === "Put") rows.set(write.id, write.row)
            else rows.delete(write.id)
          }
        })
    })
  })
)
