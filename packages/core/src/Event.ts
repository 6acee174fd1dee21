/**
 * The stored event envelope. Every event in a plugin's log carries its qualified type
 * (`Catalog.Product.Added`), the schema version it was written with, its stream and version,
 * its global position, and the metadata of the command that caused it.
 *
 * Payloads are stored encoded; components decode them with their own schemas, after the
 * component's upcaster has brought old schema versions up to date.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { Meta } from "./Message.ts"

/**
 * A position in the global order of the log: strictly increasing in commit order, gaps allowed.
 *
 * @since 0.1.0
 * @category models
 */
export type Position = number

/**
 * @since 0.1.0
 * @category models
 */
export const Envelope = Schema.Struct({
  id: Schema.String,
  type: Schema.String,
  source: Schema.String,
  streamId: Schema.String,
  version: Schema.Int,
  position: Schema.Int,
  schemaVersion: Schema.Int,
  data: Schema.Unknown,
  meta: Meta,
  /** DCB tags (`orderId:o1`), on events of a plugin's DCB log. */
  tags: Schema.optionalKey(Schema.Array(Schema.String)),
  /** When the store committed it (`meta.time` is when the command was sent). */
  recordedAt: Schema.optionalKey(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Envelope = typeof Envelope.Type

/**
 * An event about to be appended: the store assigns id, version and position.
 *
 * @since 0.1.0
 * @category models
 */
export interface NewEvent {
  readonly type: string
  readonly schemaVersion: number
  readonly data: unknown
}

/**
 * The id of a stored event: its stream and version, which are unique in the log.
 *
 * @since 0.1.0
 * @category constructors
 */
export const eventId = (source: string, streamId: string, version: number): string => `${source}/${streamId}/${version}`

/**
 * Turns a stored payload written with an older schema version into the current shape. The
 * identity until a component changes an event's schema.
 *
 * @since 0.1.0
 * @category models
 */
export type Upcaster = (event: { readonly type: string; readonly schemaVersion: number; readonly data: unknown }) => unknown

/**
 * @since 0.1.0
 * @category constructors
 */
export const identityUpcaster: Upcaster = (event) => event.data
