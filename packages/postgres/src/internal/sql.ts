/** What every Postgres service shares: its errors as the platform's, JSON and number columns. */
import { Errors } from "@reventless/core"
import { Effect } from "effect"
import type { SqlError } from "effect/sql/SqlError"

/** A failed statement as the platform's error; connection trouble is worth retrying. */
export const infra = (service: string, operation: string) => <A, R>(effect: Effect.Effect<A, SqlError, R>): Effect.Effect<A, Errors.InfrastructureError, R> =>
  Effect.mapError(effect, (error) => new Errors.InfrastructureError({ service, operation, detail: describe(error), retryable: true }))

const describe = (error: SqlError): string => {
  const cause = error.cause as { readonly message?: unknown } | undefined
  return typeof cause?.message === "string" ? `${error.message}: ${cause.message}` : error.message
}

/** bigint and numeric columns arrive as bigint or string. */
export const num = (value: unknown): number => typeof value === "number" ? value : Number(value)

export const json = (value: unknown): string => JSON.stringify(value)
