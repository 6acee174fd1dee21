/**
 * Typed reads of read models, for clients and for decisions and mappings that need data beyond
 * their own state. Rows are decoded with the read model's schema.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Option, Schema } from "effect"
import { InfrastructureError } from "./Errors.ts"
import type * as ReadModel from "./ReadModel.ts"
import { type ListOptions, type Page, ReadModelStore } from "./ReadModelStore.ts"

/**
 * @since 0.1.0
 * @category services
 */
export class QueryEngine extends Context.Service<QueryEngine, {
  readonly get: <Row>(readModel: ReadModel.ReadModel<string, Row>, id: string) => Effect.Effect<Option.Option<Row>, InfrastructureError>
  readonly list: <Row>(readModel: ReadModel.ReadModel<string, Row>, options?: ListOptions) => Effect.Effect<Page<Row>, InfrastructureError>
}>()("@reventless/core/QueryEngine") {}

const corruptRow = (readModel: string, id: string, error: Schema.SchemaError) =>
  new InfrastructureError({
    service: "QueryEngine",
    operation: "decode",
    detail: `row "${id}" of ${readModel} does not match its schema: ${error.message}`,
    retryable: false
  })

/**
 * A query engine over the platform's `ReadModelStore`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<QueryEngine, never, ReadModelStore> = Layer.effect(
  QueryEngine,
  Effect.map(Effect.service(ReadModelStore), (store) => {
    const decode = <Row>(readModel: ReadModel.ReadModel<string, Row>, id: string, row: unknown) =>
      Effect.mapError(Schema.decodeUnknownEffect(readModel.row)(row), (error) => corruptRow(readModel.name, id, error))
    return QueryEngine.of({
      get: (readModel, id) =>
        Effect.flatMap(store.get(readModel.name, id), (row) =>
          Option.isNone(row) ? Effect.succeedNone : Effect.map(decode(readModel, id, row.value), Option.some)),
      list: (readModel, options = {}) =>
        Effect.flatMap(store.list(readModel.name, options), (page) =>
          Effect.map(
            Effect.forEach(page.items, (item) => Effect.map(decode(readModel, item.id, item.row), (row) => ({ id: item.id, row }))),
            (items) => ({ items, next: page.next })
          ))
    })
  })
)

/**
 * A row by id.
 *
 * @since 0.1.0
 * @category accessors
 */
export const get = <Row>(readModel: ReadModel.ReadModel<string, Row>, id: string): Effect.Effect<Option.Option<Row>, InfrastructureError, QueryEngine> =>
  Effect.flatMap(Effect.service(QueryEngine), (engine) => engine.get(readModel, id))

/**
 * A page of rows, filtered.
 *
 * @since 0.1.0
 * @category accessors
 */
export const list = <Row>(readModel: ReadModel.ReadModel<string, Row>, options?: ListOptions): Effect.Effect<Page<Row>, InfrastructureError, QueryEngine> =>
  Effect.flatMap(Effect.service(QueryEngine), (engine) => engine.list(readModel, options))
