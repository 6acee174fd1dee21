/**
 * Names of the AWS resources a plugin graph uses, derived from component names:
 * `<prefix>-<plugin>-<component>[-<consumer>]`, lower-case, `.fifo` for FIFO queues and topics,
 * shortened with a hash suffix where AWS's limits demand (80 characters for a queue name, 256 for
 * a topic, 63 for a bucket), and message group and deduplication ids that SQS accepts.
 *
 * @since 0.1.0
 */
import { createHash } from "node:crypto"

const hash = (text: string, length: number) => createHash("sha256").update(text).digest("hex").slice(0, length)

/** `Catalog.Product` → `catalog-product`. */
const part = (name: string) => name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "")

/** Joins the parts; beyond `limit` (suffix included) keeps a head and appends a hash of the whole. */
const fit = (parts: ReadonlyArray<string>, suffix: string, limit: number): string => {
  const name = parts.map(part).filter((piece) => piece.length > 0).join("-")
  if (name.length + suffix.length <= limit) return name + suffix
  const tail = `-${hash(name, 8)}`
  return name.slice(0, limit - suffix.length - tail.length).replace(/-+$/, "") + tail + suffix
}

/**
 * The FIFO queue of a component's commands (`component` qualified: `Catalog.Product`).
 *
 * @since 0.1.0
 * @category names
 */
export const commandQueue = (prefix: string, component: string): string => fit([prefix, component], ".fifo", 80)

/**
 * The FIFO topic an extension point's events are published on (`Catalog.Products`).
 *
 * @since 0.1.0
 * @category names
 */
export const extensionPointTopic = (prefix: string, extensionPoint: string): string => fit([prefix, extensionPoint, "events"], ".fifo", 256)

/**
 * The FIFO queue of one subscriber of an extension point's events (`Ordering.ProductsExtension`).
 *
 * @since 0.1.0
 * @category names
 */
export const subscriberQueue = (prefix: string, extensionPoint: string, subscriber: string): string =>
  fit([prefix, extensionPoint, subscriber], ".fifo", 80)

/**
 * The queue that receives a bucket's ObjectCreated notifications (standard: S3 cannot notify a
 * FIFO queue).
 *
 * @since 0.1.0
 * @category names
 */
export const notificationQueue = (prefix: string, bucket: string): string => fit([prefix, bucket, "created"], "", 80)

/**
 * The dead-letter queue next to `queue` (FIFO when it is).
 *
 * @since 0.1.0
 * @category names
 */
export const deadLetterQueue = (queue: string): string => {
  const fifo = queue.endsWith(".fifo")
  return fit([fifo ? queue.slice(0, -5) : queue, "dlq"], fifo ? ".fifo" : "", 80)
}

/**
 * The S3 bucket behind a plugin bucket name (3 to 63 characters, no dots, lower-case).
 *
 * @since 0.1.0
 * @category names
 */
export const bucket = (prefix: string, name: string): string => fit([prefix, name], "", 63)

/** What SQS accepts in a message group or deduplication id: 1 to 128 of these. */
const sqsId = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/

/**
 * A message group or deduplication id for `key`: the key itself when SQS accepts it, else a hash
 * of it (so two keys never share a group by accident).
 *
 * @since 0.1.0
 * @category names
 */
export const messageId = (key: string): string => sqsId.test(key) ? key : `h:${hash(key, 64)}`
