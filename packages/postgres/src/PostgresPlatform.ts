/**
 * The PostgreSQL platform: every service the runtime needs over one database, its tables
 * migrated at start. Swap it for `MemoryPlatform.layer` and the same plugins run on PostgreSQL.
 *
 * @since 0.1.0
 */
import { PgClient } from "@effect/sql-pg"
import { type BlobStore, type CommandTopic, Errors, ExtensionPointTopic, type Runtime } from "@reventless/core"
import { Duration, Effect, Layer, Redacted, type Scope } from "effect"
import { join } from "node:path"
import * as Databases from "./Databases.ts"
import * as EmbeddedServer from "./EmbeddedServer.ts"
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
  /** Leases on consumers and other background work (see `PgStores.leases`). */
  readonly leases?: PgStores.LeaseOptions | undefined
}

/**
 * The platform services that live in the database whatever carries commands and blobs: the log
 * (EventStore, EventTopic), checkpoints, read models, scheduler, dead letters and TODO lists. The
 * AWS platform keeps these and brings its own commands, blobs and extension-point transport. Needs the tables: see `migrated`.
 *
 * @since 0.1.0
 * @category layers
 */
export type Stores = Exclude<Runtime.Platform, CommandTopic.CommandTopic | BlobStore.BlobStore | ExtensionPointTopic.ExtensionPointTopic>

/**
 * @since 0.1.0
 * @category layers
 */
export const stores = (options: { readonly leases?: PgStores.LeaseOptions | undefined } = {}): Layer.Layer<Stores, Errors.InfrastructureError, PgClient.PgClient> =>
  Layer.mergeAll(
    PgEventStore.layer,
    PgStores.leases(options.leases),
    PgStores.checkpoints,
    PgStores.readModels,
    PgStores.scheduler,
    PgStores.deadLetters,
    PgStores.todos
  )

/**
 * Applies the migrations when built; provide it under the layers that use the tables.
 *
 * @since 0.1.0
 * @category layers
 */
export const migrated: Layer.Layer<never, Errors.InfrastructureError, PgClient.PgClient> = Layer.effectDiscard(Effect.mapError(
  Effect.flatMap(Effect.service(PgClient.PgClient), (sql) => Migrations.migrate(sql)),
  (error) => new Errors.InfrastructureError({ service: "PostgresPlatform", operation: "migrate", detail: error.message, retryable: false })
))

/**
 * The services over a `PgClient` the caller provides; migrates first.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromClient = (
  options: { readonly commands?: PgCommandTopic.Options | undefined; readonly leases?: PgStores.LeaseOptions | undefined } = {}
): Layer.Layer<Runtime.Platform, Errors.InfrastructureError, PgClient.PgClient> =>
  Layer.mergeAll(stores(options), PgCommandTopic.layer(options.commands), PgStores.blobs, ExtensionPointTopic.layerShared).pipe(Layer.provide(migrated))

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
 * A client for the database at `url`. A server that cannot be reached fails the layer with an
 * `InfrastructureError` that names it, within `connectTimeout`.
 *
 * @since 0.1.0
 * @category layers
 */
export const client = (options: Omit<Options, "commands" | "leases">): Layer.Layer<PgClient.PgClient, Errors.InfrastructureError> => {
  const timeout = Duration.fromInputUnsafe(options.connectTimeout ?? "10 seconds")
  const unreachable = (error: { readonly message: string }) =>
    new Errors.InfrastructureError({
      service: "PostgresPlatform",
      operation: "connect",
      detail: `cannot reach PostgreSQL at ${describe(options.url)}: ${error.message}`,
      retryable: true
    })
  const made = PgClient.layerFrom(
    PgClient.make({ url: Redacted.make(options.url), maxConnections: options.maxConnections ?? 10, connectTimeout: timeout }).pipe(Effect.mapError(unreachable))
  )
  const reached = Layer.effectDiscard(Effect.flatMap(Effect.service(PgClient.PgClient), (sql) => sql.unsafe(`SELECT 1`)).pipe(
    Effect.mapError(unreachable),
    Effect.timeoutOrElse({ duration: timeout, orElse: () => Effect.fail(unreachable({ message: `no answer within ${Duration.format(timeout)}` })) })
  ))
  return Layer.merge(made, reached.pipe(Layer.provide(made)))
}

/**
 * Every platform service on the database at `url`. A server that cannot be reached fails the
 * layer with an `InfrastructureError` that names it, within `connectTimeout`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Runtime.Platform, Errors.InfrastructureError> =>
  layerFromClient({ commands: options.commands, leases: options.leases }).pipe(Layer.provide(client(options)))

/**
 * Where a command-line run keeps its data.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunOptions {
  /** A server's (and database's) URL; absent: the embedded server under `dataDir`. */
  readonly url?: string | undefined
  readonly dataDir: string
  /** The database on the embedded server, created on first use. */
  readonly database: string
  /** The demo's: the database `<database>_demo` instead, emptied first. */
  readonly fresh?: boolean | undefined
}

/**
 * The database URL of a command-line run: `url` when given, else a database on an embedded
 * server whose data lives under `dataDir` and persists between runs (started in the scope,
 * stopped with it). `fresh` (the demo) uses the database `<database>_demo` on the same server,
 * emptied first, so a demo never touches the data.
 *
 * @since 0.1.0
 * @category constructors
 */
export const urlFor = (options: RunOptions): Effect.Effect<string, Errors.InfrastructureError, Scope.Scope> => {
  const fresh = options.fresh === true
  if (options.url !== undefined) {
    const database = new URL(options.url).pathname.slice(1).replace(/[^a-z0-9_]/g, "_") || "reventless"
    return fresh ? Databases.ensure(options.url, `${database}_demo`, { fresh }) : Effect.succeed(options.url)
  }
  return Effect.gen(function*() {
    const server = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => EmbeddedServer.start({ dataDir: join(options.dataDir, "postgres"), persistent: true }),
        catch: (error) =>
          new Errors.InfrastructureError({
            service: "PostgresPlatform",
            operation: "start",
            detail: `cannot start the embedded PostgreSQL in ${options.dataDir}: ${error instanceof Error ? error.message : String(error)}`,
            retryable: false
          })
      }),
      (started) => Effect.promise(() => started.stop())
    )
    return yield* Databases.ensure(server.url, fresh ? `${options.database}_demo` : options.database, { fresh })
  })
}

/**
 * The platform for a command-line run, on the database `urlFor` picks.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFor = (options: RunOptions): Layer.Layer<Runtime.Platform, Errors.InfrastructureError> =>
  Layer.unwrap(Effect.map(urlFor(options), (url) => layer({ url })))
