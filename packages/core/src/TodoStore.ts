/**
 * Durable TODO lists for automation slices (Event Modeling's TODO-list pattern): items collected
 * from events, each processed by a command until done, rejected, or abandoned after its retries.
 * A platform keeps them beside the log, so a restart loses none.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Option, Schema } from "effect"
import type { InfrastructureError } from "./Errors.ts"
import { Meta } from "./Message.ts"

/**
 * @since 0.1.0
 * @category models
 */
export const Status = Schema.Literals(["Pending", "Done", "Rejected", "Abandoned"])

/**
 * @since 0.1.0
 * @category models
 */
export type Status = typeof Status.Type

/**
 * One item of a list: its encoded payload, where it came from (the source event and its meta,
 * kept for causation), and how processing went.
 *
 * @since 0.1.0
 * @category models
 */
export const Row = Schema.Struct({
  id: Schema.String,
  item: Schema.Unknown,
  status: Status,
  attempts: Schema.Int,
  lastError: Schema.optionalKey(Schema.String),
  /** The command an outside call answered with, kept so a retry resends it without calling again. */
  answer: Schema.optionalKey(Schema.Unknown),
  causeId: Schema.String,
  meta: Meta
})

/**
 * @since 0.1.0
 * @category models
 */
export type Row = typeof Row.Type

/**
 * @since 0.1.0
 * @category services
 */
export class TodoStore extends Context.Service<TodoStore, {
  /** Adds an item unless the list has one with that id (first writer wins); true when added. */
  readonly add: (list: string, row: Row) => Effect.Effect<boolean, InfrastructureError>
  /** Changes an item, only while its status is `when` (when given); true when it changed. */
  readonly update: (
    list: string,
    id: string,
    change: {
      readonly status?: Status | undefined
      readonly attempts?: number | undefined
      readonly lastError?: string | undefined
      readonly answer?: unknown
    },
    when?: Status
  ) => Effect.Effect<boolean, InfrastructureError>
  readonly get: (list: string, id: string) => Effect.Effect<Option.Option<Row>, InfrastructureError>
  /** The items still to process, oldest first. */
  readonly pending: (list: string) => Effect.Effect<ReadonlyArray<Row>, InfrastructureError>
}>()("@reventless/core/TodoStore") {}

/**
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<TodoStore> = Layer.sync(TodoStore, () => {
  const lists = new Map<string, Map<string, Row>>()
  const listOf = (list: string) => {
    let rows = lists.get(list)
    if (rows === undefined) lists.set(list, rows = new Map())
    return rows
  }
  return TodoStore.of({
    add: (list, row) =>
      Effect.sync(() => {
        const rows = listOf(list)
        if (rows.has(row.id)) return false
        rows.set(row.id, row)
        return true
      }),
    update: (list, id, change, when) =>
      Effect.sync(() => {
        const rows = listOf(list)
        const row = rows.get(id)
        if (row === undefined || (when !== undefined && row.status !== when)) return false
        rows.set(id, {
          ...row,
          ...(change.status === undefined ? {} : { status: change.status }),
          ...(change.attempts === undefined ? {} : { attempts: change.attempts }),
          ...(change.lastError === undefined ? {} : { lastError: change.lastError }),
          ...(change.answer === undefined ? {} : { answer: change.answer })
        })
        return true
      }),
    get: (list, id) => Effect.sync(() => Option.fromUndefinedOr(listOf(list).get(id))),
    pending: (list) => Effect.sync(() => [...listOf(list).values()].filter((row) => row.status === "Pending"))
  })
})
