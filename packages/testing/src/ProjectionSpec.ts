/**
 * Specification-style tests for read models, as `DeciderSpec` is for aggregates: given events of
 * the read model's sources, then these rows. The projections run as a consumer runs them, one
 * event after another in the order given, without a runtime or a store.
 *
 * @since 0.1.0
 */
import { assert } from "@effect/vitest"
import { type Aggregate, type DcbEventLog, Message, ReadModel } from "@reventless/core"

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

/**
 * The rows of `readModel` after `given`, by id: what its projections make of those events, in
 * that order (positions 1, 2, ... as a consumer would see them).
 *
 * @since 0.1.0
 * @category combinators
 */
export const rowsAfter = <Row>(readModel: ReadModel.ReadModel<string, Row>, given: ReadonlyArray<Given>): ReadonlyMap<string, Row> => {
  const rows = new Map<string, Row>()
  const time = new Date(0).toISOString()
  given.forEach((item, i) => {
    for (const projection of readModel.projections) {
      if (!sameSource(projection.source, item.source)) continue
      ReadModel.apply(rows, projection.project({ event: item.event, id: item.id, meta: Message.makeMeta({ msgId: `spec-${i + 1}` }, time), position: i + 1, recordedAt: time }))
    }
  })
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
