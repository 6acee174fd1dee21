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
  Effect.gen(function*() {
    if (!/^[a-z][a-z0-9_]{0,30}$/.test(prefix)) {
      return yield* new Errors.InfrastructureError({ service: "Databases", operation: "create", detail: `"${prefix}" is not a valid database name prefix`, retryable: false })
    }
    const name = `${prefix}_${crypto.randomUUID().replace(/-/g, "")}`
    yield* Effect.scoped(Effect.flatMap(
      PgClient.make({ url: Redacted.make(adminUrl), maxConnections: 1 }),
      (sql) => sql.unsafe(`CREATE DATABASE ${name}`)
    )).pipe(
      Effect.provide(Reactivity.layer),
      Effect.mapError((error) => new Errors.InfrastructureError({ service: "Databases", operation: "create", detail: error.message, retryable: true }))
    )
    const url = new URL(adminUrl)
    url.pathname = `/${name}`
    return url.toString()
  })
