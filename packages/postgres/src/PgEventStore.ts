/**
 * The log on PostgreSQL: one table for aggregate streams and DCB logs, outcomes by msgId, and the
 * EventTopic that wakes consumers.
 *
 * A commit is one call of the `rv_commit` function (Migrations), one round trip: it takes a
 * transaction-scoped advisory lock (the log's writer lock) and assigns positions after the
 * highest one inside it, so positions follow commit order: a consumer that has read position n
 * has seen every event that will ever get a position <= n (no gaps to skip, unlike sequences
 * whose values commit out of order). The same lock makes DCB conditions atomic: the check and the
 * append happen with no other writer in between. The cost is one writer at a time, which group
 * commit offsets: batches that arrive while a call is in flight go together in the next one.
 *
 * Reads are sent unprepared, so each is planned for the tables as they are now: a prepared
 * statement switches to a generic plan after five runs, and one made while the log was nearly
 * empty scanned the whole log to read one stream (40-90 ms instead of 6 at 200k events) until the
 * next ANALYZE. For the same reason the log is analyzed as it grows (below).
 *
 * Waiters hear about commits from this process at once and from other processes through
 * `NOTIFY rv_commit` (payload: the new head); a slow poll covers notifications lost while the
 * listening connection was down.
 *
 * @since 0.1.0
 */
