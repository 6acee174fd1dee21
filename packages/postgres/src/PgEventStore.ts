/**
 * The log on PostgreSQL: one table for aggregate streams and DCB logs, outcomes by msgId, and the
 * EventTopic that wakes consumers.
 *
 * Every commit takes one transaction-scoped advisory lock (the log's writer lock) and assigns
 * positions after the highest one inside it, so positions follow commit order: a consumer that
 * has read position n has seen every event that will ever get a position <= n (no gaps to skip,
 * unlike sequences whose values commit out of order). The same lock makes DCB conditions atomic:
 * the check and the append happen with no other writer in between. The cost is one writer at a
 * time, which the runtime offsets by committing a batch of decisions per transaction.
 *
 * Waiters hear about commits from this process at once and from other processes through
 * `NOTIFY rv_commit` (payload: the new head); a slow poll covers notifications lost while the
 * listening connection was down.
 *
 * @since 0.1.0
 */
import { PgClient } from "@effect/sql-pg"
import { DcbEventStore, Errors, Event, EventStore, EventTopic, Faults, type Message, type Outcome } from "@reventless/core"
import { Clock, Context, Deferred, Effect, Layer, Option, Queue, Schedule } from "effect"
import * as Signal from "./internal/signal.ts"
import { infra, json, num } from "./internal/sql.ts"

/** An arbitrary, fixed key for the log's writer lock. */
const writerLock = 7_253_541

/** How often waiters look at the database themselves, in case a notification was lost. */
const pollInterval = "1 second"

interface EventRow {
  readonly position: unknown
  readonly id: string
  readonly source: string
  readonly stream_id: string
  readonly version: unknown
  readonly type: string
  readonly schema_version: unknown
  readonly data: unknown
  readonly meta: Message.Meta
  readonly tags: ReadonlyArray<string> | null
  readonly recorded_at: string
}

const columns = `position, id, source, stream_id, version, type, schema_version, data, meta, tags, recorded_at`

const toEnvelope = (row: EventRow): Event.Envelope => ({
  id: row.id,
  type: row.type,
  source: row.source,
  streamId: row.stream_id,
  version: num(row.version),
  position: num(row.position),
  schemaVersion: num(row.schema_version),
  data: row.data,
  meta: row.meta,
  ...(row.tags === null ? {} : { tags: row.tags }),
  recordedAt: row.recorded_at
})

/** A query as SQL, its parameters numbered from `first`: clauses OR-ed, types AND tags in each. */
const queryClause = (query: DcbEventStore.Query, first: number): { readonly text: string; readonly params: ReadonlyArray<unknown> } => {
  if (query.length === 0) return { text: "false", params: [] }
  const params: Array<unknown> = []
  const clauses = query.map((item) => {
    const parts: Array<string> = []
    if (item.types !== undefined && item.types.length > 0) {
      params.push(item.types)
      parts.push(`type = ANY($${first + params.length - 1}::text[])`)
    }
    if (item.tags !== undefined && item.tags.length > 0) {
      params.push(item.tags)
      parts.push(`tags @> $${first + params.length - 1}::text[]`)
    }
    return parts.length === 0 ? "true" : `(${parts.join(" AND ")})`
  })
  return { text: `(${clauses.join(" OR ")})`, params }
}

