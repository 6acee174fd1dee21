/**
 * Specification-style tests for read models, as `DeciderSpec` is for aggregates: given events of
 * the read model's sources, then these rows. The projections run as a consumer runs them, one
 * event after another in the order given, without a runtime or a store.
 *
 * @since 0.1.0
 */
import { assert } from "@effect/vitest"
import { type Aggregate, type DcbEventLog, Message, ReadModel } from "@reventless/core"
import { Result, Schema } from "effect"

/**
 * One event of a source (an aggregate, or a plugin's DCB log source), with the instance it
 * belongs to.
 *
 * @since 0.1.0
 * @category models
 */
export interface Given {
  readonly source: Aggregate.Any | DcbEventLog.Source<unknown>
  readonly id: string
  readonly event: unknown
}

/**
 * An event of `source` for the instance `id`, typed by the source's event schema.
 *
 * @since 0.1.0
 * @category constructors
 */
export const event = <Event>(
  source: Aggregate.Aggregate<string, unknown, unknown, Event, unknown> | DcbEventLog.Source<Event>,
  id: string,
  event: Event
): Given => ({ source: source as Aggregate.Any | DcbEventLog.Source<unknown>, id, event })

const sameSource = (a: Given["source"], b: Given["source"]) => a === b || ("name" in a && "name" in b && a.name === b.name)

/** The schema a source's events are stored and read with. */
const eventSchema = (source: Given["source"]): Schema.Codec<unknown, unknown> => source.event as Schema.Codec<unknown, unknown>

/**
 * The rows of `readModel` after `given`, by id: what its projections make of those events, in
 * that order (positions 1, 2, ... as a consumer would see them). Each event goes the way a stored
 * one goes: encoded with its source's schema, decoded with the projection's (an event that does
 * not decode is skipped, as a consumer skips variants it does not know); each row must encode
 * with the read model's row schema, as the store keeps it.
 *
 * @since 0.1.0
 * @category combinators
 */
export const rowsAfter = <Row>(readModel: ReadModel.ReadModel<string, Row>, given: ReadonlyArray<Given>): ReadonlyMap<string, Row> => {
  const rows = new Map<string, Row>()
  const time = new Date(0).toISOString()
  given.forEach((item, i) => {
    const stored = Schema.encodeUnknownSync(eventSchema(item.source))(item.event)
    for (const projection of readModel.projections) {
      if (!sameSource(projection.source, item.source)) continue
      const decoded = Schema.decodeUnknownResult(eventSchema(projection.source))(stored)
      if (Result.isFailure(decoded)) continue
      ReadModel.apply(rows, projection.project({ event: decoded.success, id: item.id, meta: Message.makeMeta({ msgId: `spec-${i + 1}` }, time), position: i + 1, recordedAt: time }))
    }
  })
  const encodeRow = Schema.encodeUnknownSync(readModel.row)
  for (const [id, row] of rows) {
    try {
      encodeRow(row)
    } catch (error) {
      assert.fail(`row "${id}" of ${readModel.name} does not encode with its schema: ${String(error)}`)
    }
  }
  return rows
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = <Row>(readModel: ReadModel.ReadModel<string, Row>) => ({
  given: (...given: ReadonlyArray<Given>) => {
    const rows = rowsAfter(readModel, given)
    return {
      /** Expects exactly these rows, by id (none left out, none extra). */
      then: (expected: Readonly<Record<string, Row>>) => assert.deepStrictEqual(Object.fromEntries(rows), expected),
      /** Expects this row for `id`; `undefined` for none. */
      thenRow: (id: string, expected: Row | undefined) => assert.deepStrictEqual(rows.get(id), expected)
    }
  }
})
