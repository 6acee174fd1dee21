/**
 * The sending side every SQS- and SNS-backed service shares: message bodies SQS and SNS accept,
 * and batches within both of their limits (10 entries, and bytes).
 */
import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs"
import { Errors } from "@reventless/core"
import { Effect } from "effect"
import { call } from "../AwsClients.ts"

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

/** An entry SQS or SNS refused in a batch request. */
export interface RefusedEntry {
  readonly Id?: string | undefined
  readonly Code?: string | undefined
  readonly Message?: string | undefined
  readonly SenderFault?: boolean | undefined
}

/**
 * The failure of a batch request some of whose entries (`Id` = index in `batch`) were refused,
 * each named; retryable unless one was refused for what the sender sent.
 */
export const refusedEntries = <A>(
  service: string,
  operation: string,
  what: string,
  failed: ReadonlyArray<RefusedEntry>,
  batch: ReadonlyArray<A>,
  name: (item: A) => string
): Errors.InfrastructureError =>
  new Errors.InfrastructureError({
    service,
    operation,
    detail: `refused ${failed.length} of ${batch.length} ${what} (${
      failed.map((entry) => {
        const item = batch[Number(entry.Id)]
        return `${item === undefined ? entry.Id : name(item)}: ${entry.Code ?? ""} ${entry.Message ?? ""}`.trim()
      }).join("; ")
    })`,
    retryable: failed.every((entry) => entry.SenderFault !== true)
  })

/**
 * Sends a batch (at most 10, within `batchBytes`: see `batchesOf`) to a FIFO queue, each with its
 * group and deduplication id; fails with `refused` when SQS refuses any.
 */
export const sendToFifoQueue = <A extends { readonly body: string }>(
  sqs: SQSClient,
  url: string,
  batch: ReadonlyArray<A>,
  ids: (item: A) => { readonly group: string; readonly deduplication: string },
  refused: (failed: ReadonlyArray<RefusedEntry>) => Errors.InfrastructureError
): Effect.Effect<void, Errors.InfrastructureError> =>
  Effect.flatMap(
    call("SQS", "SendMessageBatch", (signal) =>
      sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: batch.map((item, i) => {
            const { deduplication, group } = ids(item)
            return { Id: String(i), MessageBody: item.body, MessageGroupId: group, MessageDeduplicationId: deduplication }
          })
        }),
        { abortSignal: signal }
      )),
    (answer) => (answer.Failed ?? []).length === 0 ? Effect.void : Effect.fail(refused(answer.Failed ?? []))
  )