import { PgClient } from "@effect/sql-pg"
import { DcbEventStore, Errors, Event, EventStore, EventTopic, type Message, type Outcome } from "@reventless/core"
import { Clock, Context, Deferred, Effect, Layer, Option, Queue, Schedule } from "effect"
import * as Signal from "./internal/signal.ts"
import { infra, json, num } from "./internal/sql.ts"

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
    const clock = yield* Clock.Clock
    const committed = Signal.make({ latched: true })
    let knownHead = 0
    /**
     * A young log is analyzed as it grows (at 1,000 events, then every tenfold): until autovacuum
     * comes by, statistics from a nearly empty table made the cached plan of the version check in
     * `rv_commit` scan every event of the source instead of one stream (8 ms per request).
     */
    let nextAnalyze = 1_000
    const readHead = infra("EventStore", "head")(
      Effect.map(sql.unsafe<{ head: unknown }>(`SELECT coalesce(max(position), 0) AS head FROM rv_events`), (rows) => num(rows[0]!.head))
    )

    /** The outcomes (or parked failures) of `ids`. */
    const lookUp = (ids: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        if (ids.length === 0) return []
        const rows = yield* infra("EventStore", "awaitOutcome")(sql.unsafe<{ msg_id: string; outcome: StoredOutcome }>(
          `SELECT msg_id, outcome FROM rv_outcomes WHERE msg_id = ANY($1::text[])
           UNION ALL SELECT msg_id, outcome FROM rv_failures WHERE msg_id = ANY($1::text[])`,
          [ids]
        ).unprepared)
        const outcomes = yield* expand(rows.map((row) => row.outcome))
        return rows.map((row, i) => [row.msg_id, outcomes[i]!] as const)
      })
    /** Set once the store is made: looks up the outcomes of everyone waiting. */
    let recheck: Effect.Effect<void, Errors.InfrastructureError> = Effect.void

    const heard = (head: number) =>
      Effect.suspend(() => {
        if (head > knownHead) knownHead = head
        committed.bump()
        return Effect.ignore(Effect.suspend(() => recheck))
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

    /** Stored outcomes as callers see them: an Accepted one's events read back from the log. */
    const expand = (stored: ReadonlyArray<StoredOutcome>): Effect.Effect<ReadonlyArray<Outcome.Outcome>, Errors.InfrastructureError> =>
      Effect.gen(function*() {
        const ranges = stored.flatMap((outcome) => outcome._tag === "Accepted" && "from" in outcome && outcome.count > 0 ? [outcome] : [])
        if (ranges.length === 0) return stored.map((outcome) => toOutcome(outcome, []))
        const rows = yield* infra("EventStore", "outcome")(sql.unsafe<EventRow>(
          `SELECT ${columns} FROM rv_events e JOIN unnest($1::bigint[], $2::bigint[]) AS r(first, last) ON e.position BETWEEN r.first AND r.last ORDER BY e.position`,
          [ranges.map((range) => range.from), ranges.map((range) => range.from + range.count - 1)]
        ).unprepared)
        const envelopes = rows.map(toEnvelope)
        return stored.map((outcome) =>
          toOutcome(outcome, "from" in outcome ? envelopes.filter((event) => event.position >= outcome.from && event.position < outcome.from + outcome.count) : []))
      })

    /** One call of `rv_commit` for a group of batches, in order; answers per request. */
    const commitGroup = (group: ReadonlyArray<EventStore.CommitRequest>): Effect.Effect<ReadonlyArray<EventStore.CommitResult>, Errors.InfrastructureError> =>
      Effect.gen(function*() {
        const recordedAt = new Date(clock.currentTimeMillisUnsafe()).toISOString()
        const call = sql.unsafe<{ results: ReadonlyArray<Answer> }>(`SELECT rv_commit($1::jsonb, $2) AS results`, [json(group.map(encode)), recordedAt])
        const answers = (yield* infra("EventStore", "commit")(call))[0]!.results
        const duplicates = yield* expand(answers.flatMap((answer) => answer.r === "D" ? [answer.o] : []))
        let duplicate = 0
        const results = group.map((request, i): EventStore.CommitResult => {
          const answer = answers[i]!
          switch (answer.r) {
            case "D":
              return { _tag: "Duplicate", outcome: duplicates[duplicate++] as Outcome.Final }
            case "V":
              return { _tag: "Conflict", conflict: EventStore.versionConflict(request, answer.a) }
            case "Q":
              return { _tag: "Conflict", conflict: DcbEventStore.conflictOf(request.boundary._tag === "Query" ? request.boundary.condition! : { failIfEventsMatch: [] }, answer.p) }
            case "C":
              return { _tag: "Committed", outcome: EventStore.committedOutcome(request, answer.n ?? 0, answer.p ?? 0, recordedAt) }
          }
        })
        const head = answers.reduce((top, answer, i) => answer.r === "C" && answer.p !== undefined ? Math.max(top, answer.p + eventCount(group[i]!) - 1) : top, 0)
        if (head > knownHead) knownHead = head
        if (head >= nextAnalyze) {
          nextAnalyze = head * 10
          yield* Effect.forkDetach(Effect.ignore(sql.unsafe(`ANALYZE rv_events, rv_outcomes`)))
        }
        committed.bump()
        return results
      })

    // Group commit: batches that arrive while a call is in flight go together in the next one.
    // One writer lock, one round trip, however many workers commit at once.
    const queue: Array<{ readonly requests: ReadonlyArray<EventStore.CommitRequest>; readonly done: Deferred.Deferred<ReadonlyArray<EventStore.CommitResult>, Errors.InfrastructureError> }> = []
    const pending = Signal.make({ latched: true })
    const maxGroup = 2_000
    const flusher = Effect.forever(Effect.gen(function*() {
      if (queue.length === 0) yield* pending.next
      const taken: typeof queue = []
      let size = 0
      while (queue.length > 0 && (taken.length === 0 || size + queue[0]!.requests.length <= maxGroup)) {
        const next = queue.shift()!
        taken.push(next)
        size += next.requests.length
      }
      if (taken.length === 0) return
      const outcome = yield* Effect.exit(commitGroup(taken.flatMap((entry) => entry.requests)))
      if (outcome._tag === "Failure" && taken.length > 1) {
        // One call for the group failed as a whole (a payload the database refuses, say): each
        // batch is tried alone, so that one bad decision fails only the batch that holds it.
        for (const entry of taken) Deferred.doneUnsafe(entry.done, yield* Effect.exit(commitGroup(entry.requests)))
        return
      }
      let offset = 0
      for (const entry of taken) {
        const slice = outcome._tag === "Success" ? Effect.succeed(outcome.value.slice(offset, offset + entry.requests.length)) : outcome
        offset += entry.requests.length
        Deferred.doneUnsafe(entry.done, slice)
      }
    }))
    yield* Effect.forkScoped(flusher)

    const commit = (requests: ReadonlyArray<EventStore.CommitRequest>): Effect.Effect<ReadonlyArray<EventStore.CommitResult>, Errors.InfrastructureError> =>
      Effect.suspend(() => {
        if (requests.length === 0) return Effect.succeed([])
        const done = Deferred.makeUnsafe<ReadonlyArray<EventStore.CommitResult>, Errors.InfrastructureError>()
        queue.push({ requests, done })
        pending.bump()
        return Deferred.await(done)
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
        ).unprepared,
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
        ).unprepared,
        (rows) => page(rows, options.after, options.limit)
      ))
    }

    const made = EventStore.make({
      readStream: (source, streamId, afterVersion = 0) =>
        infra("EventStore", "readStream")(Effect.map(
          sql.unsafe<EventRow>(`SELECT ${columns} FROM rv_events WHERE source = $1 AND stream_id = $2 AND version > $3 ORDER BY version`, [source, streamId, afterVersion]).unprepared,
          (rows) => rows.map(toEnvelope)
        )),
      readAll,
      readTagged,
      head: Effect.tap(readHead, (head) => Effect.sync(() => void (knownHead = Math.max(knownHead, head)))),
      commit,
      outcome: (msgId) =>
        Effect.flatMap(
          infra("EventStore", "outcome")(sql.unsafe<{ outcome: StoredOutcome }>(`SELECT outcome FROM rv_outcomes WHERE msg_id = $1`, [msgId]).unprepared),
          (rows) => rows.length === 0 ? Effect.succeed(Option.none()) : Effect.map(expand([rows[0]!.outcome]), (outcomes) => Option.some(outcomes[0] as Outcome.Final))
        ),
      lookUp,
      fail: (failed) =>
        Effect.ignore(infra("EventStore", "fail")(Effect.gen(function*() {
          yield* sql.unsafe(
            `INSERT INTO rv_failures (msg_id, outcome) VALUES ($1, $2::jsonb) ON CONFLICT (msg_id) DO UPDATE SET outcome = excluded.outcome`,
            [failed.msgId, json(failed)]
          )
          yield* sql.unsafe(`SELECT pg_notify('rv_commit', $1)`, [String(knownHead)])
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

    recheck = made.recheck
    return Context.make(EventStore.EventStore, made.store).pipe(Context.add(EventTopic.EventTopic, EventTopic.EventTopic.of({ awaitAfter })))
  })
)

/**
 * An outcome as stored: an Accepted one names its events by position (they are in the log; no
 * need to store them twice), any other is stored whole.
 */
type StoredOutcome =
  | { readonly _tag: "Accepted"; readonly msgId: string; readonly component: string; readonly id: string; readonly from: number; readonly count: number }
  | Exclude<Outcome.Outcome, { readonly _tag: "Accepted" }>
  | typeof Outcome.Accepted.Type

const toOutcome = (stored: StoredOutcome, events: ReadonlyArray<Event.Envelope>): Outcome.Outcome =>
  stored._tag === "Accepted" && "from" in stored
    ? { _tag: "Accepted", msgId: stored.msgId, component: stored.component, id: stored.id, events }
    : stored as Outcome.Outcome

/** What `rv_commit` answers per request: committed (first position and version), duplicate, or a conflict. */
type Answer =
  | { readonly r: "C"; readonly p?: number; readonly n?: number }
  | { readonly r: "D"; readonly o: StoredOutcome }
  | { readonly r: "V"; readonly a: number }
  | { readonly r: "Q"; readonly p: number }

/** A request as `rv_commit` reads it (short keys: the batch travels as one JSON value). */
const encode = (request: EventStore.CommitRequest): unknown => {
  const { boundary, component, decided, id, meta, msgId } = request
  if (boundary._tag === "Stream") {
    return decided._tag === "Rejected"
      ? { t: "R", m: msgId, s: component, i: id, x: boundary.expectedVersion === "any" ? null : boundary.expectedVersion, o: EventStore.committedOutcome(request, 0, 0, "") }
      : { t: "A", m: msgId, s: component, i: id, x: boundary.expectedVersion === "any" ? null : boundary.expectedVersion, meta, e: decided.events.map((event) => ({ y: event.type, v: event.schemaVersion, d: event.data })) }
  }
  const condition = { q: boundary.condition?.failIfEventsMatch ?? null, a: boundary.condition?.after ?? null }
  return decided._tag === "Rejected"
    ? { t: "U", m: msgId, l: boundary.log, ...condition, o: EventStore.committedOutcome(request, 0, 0, "") }
    : {
      t: "T",
      m: msgId,
      l: boundary.log,
      c: component,
      i: id,
      ...condition,
      meta,
      e: decided.events.map((event) => ({ y: event.type, v: event.schemaVersion, d: event.data, g: event.tags ?? [], ...(event.meta === undefined ? {} : { meta: event.meta }) }))
    }
}

const eventCount = (request: EventStore.CommitRequest): number => request.decided._tag === "Events" ? request.decided.events.length : 0

const page = (rows: ReadonlyArray<EventRow & { head: unknown }>, after: number, limit: number): EventStore.ReadAllResult => {
  const head = rows.length === 0 ? after : num(rows[0]!.head)
  const events = rows.filter((row) => row.position !== null).map(toEnvelope)
  return { events, through: events.length === limit ? events[events.length - 1]!.position : Math.max(after, head) }
}
