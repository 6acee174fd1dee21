/**
 * The platform's tables, as numbered migrations. `migrate` applies the missing ones in order, in
 * one transaction, under an advisory lock so that processes starting together apply each once;
 * running it again changes nothing.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import type { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"

/**
 * @since 0.1.0
 * @category models
 */
export interface Migration {
  readonly id: number
  readonly name: string
  readonly statements: ReadonlyArray<string>
}

/**
 * Every migration, oldest first. Never edit one that has shipped: add the next.
 *
 * @since 0.1.0
 * @category migrations
 */
export const all: ReadonlyArray<Migration> = [
  {
    id: 1,
    name: "the platform",
    statements: [
      // The log: aggregate streams and DCB logs in one global order. `position` is assigned under
      // the writer lock, so it follows commit order (see PgEventStore).
      `CREATE TABLE rv_events (
        position bigint PRIMARY KEY,
        id text NOT NULL,
        source text NOT NULL,
        stream_id text NOT NULL,
        version integer NOT NULL,
        type text NOT NULL,
        schema_version integer NOT NULL,
        data jsonb NOT NULL,
        meta jsonb NOT NULL,
        tags text[],
        recorded_at text NOT NULL,
        UNIQUE (source, stream_id, version)
      )`,
      `CREATE INDEX rv_events_source ON rv_events (source, position)`,
      `CREATE INDEX rv_events_tags ON rv_events USING gin (tags) WHERE tags IS NOT NULL`,
      `CREATE TABLE rv_outcomes (msg_id text PRIMARY KEY, outcome jsonb NOT NULL)`,
      `CREATE TABLE rv_failures (msg_id text PRIMARY KEY, outcome jsonb NOT NULL)`,
      `CREATE TABLE rv_snapshots (source text NOT NULL, stream_id text NOT NULL, version integer NOT NULL, state jsonb NOT NULL, PRIMARY KEY (source, stream_id))`,
      `CREATE TABLE rv_checkpoints (consumer text PRIMARY KEY, position bigint NOT NULL)`,
      `CREATE TABLE rv_rows (read_model text NOT NULL, id text NOT NULL, row jsonb NOT NULL, PRIMARY KEY (read_model, id))`,
      // Commands wait here until a worker that holds their shard's lease handles them.
      `CREATE TABLE rv_commands (seq bigserial PRIMARY KEY, shard integer NOT NULL, message jsonb NOT NULL)`,
      `CREATE INDEX rv_commands_shard ON rv_commands (shard, seq)`,
      `CREATE TABLE rv_shard_leases (shard integer PRIMARY KEY, owner text NOT NULL, expires_at timestamptz NOT NULL)`,
      `CREATE TABLE rv_workers (owner text PRIMARY KEY, expires_at timestamptz NOT NULL)`,
      `CREATE TABLE rv_schedule (key text PRIMARY KEY, due_at bigint NOT NULL, entry jsonb NOT NULL)`,
      `CREATE INDEX rv_schedule_due ON rv_schedule (due_at)`,
      `CREATE TABLE rv_blobs (bucket text NOT NULL, key text NOT NULL, body bytea NOT NULL, etag text NOT NULL, PRIMARY KEY (bucket, key))`,
      `CREATE TABLE rv_blob_notifications (seq bigserial PRIMARY KEY, bucket text NOT NULL, notification jsonb NOT NULL, taken_until timestamptz)`,
      `CREATE TABLE rv_dead_letters (id text PRIMARY KEY, seq bigserial, letter jsonb NOT NULL)`,
      `CREATE TABLE rv_resolutions (id text PRIMARY KEY, resolution text NOT NULL)`,
      `CREATE TABLE rv_todos (list text NOT NULL, id text NOT NULL, seq bigserial, status text NOT NULL, row jsonb NOT NULL, PRIMARY KEY (list, id))`,
      `CREATE INDEX rv_todos_pending ON rv_todos (list, seq) WHERE status = 'Pending'`
    ]
  },
  {
    id: 2,
    name: "commit in one round trip",
    statements: [
      // The first event of a DCB log after a position that matches any item of a query (types
      // AND tags): one indexed query per item, none for an absent condition.
      `CREATE FUNCTION rv_condition_hit(log_name text, query jsonb, after_position jsonb) RETURNS bigint LANGUAGE plpgsql STABLE AS $fn$
      DECLARE
        item jsonb;
        want_types text[];
        want_tags text[];
        since bigint := coalesce((after_position #>> '{}')::bigint, 0);
        hit bigint;
        best bigint;
      BEGIN
        IF query IS NULL OR jsonb_typeof(query) <> 'array' THEN RETURN NULL; END IF;
        FOR item IN SELECT value FROM jsonb_array_elements(query) LOOP
          want_types := CASE WHEN jsonb_typeof(item->'types') = 'array' AND jsonb_array_length(item->'types') > 0
            THEN ARRAY(SELECT jsonb_array_elements_text(item->'types')) END;
          want_tags := CASE WHEN jsonb_typeof(item->'tags') = 'array' AND jsonb_array_length(item->'tags') > 0
            THEN ARRAY(SELECT jsonb_array_elements_text(item->'tags')) END;
          IF want_types IS NULL AND want_tags IS NULL THEN
            SELECT min(position) INTO hit FROM rv_events WHERE source = log_name AND position > since;
          ELSIF want_tags IS NULL THEN
            SELECT min(position) INTO hit FROM rv_events WHERE source = log_name AND position > since AND type = ANY(want_types);
          ELSIF want_types IS NULL THEN
            SELECT min(position) INTO hit FROM rv_events WHERE source = log_name AND position > since AND tags @> want_tags;
          ELSE
            SELECT min(position) INTO hit FROM rv_events WHERE source = log_name AND position > since AND type = ANY(want_types) AND tags @> want_tags;
          END IF;
          IF hit IS NOT NULL AND (best IS NULL OR hit < best) THEN best := hit; END IF;
        END LOOP;
        RETURN best;
      END
      $fn$`,
      // A batch of decisions (see PgEventStore.encode): under the log's writer lock, each is a
      // duplicate of a stored outcome, a conflict, or committed with its events and outcome.
      `CREATE FUNCTION rv_commit(requests jsonb, recorded_at text) RETURNS jsonb LANGUAGE plpgsql AS $fn$
      DECLARE
        head bigint;
        req jsonb;
        kind text;
        results jsonb := '[]'::jsonb;
        previous jsonb;
        actual integer;
        hit bigint;
        n integer;
        outcome jsonb;
        committed text[] := '{}';
      BEGIN
        PERFORM pg_advisory_xact_lock(7253541);
        SELECT coalesce(max(position), 0) INTO head FROM rv_events;
        FOR req IN SELECT value FROM jsonb_array_elements(requests) LOOP
          kind := req->>'t';
          SELECT o.outcome INTO previous FROM rv_outcomes o WHERE o.msg_id = req->>'m';
          IF FOUND THEN
            results := results || jsonb_build_array(jsonb_build_object('r', 'D', 'o', previous));
            CONTINUE;
          END IF;
          IF kind IN ('A', 'R') THEN
            SELECT coalesce(max(version), 0) INTO actual FROM rv_events WHERE source = req->>'s' AND stream_id = req->>'i';
            IF jsonb_typeof(req->'x') = 'number' AND actual <> (req->>'x')::integer THEN
              results := results || jsonb_build_array(jsonb_build_object('r', 'V', 'a', actual));
              CONTINUE;
            END IF;
          ELSE
            hit := rv_condition_hit(req->>'l', req->'q', req->'a');
            IF hit IS NOT NULL THEN
              results := results || jsonb_build_array(jsonb_build_object('r', 'Q', 'p', hit));
              CONTINUE;
            END IF;
          END IF;
          IF kind = 'A' THEN
            n := jsonb_array_length(req->'e');
            INSERT INTO rv_events (position, id, source, stream_id, version, type, schema_version, data, meta, tags, recorded_at)
            SELECT head + e.ord, (req->>'s') || '/' || (req->>'i') || '/' || (actual + e.ord), req->>'s', req->>'i', actual + e.ord,
                   e.ev->>'y', (e.ev->>'v')::integer, e.ev->'d', req->'meta', NULL, recorded_at
            FROM jsonb_array_elements(req->'e') WITH ORDINALITY AS e(ev, ord);
            outcome := jsonb_build_object('_tag', 'Accepted', 'msgId', req->>'m', 'component', req->>'s', 'id', req->>'i', 'from', head + 1, 'count', n);
            results := results || jsonb_build_array(jsonb_build_object('r', 'C', 'p', head + 1, 'n', actual + 1));
            head := head + n;
          ELSIF kind = 'T' THEN
            n := jsonb_array_length(req->'e');
            INSERT INTO rv_events (position, id, source, stream_id, version, type, schema_version, data, meta, tags, recorded_at)
            SELECT head + e.ord, (req->>'l') || '/' || (req->>'i') || '/' || (head + e.ord), req->>'l', req->>'i', head + e.ord,
                   e.ev->>'y', (e.ev->>'v')::integer, e.ev->'d', coalesce(e.ev->'meta', req->'meta'),
                   ARRAY(SELECT jsonb_array_elements_text(e.ev->'g')), recorded_at
            FROM jsonb_array_elements(req->'e') WITH ORDINALITY AS e(ev, ord);
            outcome := jsonb_build_object('_tag', 'Accepted', 'msgId', req->>'m', 'component', req->>'c', 'id', req->>'i', 'from', head + 1, 'count', n);
            results := results || jsonb_build_array(jsonb_build_object('r', 'C', 'p', head + 1, 'n', head + 1));
            head := head + n;
          ELSE
            outcome := req->'o';
            results := results || jsonb_build_array(jsonb_build_object('r', 'C'));
          END IF;
          INSERT INTO rv_outcomes (msg_id, outcome) VALUES (req->>'m', outcome);
          committed := committed || (req->>'m');
        END LOOP;
        IF cardinality(committed) > 0 THEN
          DELETE FROM rv_failures WHERE msg_id = ANY(committed);
          PERFORM pg_notify('rv_commit', head::text);
        END IF;
        RETURN results;
      END
      $fn$`
    ]
  },
  {
    id: 3,
    name: "leases on background work",
    statements: [
      // One row per piece of background work (a consumer, a sweep, a bucket, the scheduler): who
      // runs it, until when, and the epoch of that acquisition, which fences checkpoint writes.
      `CREATE TABLE rv_leases (name text PRIMARY KEY, owner text NOT NULL, epoch bigint NOT NULL, expires_at timestamptz NOT NULL)`,
      `CREATE INDEX rv_leases_owner ON rv_leases (owner)`,
      // The runtimes taking leases, alive while they renew: work is shared among the live ones.
      // Only workers share the work out; a rebuild holds its own lease without taking a share.
      `CREATE TABLE rv_lease_owners (owner text PRIMARY KEY, host text NOT NULL, pid integer NOT NULL, worker boolean NOT NULL, started_at timestamptz NOT NULL DEFAULT now(), expires_at timestamptz NOT NULL)`,
      // Where each command worker runs, for status.
      `ALTER TABLE rv_workers ADD COLUMN host text, ADD COLUMN pid integer`
    ]
  }
]

/** An arbitrary, fixed key: migrations of one database run one process at a time. */
const migrationLock = 7_253_540

/**
 * Applies the migrations the database lacks; returns the ids applied now.
 *
 * @since 0.1.0
 * @category migrations
 */
export const migrate = (sql: SqlClient, migrations: ReadonlyArray<Migration> = all): Effect.Effect<ReadonlyArray<number>, SqlError> =>
  sql.withTransaction(Effect.gen(function*() {
    yield* sql.unsafe(`SELECT pg_advisory_xact_lock(${migrationLock})`)
    yield* sql.unsafe(`CREATE TABLE IF NOT EXISTS rv_migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
    const done = new Set((yield* sql.unsafe<{ id: number }>(`SELECT id FROM rv_migrations`)).map((row) => Number(row.id)))
    const applied: Array<number> = []
    for (const migration of migrations) {
      if (done.has(migration.id)) continue
      for (const statement of migration.statements) yield* sql.unsafe(statement)
      yield* sql.unsafe(`INSERT INTO rv_migrations (id, name) VALUES ($1, $2)`, [migration.id, migration.name])
      applied.push(migration.id)
    }
    return applied
  }))
