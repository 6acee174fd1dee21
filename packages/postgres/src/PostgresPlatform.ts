/**
 * The PostgreSQL platform: every service the runtime needs over one database, its tables
 * migrated at start. Swap it for `MemoryPlatform.layer` and the same plugins run on PostgreSQL.
 *
 * @since 0.1.0
 */
import { PgClient } from "@effect/sql-pg"
import { Errors, type Runtime } from "@reventless/core"
import { Duration, Effect, Layer, Redacted } from "effect"
import * as Migrations from "./Migrations.ts"
import * as PgCommandTopic from "./PgCommandTopic.ts"
import * as PgEventStore from "./PgEventStore.ts"
import * as PgStores from "./PgStores.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** `postgres://user:password@host:port/database`. */
  readonly url: string
  /** Connections in the pool (default 10). */
  readonly maxConnections?: number | undefined
  /** How long to wait for the server at start (default 10 seconds). */
  readonly connectTimeout?: Duration.Input | undefined
  readonly commands?: PgCommandTopic.Options | undefined
}

/**
 * The services over a `PgClient` the caller provides; migrates first.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromClient = (options: { readonly commands?: PgCommandTopic.Options | undefined } = {}): Layer.Layer<Runtime.Platform, Errors.InfrastructureError, PgClient.PgClient> =>
  Layer.mergeAll(PgEventStore.layer, PgCommandTopic.layer(options.commands), PgStores.checkpoints, PgStores.readModels, PgStores.scheduler, PgStores.blobs, PgStores.deadLetters, PgStores.todos).pipe(
    Layer.provide(Layer.effectDiscard(Effect.mapError(
      Effect.flatMap(Effect.service(PgClient.PgClient), (sql) => Migrations.migrate(sql)),
      (error) => new Errors.InfrastructureError({ service: "PostgresPlatform", operation: "migrate", detail: error.message, retryable: false })
    )))
  )

/** Where a URL points, without its password, for messages. */
const describe = (url: string): string => {
  try {
    const parsed = new URL(url)
    return `${parsed.hostname}:${parsed.port || "5432"}${parsed.pathname}`
  } catch {
    return "(not a URL)"
  }
}

/**
 * Every platform service on the database at `url`. A server that cannot be reached fails the
 * layer with an `InfrastructureError` that names it, within `connectTimeout`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Runtime.Platform, Errors.InfrastructureError> => {
  const timeout = Duration.fromInputUnsafe(options.connectTimeout ?? "10 seconds")
  const unreachable = (error: { readonly message: string }) =>
    new Errors.InfrastructureError({
      service: "PostgresPlatform",
      operation: "connect",
      detail: `cannot reach PostgreSQL at ${describe(options.url)}: ${error.message}`,
      retryable: true
    })
  const client = PgClient.layerFrom(
    PgClient.make({ url: Redacted.make(options.url), maxConnections: options.maxConnections ?? 10, connectTimeout: timeout }).pipe(Effect.mapError(unreachable))
  )
  const reached = Layer.effectDiscard(Effect.flatMap(Effect.service(PgClient.PgClient), (sql) => sql.unsafe(`SELECT 1`)).pipe(
    Effect.mapError(unreachable),
    Effect.timeoutOrElse({ duration: timeout, orElse: () => Effect.fail(unreachable({ message: `no answer within ${Duration.format(timeout)}` })) })
  ))
  return layerFromClient({ commands: options.commands }).pipe(Layer.provide(reached), Layer.provide(client))
}
