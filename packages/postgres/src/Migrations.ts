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
