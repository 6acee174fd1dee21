/**
 * A read model computed from the log alone, without the runtime: every projection applied to the
 * events of its sources in position order, the rows encoded as a store keeps them. Tests compare
 * it with what the platform's consumers wrote (guarantee 4: a read model is a fold of the log).
 *
 * @since 0.1.0
 */
import { DcbEventLog, type Event, Plugin, ReadModel, StateChangeSlice } from "@reventless/core"
import { Result, Schema } from "effect"

/** Decodes an event of a projection's source; a type the source does not declare is not for it. */
const decoderOf = (source: ReadModel.Projection<unknown>["source"]): (event: Event.Envelope) => Result.Result<unknown, unknown> => {
  if (DcbEventLog.isSource(source)) {
    const types = StateChangeSlice.fieldsByType(source.event)
    const decode = Schema.decodeUnknownResult(source.event)
    return (event) => types.has(event.type) ? decode(event.data) : Result.fail("not its type")
  }
  const decode = Schema.decodeUnknownResult(source.event as Schema.Codec<unknown, unknown>)
  return (event) => decode(event.data)
}

/**
 * The rows of `readModel` (of `plugin`) after the `events`, in position order, encoded with the
 * read model's row schema; events that do not decode are skipped, as a consumer skips unknown
 * variants.
 *
 * @since 0.1.0
 * @category folds
 */
export const readModel = (
  plugin: { readonly name: string },
  model: ReadModel.Any,
  events: ReadonlyArray<Event.Envelope>
): ReadonlyMap<string, unknown> => {
  const bySource = new Map(model.projections.map((projection) => [Plugin.qualify(plugin, projection.source), { projection, decode: decoderOf(projection.source) }]))
  const rows = new Map<string, unknown>()
  for (const event of [...events].sort((a, b) => a.position - b.position)) {
    const source = bySource.get(event.source)
    if (source === undefined) continue
    const decoded = source.decode(event)
    if (Result.isFailure(decoded)) continue
    ReadModel.apply(rows, source.projection.project({
      event: decoded.success,
      id: event.streamId,
      meta: event.meta,
      position: event.position,
      recordedAt: event.recordedAt ?? event.meta.time
    }))
  }
  const encode = Schema.encodeUnknownSync(model.row)
  return new Map([...rows].map(([id, row]) => [id, encode(row)]))
}
