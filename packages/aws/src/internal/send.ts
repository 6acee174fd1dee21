/**
 * The sending side every SQS- and SNS-backed service shares: message bodies SQS and SNS accept,
 * and batches within both of their limits (10 entries, and bytes).
 */
import { Errors } from "@reventless/core"
import { Effect } from "effect"

/** Bytes one SendMessageBatch or PublishBatch carries at most (SNS's limit, and SQS's classic one). */
export const batchBytes = 256 * 1024

/** The largest single message: SQS takes 1 MiB, SNS 256 KiB. */
export const messageBytes = { sqs: 1024 * 1024, sns: 256 * 1024 } as const

/**
 * JSON as SQS and SNS accept it: JSON escapes control characters and lone surrogates already, but
 * leaves U+FFFE and U+FFFF raw, which both refuse.
 */
export const bodyOf = (value: unknown): string => JSON.stringify(value).replace(/[\uFFFE\uFFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`)

/**
 * Splits `items` (in order) into batches of at most 10 and `batchBytes`; an item larger than that
 * goes alone.
 */
export const batchesOf = <A extends { readonly body: string }>(items: ReadonlyArray<A>): Array<ReadonlyArray<A>> => {
  const out: Array<Array<A>> = []
  let current: Array<A> = []
  let bytes = 0
  for (const item of items) {
    const size = Buffer.byteLength(item.body, "utf8")
    if (current.length > 0 && (current.length === 10 || bytes + size > batchBytes)) {
      out.push(current)
      current = []
      bytes = 0
    }
    current.push(item)
    bytes += size
  }
  if (current.length > 0) out.push(current)
  return out
}

/**
 * Refuses, before anything is sent, every item whose body is larger than `limit`: a typed error
 * that names them.
 */
export const refuseOversized = <A extends { readonly body: string }>(
  service: string,
  items: ReadonlyArray<A>,
  limit: number,
  name: (item: A) => string
): Effect.Effect<void, Errors.InfrastructureError> => {
  const oversized = items.filter((item) => Buffer.byteLength(item.body, "utf8") > limit)
  return oversized.length === 0 ? Effect.void : Effect.fail(
    new Errors.InfrastructureError({
      service,
      operation: "publish",
      detail: `too large to send (over ${limit} bytes as JSON): ${oversized.map((item) => `${name(item)} (${Buffer.byteLength(item.body, "utf8")} bytes)`).join(", ")}`,
      retryable: false
    })
  )
}
