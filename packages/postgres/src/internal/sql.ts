/** What every Postgres service shares: its errors as the platform's, JSON and number columns. */
import { Errors } from "@reventless/core"
import { Effect } from "effect"
import type { SqlError } from "effect/sql/SqlError"

/**
 * A failed statement as the platform's error, with PostgreSQL's own message and SQLSTATE. Whether
 * trying again may help is decided by the SQLSTATE's class (see `retryable`).
 */
export const infra = (service: string, operation: string) => <A, R>(effect: Effect.Effect<A, SqlError, R>): Effect.Effect<A, Errors.InfrastructureError, R> =>
  Effect.mapError(effect, (error) => {
    const { code, message } = serverError(error)
    return new Errors.InfrastructureError({
      service,
      operation,
      detail: message === undefined ? error.message : `${error.message}: ${message}${code === undefined ? "" : ` (SQLSTATE ${code})`}`,
      retryable: retryable(code)
    })
  })

/** What the server said, when it said something (a connection that failed has no SQLSTATE). */
const serverError = (error: SqlError): { readonly code: string | undefined; readonly message: string | undefined } => {
  const cause = error.reason.cause as { readonly code?: unknown; readonly message?: unknown } | undefined
  return {
    code: typeof cause?.code === "string" && /^[0-9A-Z]{5}$/.test(cause.code) ? cause.code : undefined,
    message: typeof cause?.message === "string" && cause.message !== error.message ? cause.message : undefined
  }
}

/**
 * SQLSTATE classes whose errors are the statement's own fault: the same statement fails the same
 * way every time. 22 data exception (a NUL byte, bad UTF-8, a lone surrogate in JSON), 23
 * integrity constraint violation (the stores expect none: their duplicates are handled in SQL),
 * 54 program limit exceeded (an index row past its size), 42 syntax or access rule (a bug),
 * 0A feature not supported, 21 cardinality violation. Everything else (08 connection, 40
 * serialization and deadlock, 53 insufficient resources, 55 lock not available, 57 operator
 * intervention such as a shutdown, XX internal) and a failure without a SQLSTATE (the connection
 * itself) may pass: retryable.
 */
const permanentClasses = new Set(["22", "23", "54", "42", "0A", "21"])

/**
 * In class 42, a table not there yet (42P01) or a privilege not granted yet (42501) is a
 * deployment in progress (migrations, grants), not the statement's fault: retryable.
 */
const passing = new Set(["42P01", "42501"])

/** Whether an error with this SQLSTATE may go away on its own. */
export const retryable = (code: string | undefined): boolean => code === undefined || passing.has(code) || !permanentClasses.has(code.slice(0, 2))

/** bigint and numeric columns arrive as bigint or string. */
export const num = (value: unknown): number => typeof value === "number" ? value : Number(value)

export const json = (value: unknown): string => JSON.stringify(value)