/**
 * The EventStore and the EventTopic over the tables of `Migrations` (applied beforehand).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<EventStore.EventStore | EventTopic.EventTopic, Errors.InfrastructureError, PgClient.PgClient> = Layer.effectContext(
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const faults = yield* Faults.Faults
    const clock = yield* Clock.Clock
    const committed = Signal.make()
    let knownHead = 0
    /** Senders waiting for outcomes, by msgId. */
    const waiting = new Map<string, Array<Deferred.Deferred<Outcome.Outcome>>>()

    const wake = (msgId: string, outcome: Outcome.Outcome) => {
      const deferreds = waiting.get(msgId)
      if (deferreds === undefined) return
      waiting.delete(msgId)
      for (const deferred of deferreds) Deferred.doneUnsafe(deferred, Effect.succeed(outcome))
    }

    const readHead = infra("EventStore", "head")(
      Effect.map(sql.unsafe<{ head: unknown }>(`SELECT coalesce(max(position), 0) AS head FROM rv_events`), (rows) => num(rows[0]!.head))
    )

    /** Looks up the outcomes (or parked failures) of every waiting msgId and wakes their senders. */
    const recheck = Effect.gen(function*() {
      const ids = [...waiting.keys()]
      if (ids.length === 0) return
      const outcomes = yield* sql.unsafe<{ msg_id: string; outcome: Outcome.Outcome }>(
        `SELECT msg_id, outcome FROM rv_outcomes WHERE msg_id = ANY($1::text[])
         UNION ALL SELECT msg_id, outcome FROM rv_failures WHERE msg_id = ANY($1::text[])`,
        [ids]
      )
      for (const row of outcomes) wake(row.msg_id, row.outcome)
    })

    const heard = (head: number) =>
      Effect.suspend(() => {
        if (head > knownHead) knownHead = head
        committed.bump()
        return Effect.ignore(recheck)
      })

    // Other processes' commits: NOTIFY rv_commit with the new head; listening again after a
    // reconnect, and polling meanwhile.
    const listen = Effect.scoped(Effect.gen(function*() {
      const notifications = yield* sql.listen("rv_commit")
      yield* heard(yield* Effect.orDie(readHead))
      while (true) {
        const notification = yield* Queue.take(notifications)
        yield* heard(Number(notification.payload))
      }
    }))
    yield* Effect.forkScoped(Effect.retry(listen, Schedule.spaced("500 millis")))
    yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep(pollInterval), Effect.ignore(Effect.flatMap(readHead, heard)))))

    const commit = (requests: ReadonlyArray<EventStore.CommitRequest>): Effect.Effect<ReadonlyArray<EventStore.CommitResult>, Errors.InfrastructureError> =>
      Effect.suspend(() => {
        if (faults.failAppends > 0) {
          faults.failAppends--
          return Effect.fail(new Errors.InfrastructureError({ service: "EventStore", operation: "commit", detail: "injected fault", retryable: true }))
        }
        const recordedAt = new Date(clock.currentTimeMillisUnsafe()).toISOString()
        return infra("EventStore", "commit")(sql.withTransaction(Effect.gen(function*() {
          yield* sql.unsafe(`SELECT pg_advisory_xact_lock(${writerLock})`)
          let head = num((yield* sql.unsafe<{ head: unknown }>(`SELECT coalesce(max(position), 0) AS head FROM rv_events`))[0]!.head)
          const msgIds = requests.map(msgIdOf)
          const known = new Map(
            (yield* sql.unsafe<{ msg_id: string; outcome: Outcome.Final }>(`SELECT msg_id, outcome FROM rv_outcomes WHERE msg_id = ANY($1::text[])`, [msgIds]))
              .map((row) => [row.msg_id, row.outcome])
          )
          // Stream versions as they stand, then as this batch moves them.
          const streams = requests.flatMap((request) =>
            request._tag === "Append" ? [[request.request.source, request.request.streamId] as const]
              : request._tag === "Reject" ? [[request.outcome.component, request.outcome.id] as const]
              : []
          )
          const versions = new Map<string, number>()
          if (streams.length > 0) {
            const rows = yield* sql.unsafe<{ source: string; stream_id: string; version: unknown }>(
              `SELECT e.source, e.stream_id, max(e.version) AS version FROM rv_events e
               JOIN unnest($1::text[], $2::text[]) AS k(source, stream_id) ON e.source = k.source AND e.stream_id = k.stream_id
               GROUP BY e.source, e.stream_id`,
              [streams.map(([source]) => source), streams.map(([, streamId]) => streamId)]
            )
            for (const row of rows) versions.set(`${row.source}\u0000${row.stream_id}`, num(row.version))
          }
          const versionOf = (source: string, streamId: string) => versions.get(`${source}\u0000${streamId}`) ?? 0
          const appended: Array<Event.Envelope> = []
          const outcomes: Array<Outcome.Final> = []

          /** The first event of `log` matching the condition after its position, stored or from this batch. */
          const broken = (log: string, condition: DcbEventStore.AppendCondition | undefined) =>
            Effect.gen(function*() {
              if (condition === undefined) return undefined
              const after = condition.after ?? 0
              const inBatch = appended.find((event) =>
                event.source === log && event.position > after && DcbEventStore.matches(condition.failIfEventsMatch, { type: event.type, tags: event.tags ?? [] }))
              const clause = queryClause(condition.failIfEventsMatch, 3)
              const stored = yield* sql.unsafe<{ position: unknown }>(
                `SELECT position FROM rv_events WHERE source = $1 AND position > $2 AND ${clause.text} ORDER BY position LIMIT 1`,
                [log, after, ...clause.params]
              )
              const position = stored.length > 0 ? num(stored[0]!.position) : inBatch?.position
              return position === undefined ? undefined : DcbEventStore.conflictOf(condition, position)
            })

          const results: Array<EventStore.CommitResult> = []
          for (const request of requests) {
            const previous = known.get(msgIdOf(request))
            if (previous !== undefined) {
              results.push({ _tag: "Duplicate", outcome: previous })
              continue
            }
            const settle = (outcome: Outcome.Final) => {
              known.set(outcome.msgId, outcome)
              outcomes.push(outcome)
              results.push({ _tag: "Committed", outcome })
            }
            switch (request._tag) {
              case "Append": {
                const { events, expectedVersion, meta, msgId, source, streamId } = request.request
                const actual = versionOf(source, streamId)
                if (expectedVersion !== "any" && actual !== expectedVersion) {
                  results.push({ _tag: "Conflict", conflict: new EventStore.VersionConflict({ source, streamId, expected: expectedVersion, actual }) })
                  break
                }
                const envelopes = events.map((event, i): Event.Envelope => ({
                  id: Event.eventId(source, streamId, actual + i + 1),
                  type: event.type,
                  source,
                  streamId,
                  version: actual + i + 1,
                  position: ++head,
                  schemaVersion: event.schemaVersion,
                  data: event.data,
                  meta,
                  recordedAt
                }))
                versions.set(`${source}\u0000${streamId}`, actual + events.length)
                appended.push(...envelopes)
                settle({ _tag: "Accepted", msgId, component: source, id: streamId, events: envelopes })
                break
              }
              case "Reject": {
                const actual = versionOf(request.outcome.component, request.outcome.id)
                if (actual !== request.expectedVersion) {
                  results.push({
                    _tag: "Conflict",
                    conflict: new EventStore.VersionConflict({ source: request.outcome.component, streamId: request.outcome.id, expected: request.expectedVersion, actual })
                  })
                  break
                }
                settle(request.outcome)
                break
              }
              case "AppendTagged": {
                const { component, condition, events, id, log, meta, msgId } = request.request
                const conflict = yield* broken(log, condition)
                if (conflict !== undefined) {
                  results.push({ _tag: "Conflict", conflict })
                  break
                }
                const envelopes = events.map((event): Event.Envelope => {
                  const position = ++head
                  return {
                    id: Event.eventId(log, id, position),
                    type: event.type,
                    source: log,
                    streamId: id,
                    version: position,
                    position,
                    schemaVersion: event.schemaVersion,
                    data: event.data,
                    meta: event.meta ?? meta,
                    tags: event.tags,
                    recordedAt
                  }
                })
                appended.push(...envelopes)
                settle({ _tag: "Accepted", msgId, component, id, events: envelopes })
                break
              }
              case "RejectTagged": {
                const conflict = yield* broken(request.log, request.condition)
                if (conflict !== undefined) results.push({ _tag: "Conflict", conflict })
                else settle(request.outcome)
                break
              }
            }
          }
          if (appended.length > 0) {
            yield* sql.unsafe(
              `INSERT INTO rv_events (${columns})
               SELECT position, id, source, stream_id, version, type, schema_version, data, meta,
                      CASE WHEN jsonb_typeof(tags) = 'array' THEN ARRAY(SELECT jsonb_array_elements_text(tags)) END, recorded_at
               FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::int[], $8::jsonb[], $9::jsonb[], $10::jsonb[], $11::text[])
                 AS e(position, id, source, stream_id, version, type, schema_version, data, meta, tags, recorded_at)`,
              [
                appended.map((event) => event.position),
                appended.map((event) => event.id),
                appended.map((event) => event.source),
                appended.map((event) => event.streamId),
                appended.map((event) => event.version),
                appended.map((event) => event.type),
                appended.map((event) => event.schemaVersion),
                appended.map((event) => json(event.data)),
                appended.map((event) => json(event.meta)),
                // text[][] cannot be ragged, and arrays with NULLs do not encode: tags travel as one
                // JSON value per event, `null` for aggregate events.
                appended.map((event) => json(event.tags ?? null)),
                appended.map((event) => event.recordedAt ?? recordedAt)
              ]
            )
          }
          if (outcomes.length > 0) {
            yield* sql.unsafe(
              `INSERT INTO rv_outcomes (msg_id, outcome) SELECT * FROM unnest($1::text[], $2::jsonb[])`,
              [outcomes.map((outcome) => outcome.msgId), outcomes.map(json)]
            )
            yield* sql.unsafe(`DELETE FROM rv_failures WHERE msg_id = ANY($1::text[])`, [outcomes.map((outcome) => outcome.msgId)])
            yield* sql.unsafe(`SELECT pg_notify('rv_commit', $1)`, [String(head)])
          }
          if (faults.commitDelayMillis > 0) yield* Effect.sleep(faults.commitDelayMillis)
          return { results, outcomes, head }
        }))).pipe(
          Effect.map(({ head, outcomes, results }) => {
            if (head > knownHead) knownHead = head
            for (const outcome of outcomes) wake(outcome.msgId, outcome)
            committed.bump()
            return results
          })
        )
      })

    const readAll = (options: { readonly after: Event.Position; readonly limit: number; readonly sources?: ReadonlySet<string> | undefined }) =>
      infra("EventStore", "readAll")(Effect.map(
        sql.unsafe<EventRow & { head: unknown }>(
          `WITH h AS (SELECT coalesce(max(position), 0) AS head FROM rv_events)
           SELECT h.head, e.* FROM h LEFT JOIN LATERAL (
             SELECT ${columns} FROM rv_events
             WHERE position > $1 ${options.sources === undefined ? "" : "AND source = ANY($3::text[])"}
             ORDER BY position LIMIT $2
           ) e ON true`,
          options.sources === undefined ? [options.after, options.limit] : [options.after, options.limit, [...options.sources]]
        ),
        (rows) => page(rows, options.after, options.limit)
      ))

    const readTagged = (options: { readonly log: string; readonly query: DcbEventStore.Query; readonly after: Event.Position; readonly limit: number }) => {
      const clause = queryClause(options.query, 4)
      return infra("EventStore", "readTagged")(Effect.map(
        sql.unsafe<EventRow & { head: unknown }>(
          `WITH h AS (SELECT coalesce(max(position), 0) AS head FROM rv_events)
           SELECT h.head, e.* FROM h LEFT JOIN LATERAL (
             SELECT ${columns} FROM rv_events
             WHERE source = $1 AND position > $2 AND ${clause.text}
             ORDER BY position LIMIT $3
           ) e ON true`,
          [options.log, options.after, options.limit, ...clause.params]
        ),
        (rows) => page(rows, options.after, options.limit)
      ))
    }

    const awaitOutcome = (msgId: string): Effect.Effect<Outcome.Outcome, Errors.InfrastructureError> =>
      Effect.gen(function*() {
        const deferred = Deferred.makeUnsafe<Outcome.Outcome>()
        const list = waiting.get(msgId)
        if (list === undefined) waiting.set(msgId, [deferred])
        else list.push(deferred)
        // Registered first, then looked up: an outcome committed in between still wakes us.
        const stored = yield* infra("EventStore", "awaitOutcome")(sql.unsafe<{ outcome: Outcome.Outcome }>(
          `SELECT outcome FROM rv_outcomes WHERE msg_id = $1 UNION ALL SELECT outcome FROM rv_failures WHERE msg_id = $1 LIMIT 1`,
          [msgId]
        ))
        if (stored.length > 0) wake(msgId, stored[0]!.outcome)
        return yield* Deferred.await(deferred)
      })

    const store = EventStore.EventStore.of({
      readStream: (source, streamId, afterVersion = 0) =>
        infra("EventStore", "readStream")(Effect.map(
          sql.unsafe<EventRow>(`SELECT ${columns} FROM rv_events WHERE source = $1 AND stream_id = $2 AND version > $3 ORDER BY version`, [source, streamId, afterVersion]),
          (rows) => rows.map(toEnvelope)
        )),
      readAll,
      readTagged,
      head: Effect.tap(readHead, (head) => Effect.sync(() => void (knownHead = Math.max(knownHead, head)))),
      commit,
      outcome: (msgId) =>
        infra("EventStore", "outcome")(Effect.map(
          sql.unsafe<{ outcome: Outcome.Final }>(`SELECT outcome FROM rv_outcomes WHERE msg_id = $1`, [msgId]),
          (rows) => rows.length === 0 ? Option.none() : Option.some(rows[0]!.outcome)
        )),
      awaitOutcome,
      fail: (failed) =>
        Effect.ignore(infra("EventStore", "fail")(Effect.gen(function*() {
          yield* sql.unsafe(
            `INSERT INTO rv_failures (msg_id, outcome) VALUES ($1, $2::jsonb) ON CONFLICT (msg_id) DO UPDATE SET outcome = excluded.outcome`,
            [failed.msgId, json(failed)]
          )
          yield* sql.unsafe(`SELECT pg_notify('rv_commit', $1)`, [String(knownHead)])
          wake(failed.msgId, failed)
        }))),
      retry: (msgId) => Effect.ignore(infra("EventStore", "retry")(sql.unsafe(`DELETE FROM rv_failures WHERE msg_id = $1`, [msgId]))),
      loadSnapshot: (source, streamId) =>
        infra("EventStore", "loadSnapshot")(Effect.map(
          sql.unsafe<{ version: unknown; state: unknown }>(`SELECT version, state FROM rv_snapshots WHERE source = $1 AND stream_id = $2`, [source, streamId]),
          (rows) => rows.length === 0 ? Option.none() : Option.some({ version: num(rows[0]!.version), state: rows[0]!.state })
        )),
      saveSnapshot: (source, streamId, snapshot) =>
        infra("EventStore", "saveSnapshot")(Effect.asVoid(sql.unsafe(
          `INSERT INTO rv_snapshots (source, stream_id, version, state) VALUES ($1, $2, $3, $4::jsonb)
           ON CONFLICT (source, stream_id) DO UPDATE SET version = excluded.version, state = excluded.state`,
          [source, streamId, snapshot.version, json(snapshot.state)]
        )))
    })

    const awaitAfter = (position: Event.Position): Effect.Effect<void, Errors.InfrastructureError> =>
      Effect.suspend(() => knownHead > position ? Effect.void : Effect.andThen(committed.next, awaitAfter(position)))

    return Context.make(EventStore.EventStore, store).pipe(Context.add(EventTopic.EventTopic, EventTopic.EventTopic.of({ awaitAfter })))
  })
)

const msgIdOf = (request: EventStore.CommitRequest): string =>
  request._tag === "Append" || request._tag === "AppendTagged" ? request.request.msgId : request.outcome.msgId

const page = (rows: ReadonlyArray<EventRow & { head: unknown }>, after: number, limit: number): EventStore.ReadAllResult => {
  const head = rows.length === 0 ? after : num(rows[0]!.head)
  const events = rows.filter((row) => row.position !== null).map(toEnvelope)
  return { events, through: events.length === limit ? events[events.length - 1]!.position : Math.max(after, head) }
}
