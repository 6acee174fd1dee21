/** Per test file: a fresh database on the run's server, as a PgClient layer. */
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import { inject } from "vitest"

/** A new, empty database on the run's server; its URL. */
export const freshDatabase = (prefix: string): Effect.Effect<string> => {
  const admin = inject("databaseUrl")
  return Effect.gen(function*() {
    const name = `${prefix}_${crypto.randomUUID().replace(/-/g, "")}`.toLowerCase()
    const sql = yield* PgClient.PgClient
    yield* sql.unsafe(`CREATE DATABASE ${name}`)
    const url = new URL(admin)
    url.pathname = `/${name}`
    return url.toString()
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(admin) })), Effect.orDie)
}

export const clientLayer = (url: string) => PgClient.layer({ url: Redacted.make(url) })

