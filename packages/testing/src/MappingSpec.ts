/**
 * Specification-style tests for event mappings: when this event of the source, then these
 * commands. The mapping runs as its consumer runs it, without a runtime (an Effect-form mapping
 * reads through the given QueryEngine, `DeciderSpec.emptyQueries` by default).
 *
 * @since 0.1.0
 */
import { assert } from "@effect/vitest"
import { Aggregate, type EventMapping, type Message, type QueryEngine } from "@reventless/core"
import { Effect, type Layer, Result } from "effect"
import { emptyQueries } from "./DeciderSpec.ts"

/** A published command as compared: its target by name. */
const comparable = (publish: EventMapping.Publish) => ({ target: publish.target.name, id: publish.id, command: publish.command })

/**
 * What `mapping` publishes for `event` of the source instance `id` (metadata: a spec's).
 *
 * @since 0.1.0
 * @category combinators
 */
export const publishes = (
  mapping: EventMapping.EventMapping,
  id: string,
  event: unknown,
  queries: Layer.Layer<QueryEngine.QueryEngine> = emptyQueries,
  meta?: Message.Meta
): ReadonlyArray<EventMapping.Publish> => {
  const input = { event, id, meta: meta ?? { service: "spec", time: new Date(0).toISOString(), ip: "", user: "spec", msgId: "spec", correlationId: "spec" } }
  const result = mapping.map(input)
  const published = Array.isArray(result) ? result : Effect.runSync(Effect.provide(result as Effect.Effect<ReadonlyArray<EventMapping.Publish>, never, QueryEngine.QueryEngine>, queries))
  // As the consumer sends them: to a declared target, encoded with its command schema.
  for (const publish of published) {
    assert.isTrue(mapping.targets.some((target) => target.name === publish.target.name), `${mapping.name} commands ${publish.target.name}, which is not among its targets`)
    const encoded = Aggregate.codecs(publish.target).encodeCommand(publish.command)
    if (Result.isFailure(encoded)) assert.fail(`${mapping.name} sent ${publish.target.name} an invalid command: ${encoded.failure.message}`)
  }
  return published
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = <Event = unknown>(mapping: EventMapping.EventMapping, queries?: Layer.Layer<QueryEngine.QueryEngine>) => ({
  /** The event of the source instance `id` (type `Event` to have it checked, e.g. the source aggregate's event type). */
  when: (id: string, event: Event) => {
    const published = publishes(mapping, id, event, queries)
    return {
      /** Expects exactly these commands, in order (`EventMapping.publish(target, id, command)`). */
      then: (...expected: ReadonlyArray<EventMapping.Publish>) => assert.deepStrictEqual(published.map(comparable), expected.map(comparable)),
      /** Expects no command. */
      thenNothing: () => assert.deepStrictEqual(published.map(comparable), [])
    }
  }
})
