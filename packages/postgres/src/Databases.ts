/**
 * Databases on a server: a fresh one per test file, benchmark or CLI data directory.
 *
 * @since 0.1.0
 */
import { PgClient } from "@effect/sql-pg"
import { Errors } from "@reventless/core"
import { Effect, Redacted } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"

/**
 * Creates an empty database named `<prefix>_<random>` on the server `adminUrl` points at (any
 * database the user may connect to); returns its URL.
 *
 * @since 0.1.0
 * @category constructors
 */
export const create = (adminUrl: string, prefix: string): Effect.Effect<string, Errors.InfrastructureError> =>
  Effect.suspend(() => ensure(adminUrl, `${prefix}_${crypto.randomUUID().replace(/-/g, "")}`))

/**
 * The URL of database `name` on the server `adminUrl` points at, created if it does not exist.
 * `name` must be a plain identifier (lower case letters, digits, `_`): it cannot be a parameter.
 * With `fresh`, an existing one is dropped first (a demo's own database, never the app's data).
 *
 * @since 0.1.0
 * @category constructors
 */
export const ensure = (adminUrl: string, name: string, options: { readonly fresh?: boolean | undefined } = {}): Effect.Effect<string, Errors.InfrastructureError> =>
  Effect.gen(function*() {
    if (!/^[a-z][a-z0-9_]{0,62}$/.test(name)) {
      return yield* new Errors.InfrastructureError({ service: "Databases", operation: "ensure", detail: `"${name}" is not a valid database name`, retryable: false })
    }
    yield* Effect.scoped(Effect.gen(function*() {
      const sql = yield* PgClient.make({ url: Redacted.make(adminUrl), maxConnections: 1 })
      if (options.fresh === true) yield* sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      const found = yield* sql.unsafe(`SELECT 1 FROM pg_database WHERE datname = $1`, [name])
      if (found.length === 0) yield* sql.unsafe(`CREATE DATABASE ${name}`)
    })).pipe(
      Effect.provide(Reactivity.layer),
      Effect.mapError((error) => new Errors.InfrastructureError({ service: "Databases", operation: "ensure", detail: error.message, retryable: true }))
    )
    const url = new URL(adminUrl)
    url.pathname = `/${name}`
    return url.toString()
  })
