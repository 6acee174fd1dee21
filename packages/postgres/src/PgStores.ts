/**
 * The platform's smaller stores on PostgreSQL: leases on background work, checkpoints and
 * read-model rows (written with their consumer's checkpoint in one transaction that checks the
 * consumer's lease), scheduled commands, TODO lists, dead letters and blobs with their
 * created-notifications.
 *
 * @since 0.1.0
 */
import { PgClient } from "@effect/sql-pg"
import { BlobStore, Checkpoints, DeadLetters, Errors, Leases, ReadModelStore, Scheduler, TodoStore } from "@reventless/core"
import { Effect, Layer, Option } from "effect"
import type { SqlError } from "effect/sql/SqlError"
import * as Signal from "./internal/signal.ts"
import { infra, json, num } from "./internal/sql.ts"

/** How long a waiter that heard nothing sleeps before it looks at the tables again. */
const poll = "250 millis"

/** Runs `attempt` until it finds something, waking early on a local `signal`. */
const until = <A, E, R>(signal: Signal.Signal, attempt: Effect.Effect<Option.Option<A>, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(attempt, (found) =>
    Option.isSome(found)
      ? Effect.succeed(found.value)
      : Effect.andThen(Effect.raceFirst(signal.next, Effect.sleep(poll)), until(signal, attempt)))

/**
 * @since 0.1.0
 * @category models
 */
export interface LeaseOptions {
  /**
   * Seconds a lease on background work lasts without renewal (default 6): how soon the work of a
   * process that died or hangs moves to a live one. Owners renew every quarter of it.
   */
  readonly ttlSeconds?: number | undefined
}

/**
 * Leases in `rv_leases`, owners in `rv_lease_owners`; times are the database's, so the processes'
 * clocks do not matter. Taking a lease bumps its epoch; a release only ends it (the row and its
 * epoch stay), so a later holder's epoch is always larger than any earlier one's.
 *
 * @since 0.1.0
 * @category layers
 */
export const leases = (options: LeaseOptions = {}): Layer.Layer<Leases.Leases, never, PgClient.PgClient> =>
  Layer.effect(
    Leases.Leases,
    Effect.map(Effect.service(PgClient.PgClient), (sql) => {
      const ttlSeconds = options.ttlSeconds ?? 6
      const leaseRows = (rows: ReadonlyArray<{ name: string; epoch: unknown }>, owner: string) =>
        rows.map((row): Leases.Lease => ({ name: row.name, owner, epoch: num(row.epoch) }))
      return Leases.Leases.of({
        ttlMillis: ttlSeconds * 1000,
        renew: (owner) =>
          infra("Leases", "renew")(sql.withTransaction(Effect.gen(function*() {
            yield* sql.unsafe(
              `INSERT INTO rv_lease_owners (owner, host, pid, worker, expires_at) VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
               ON CONFLICT (owner) DO UPDATE SET expires_at = excluded.expires_at`,
              [owner.id, owner.host, owner.pid, owner.worker, ttlSeconds]
            )
            // Rows are locked in name order, as acquire locks them, and one locked by a transaction
            // in flight (a rebuild's swap) is skipped this round rather than waited for.
            const held = yield* sql.unsafe<{ name: string; epoch: unknown }>(
              `WITH mine AS (SELECT name FROM rv_leases WHERE owner = $1 ORDER BY name COLLATE "C" FOR UPDATE SKIP LOCKED),
                    renewed AS (UPDATE rv_leases l SET expires_at = now() + make_interval(secs => $2) FROM mine WHERE l.name = mine.name)
               SELECT name, epoch FROM rv_leases WHERE owner = $1`,
              [owner.id, ttlSeconds]
            )
            const live = yield* sql.unsafe<{ n: unknown }>(`SELECT count(*) AS n FROM rv_lease_owners WHERE expires_at > now() AND worker`)
            // Owners gone for an hour are forgotten.
            yield* sql.unsafe(`DELETE FROM rv_lease_owners WHERE expires_at < now() - interval '1 hour'`)
            return { held: leaseRows(held, owner.id), owners: num(live[0]!.n) }
          }))),
        acquire: (owner, names, limit) =>
          limit <= 0 || names.length === 0 ? Effect.succeed([]) : infra("Leases", "acquire")(Effect.map(
            // Rows are taken in name order, so two owners taking at once never deadlock.
            sql.unsafe<{ name: string; epoch: unknown }>(
              `WITH wanted AS (
                 SELECT w.name FROM unnest($2::text[]) WITH ORDINALITY AS w(name, ord)
                 WHERE NOT EXISTS (SELECT 1 FROM rv_leases l WHERE l.name = w.name AND l.expires_at > now())
                 ORDER BY w.ord LIMIT $3
               )
               INSERT INTO rv_leases (name, owner, epoch, expires_at)
               SELECT name, $1, 1, now() + make_interval(secs => $4) FROM wanted ORDER BY name COLLATE "C"
               ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, epoch = rv_leases.epoch + 1, expires_at = excluded.expires_at
               WHERE rv_leases.expires_at <= now()
               RETURNING name, epoch`,
              [owner, names, limit, ttlSeconds]
            ),
            (rows) => leaseRows(rows, owner)
          )),
        release: (owner, names) => infra("Leases", "release")(releaseWhere(sql, owner, names)),
        leave: (owner) =>
          infra("Leases", "leave")(sql.withTransaction(Effect.gen(function*() {
            yield* releaseWhere(sql, owner, undefined)
            yield* sql.unsafe(`DELETE FROM rv_lease_owners WHERE owner = $1`, [owner])
          }))),
        seize: (owner, name) =>
          infra("Leases", "seize")(Effect.map(
            sql.unsafe<{ epoch: unknown }>(
              `INSERT INTO rv_leases (name, owner, epoch, expires_at) VALUES ($2, $1, 1, now() + make_interval(secs => $3))
               ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, epoch = rv_leases.epoch + 1, expires_at = excluded.expires_at
               RETURNING epoch`,
              [owner, name, ttlSeconds]
            ),
            (rows): Leases.Lease => ({ name, owner, epoch: num(rows[0]!.epoch) })
          )),
        holdings: infra("Leases", "holdings")(Effect.map(
          sql.unsafe<{ name: string; owner: string; epoch: unknown; host: string | null; pid: unknown; ms: unknown }>(
            `SELECT l.name, l.owner, l.epoch, o.host, o.pid, (extract(epoch FROM l.expires_at - now()) * 1000)::bigint AS ms
             FROM rv_leases l LEFT JOIN rv_lease_owners o ON o.owner = l.owner ORDER BY l.name COLLATE "C"`
          ),
          (rows) => rows.map((row) => ({ name: row.name, owner: row.owner, epoch: num(row.epoch), host: row.host ?? "", pid: num(row.pid ?? 0), expiresInMillis: num(row.ms) }))
        ))
      })
    })
  )

/**
 * Ends `owner`'s leases (all of them, or `names`): the owner is cleared so that its renewals no
 * longer extend them, the epoch stays. Rows are locked in name order, as acquire locks them.
 */
const releaseWhere = (sql: PgClient.PgClient, owner: string, names: ReadonlyArray<string> | undefined) =>
  Effect.asVoid(sql.unsafe(
    `WITH mine AS (SELECT name FROM rv_leases WHERE owner = $1 AND ($2::text[] IS NULL OR name = ANY($2::text[])) ORDER BY name COLLATE "C" FOR UPDATE)
     UPDATE rv_leases l SET owner = '', expires_at = now() FROM mine WHERE l.name = mine.name`,
    [owner, names === undefined ? null : [...names]]
  ))

/**
 * What a fenced write found before writing: whether the lease is still the writer's, and the
 * checkpoint's position now (locked until the transaction ends).
 */
const fence = (sql: PgClient.PgClient, lease: Leases.Lease) =>
  Effect.map(
    sql.unsafe<{ held: boolean; position: unknown }>(
      `SELECT EXISTS (SELECT 1 FROM rv_leases WHERE name = $1 AND owner = $2 AND epoch = $3 FOR SHARE) AS held,
              (SELECT position FROM rv_checkpoints WHERE consumer = $1 FOR UPDATE) AS position`,
      [lease.name, lease.owner, lease.epoch]
    ),
    (rows) => ({ held: rows[0]!.held === true, position: rows[0]!.position === null ? undefined : num(rows[0]!.position) })
  )

/** Sets a consumer's checkpoint (its lease and direction checked by the caller, in the same transaction). */
const moveCheckpoint = (sql: PgClient.PgClient, consumer: string, position: number) =>
  sql.unsafe(
    `INSERT INTO rv_checkpoints (consumer, position) VALUES ($1, $2) ON CONFLICT (consumer) DO UPDATE SET position = excluded.position`,
    [consumer, position]
  )

/**
 * Runs `write` and moves the checkpoint of `lease.name` to `position` in one transaction, only
 * while the lease is the writer's (the lease row is share-locked, so a takeover waits for this
 * transaction and the new owner reads its checkpoint after it) and only forward.
 */
const fenced = <R>(sql: PgClient.PgClient, service: string, lease: Leases.Lease, position: number, write: Effect.Effect<unknown, SqlError, R>) =>
  Effect.flatMap(
    infra(service, "commit")(sql.withTransaction(Effect.gen(function*() {
      const found = yield* fence(sql, lease)
      if (!found.held) return "lost" as const
      if (found.position !== undefined && found.position > position) return "backward" as const
      yield* write
      yield* moveCheckpoint(sql, lease.name, position)
      return "moved" as const
    }))),
    (result): Effect.Effect<void, Errors.InfrastructureError | Leases.LeaseLost> =>
      result === "moved" ? Effect.void : Effect.fail(result === "lost" ? Leases.lost(lease) : Checkpoints.backward(lease.name, position))
  )

/**
 * @since 0.1.0
 * @category layers
 */
export const checkpoints: Layer.Layer<Checkpoints.Checkpoints, never, PgClient.PgClient> = Layer.effect(
  Checkpoints.Checkpoints,
  Effect.map(Effect.service(PgClient.PgClient), (sql) =>
    Checkpoints.Checkpoints.of({
      load: (consumer) =>
        infra("Checkpoints", "load")(Effect.map(
          sql.unsafe<{ position: unknown }>(`SELECT position FROM rv_checkpoints WHERE consumer = $1`, [consumer]),
          (rows) => rows.length === 0 ? Option.none() : Option.some(num(rows[0]!.position))
        )),
      save: (lease, position) => fenced(sql, "Checkpoints", lease, position, Effect.void),
      all: infra("Checkpoints", "all")(Effect.map(
        sql.unsafe<{ consumer: string; position: unknown }>(`SELECT consumer, position FROM rv_checkpoints`),
        (rows) => new Map(rows.map((row) => [row.consumer, num(row.position)]))
      ))
    }))
)

/**
 * Rows as `jsonb`, ordered by id in byte order (as the memory store sorts them); `where` is a
 * containment test, served by the primary key's prefix.
 *
 * @since 0.1.0
 * @category layers
 */
export const readModels: Layer.Layer<ReadModelStore.ReadModelStore, never, PgClient.PgClient> = Layer.effect(
  ReadModelStore.ReadModelStore,
  Effect.map(Effect.service(PgClient.PgClient), (sql) =>
    ReadModelStore.ReadModelStore.of({
      get: (readModel, id) =>
        infra("ReadModelStore", "get")(Effect.map(
          sql.unsafe<{ row: unknown }>(`SELECT row FROM rv_rows WHERE read_model = $1 AND id = $2`, [readModel, id]),
          (rows) => rows.length === 0 ? Option.none() : Option.some(rows[0]!.row)
        )),
      getMany: (readModel, ids) =>
        infra("ReadModelStore", "getMany")(Effect.map(
          sql.unsafe<{ id: string; row: unknown }>(`SELECT id, row FROM rv_rows WHERE read_model = $1 AND id = ANY($2::text[])`, [readModel, ids]),
          (rows) => new Map(rows.map((row) => [row.id, row.row]))
        )),
      list: (readModel, options) => {
        const limit = ReadModelStore.pageSize(options)
        return infra("ReadModelStore", "list")(Effect.map(
          sql.unsafe<{ id: string; row: unknown }>(
            `SELECT id, row FROM rv_rows WHERE read_model = $1 AND ($2::text IS NULL OR id COLLATE "C" > $2) AND row @> $3::jsonb
             ORDER BY id COLLATE "C" LIMIT $4`,
            [readModel, options.after ?? null, json(options.where ?? {}), limit + 1]
          ),
          (rows) => {
            const items = rows.slice(0, limit).map((row) => ({ id: row.id, row: row.row }))
            return { items, next: rows.length > limit ? Option.some(items[items.length - 1]!.id) : Option.none() }
          }
        ))
      },
      swap: ({ from, live, position, readModel, rebuild }) =>
        Effect.flatMap(
          infra("ReadModelStore", "swap")(sql.withTransaction(Effect.gen(function*() {
            const rebuilt = yield* fence(sql, rebuild)
            if (!rebuilt.held) return "lost rebuild" as const
            const running = yield* fence(sql, live)
            if (!running.held) return "lost live" as const
            if (running.position !== undefined && running.position > position) return "backward" as const
            yield* sql.unsafe(`DELETE FROM rv_rows WHERE read_model = $1`, [readModel])
            yield* sql.unsafe(`UPDATE rv_rows SET read_model = $1 WHERE read_model = $2`, [readModel, from])
            yield* moveCheckpoint(sql, live.name, position)
            yield* sql.unsafe(`DELETE FROM rv_checkpoints WHERE consumer = $1`, [rebuild.name])
            yield* releaseWhere(sql, live.owner, [live.name])
            return "swapped" as const
          }))),
          (result): Effect.Effect<void, Errors.InfrastructureError | Leases.LeaseLost> =>
            result === "swapped"
              ? Effect.void
              : Effect.fail(result === "backward" ? Checkpoints.backward(live.name, position) : Leases.lost(result === "lost live" ? live : rebuild))
        ),
      commit: ({ checkpoint, readModel, writes }) =>
        fenced(sql, "ReadModelStore", checkpoint.lease, checkpoint.position, Effect.gen(function*() {
          // The last write of an id wins, as it would applied in order.
          const last = new Map(writes.map((write) => [write.id, write]))
          const puts = [...last.values()].filter((write) => write._tag === "Put")
          const deletes = [...last.values()].filter((write) => write._tag === "Delete").map((write) => write.id)
          if (deletes.length > 0) yield* sql.unsafe(`DELETE FROM rv_rows WHERE read_model = $1 AND id = ANY($2::text[])`, [readModel, deletes])
          if (puts.length > 0) {
            yield* sql.unsafe(
              `INSERT INTO rv_rows (read_model, id, row) SELECT $1, id, row FROM unnest($2::text[], $3::jsonb[]) AS r(id, row)
               ON CONFLICT (read_model, id) DO UPDATE SET row = excluded.row`,
              [readModel, puts.map((write) => write.id), puts.map((write) => json(write._tag === "Put" ? write.row : null))]
            )
          }
        }))
    }))
)

/**
 * @since 0.1.0
 * @category layers
 */
export const scheduler: Layer.Layer<Scheduler.Scheduler, never, PgClient.PgClient> = Layer.effect(
  Scheduler.Scheduler,
  Effect.map(Effect.service(PgClient.PgClient), (sql) => {
    const entries = (rows: ReadonlyArray<{ entry: Scheduler.ScheduledCommand }>) => rows.map((row) => row.entry)
    return Scheduler.Scheduler.of({
      schedule: (entry) =>
        infra("Scheduler", "schedule")(Effect.asVoid(sql.unsafe(
          `INSERT INTO rv_schedule (key, due_at, entry) VALUES ($1, $2, $3::jsonb) ON CONFLICT (key) DO UPDATE SET due_at = excluded.due_at, entry = excluded.entry`,
          [entry.key, Math.round(entry.dueAt), json(entry)]
        ))),
      cancel: (key) => infra("Scheduler", "cancel")(Effect.asVoid(sql.unsafe(`DELETE FROM rv_schedule WHERE key = $1`, [key]))),
      due: (now, limit) =>
        infra("Scheduler", "due")(Effect.map(
          sql.unsafe<{ entry: Scheduler.ScheduledCommand }>(`SELECT entry FROM rv_schedule WHERE due_at <= $1 ORDER BY due_at, key COLLATE "C" LIMIT $2`, [Math.floor(now), limit]),
          entries
        )),
      delivered: (entries) =>
        infra("Scheduler", "delivered")(Effect.asVoid(sql.unsafe(
          `DELETE FROM rv_schedule s USING unnest($1::text[], $2::bigint[], $3::text[]) AS d(key, due_at, msg_id)
           WHERE s.key = d.key AND s.due_at = d.due_at AND s.entry->'message'->>'msgId' = d.msg_id`,
          [entries.map((entry) => entry.key), entries.map((entry) => Math.round(entry.dueAt)), entries.map((entry) => entry.message.msgId)]
        ))),
      list: infra("Scheduler", "list")(Effect.map(sql.unsafe<{ entry: Scheduler.ScheduledCommand }>(`SELECT entry FROM rv_schedule ORDER BY due_at, key COLLATE "C"`), entries))
    })
  })
)

/**
 * @since 0.1.0
 * @category layers
 */
export const todos: Layer.Layer<TodoStore.TodoStore, never, PgClient.PgClient> = Layer.effect(
  TodoStore.TodoStore,
  Effect.map(Effect.service(PgClient.PgClient), (sql) =>
    TodoStore.TodoStore.of({
      add: (list, row) =>
        infra("TodoStore", "add")(Effect.map(
          sql.unsafe(`INSERT INTO rv_todos (list, id, status, row) VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT (list, id) DO NOTHING RETURNING id`, [
            list,
            row.id,
            row.status,
            json(row)
          ]),
          (rows) => rows.length > 0
        )),
      update: (list, id, change, when) => {
        const patch = {
          ...(change.status === undefined ? {} : { status: change.status }),
          ...(change.attempts === undefined ? {} : { attempts: change.attempts }),
          ...(change.lastError === undefined ? {} : { lastError: change.lastError }),
          ...(change.answer === undefined ? {} : { answer: change.answer })
        }
        return infra("TodoStore", "update")(Effect.map(
          sql.unsafe(
            `UPDATE rv_todos SET row = row || $3::jsonb, status = coalesce($4, status)
             WHERE list = $1 AND id = $2 AND ($5::text IS NULL OR status = $5) RETURNING id`,
            [list, id, json(patch), change.status ?? null, when ?? null]
          ),
          (rows) => rows.length > 0
        ))
      },
      get: (list, id) =>
        infra("TodoStore", "get")(Effect.map(
          sql.unsafe<{ row: TodoStore.Row }>(`SELECT row FROM rv_todos WHERE list = $1 AND id = $2`, [list, id]),
          (rows) => rows.length === 0 ? Option.none() : Option.some(rows[0]!.row)
        )),
      pending: (list) =>
        infra("TodoStore", "pending")(Effect.map(
          sql.unsafe<{ row: TodoStore.Row }>(`SELECT row FROM rv_todos WHERE list = $1 AND status = 'Pending' ORDER BY seq`, [list]),
          (rows) => rows.map((row) => row.row)
        ))
    }))
)

/**
 * Letters and operators' decisions in tables, so a decision taken in one process reaches the
 * consumer waiting in another.
 *
 * @since 0.1.0
 * @category layers
 */
export const deadLetters: Layer.Layer<DeadLetters.DeadLetters, never, PgClient.PgClient> = Layer.effect(
  DeadLetters.DeadLetters,
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const decided = Signal.make()
    return DeadLetters.DeadLetters.of({
      park: (letter) =>
        infra("DeadLetters", "park")(sql.withTransaction(Effect.gen(function*() {
          // Parked again after a replay: a new decision is wanted. After a skip: the skip stands
          // (the consumer that meets the event again moves past it; the letter stays resolved).
          yield* sql.unsafe(`DELETE FROM rv_resolutions WHERE id = $1 AND resolution <> 'Skip'`, [letter.id])
          yield* sql.unsafe(
            `INSERT INTO rv_dead_letters (id, letter) SELECT $1, $2::jsonb WHERE NOT EXISTS (SELECT 1 FROM rv_resolutions WHERE id = $1)
             ON CONFLICT (id) DO UPDATE SET letter = excluded.letter`,
            [letter.id, json(letter)]
          )
        }))),
      list: infra("DeadLetters", "list")(Effect.map(
        sql.unsafe<{ letter: DeadLetters.DeadLetter }>(`SELECT letter FROM rv_dead_letters ORDER BY seq`),
        (rows) => rows.map((row) => row.letter)
      )),
      resolve: (id, resolution) =>
        Effect.flatMap(
          infra("DeadLetters", "resolve")(sql.withTransaction(Effect.gen(function*() {
            const removed = yield* sql.unsafe<{ letter: DeadLetters.DeadLetter }>(`DELETE FROM rv_dead_letters WHERE id = $1 RETURNING letter`, [id])
            if (removed.length === 0) return Option.none<DeadLetters.DeadLetter>()
            yield* sql.unsafe(
              `INSERT INTO rv_resolutions (id, resolution) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET resolution = excluded.resolution`,
              [id, resolution]
            )
            return Option.some(removed[0]!.letter)
          }))),
          (letter) => {
            decided.bump()
            return Option.isSome(letter) ? Effect.succeed(letter.value) : Effect.fail(new DeadLetters.DeadLetterNotFound({ id }))
          }
        ),
      awaitResolution: (id) =>
        until(
          decided,
          infra("DeadLetters", "awaitResolution")(Effect.map(
            sql.unsafe<{ resolution: DeadLetters.Resolution }>(`SELECT resolution FROM rv_resolutions WHERE id = $1`, [id]),
            (rows) => rows.length === 0 ? Option.none() : Option.some(rows[0]!.resolution)
          ))
        )
    })
  })
)

/** How long a received notification stays taken before another receiver may have it. */
const notificationTimeout = "5 minutes"

/**
 * Blobs as `bytea`; each put queues a created-notification that one receiver takes at a time and
 * acknowledges; one not acknowledged in time is delivered again (at least once).
 *
 * @since 0.1.0
 * @category layers
 */
export const blobs: Layer.Layer<BlobStore.BlobStore, never, PgClient.PgClient> = Layer.effect(
  BlobStore.BlobStore,
  Effect.map(Effect.service(PgClient.PgClient), (sql) => {
    const created = Signal.make()
    const notify = (notification: Omit<BlobStore.BlobCreated, "sequencer">) =>
      Effect.map(
        sql.unsafe<{ seq: unknown }>(
          `WITH n AS (SELECT nextval(pg_get_serial_sequence('rv_blob_notifications', 'seq')) AS seq)
           INSERT INTO rv_blob_notifications (seq, bucket, notification)
           SELECT n.seq, $1, $2::jsonb || jsonb_build_object('sequencer', lpad(n.seq::text, 16, '0')) FROM n RETURNING seq`,
          [notification.bucket, json(notification)]
        ),
        (rows): BlobStore.BlobCreated => {
          created.bump()
          return { ...notification, sequencer: String(num(rows[0]!.seq)).padStart(16, "0") }
        }
      )
    return BlobStore.BlobStore.of({
      put: (bucket, key, body) =>
        infra("BlobStore", "put")(sql.withTransaction(Effect.gen(function*() {
          const etag = BlobStore.contentHash(body)
          yield* sql.unsafe(
            `INSERT INTO rv_blobs (bucket, key, body, etag) VALUES ($1, $2, $3, $4) ON CONFLICT (bucket, key) DO UPDATE SET body = excluded.body, etag = excluded.etag`,
            [bucket, key, body, etag]
          )
          return yield* notify({ bucket, key, eventName: "ObjectCreated:Put", size: body.byteLength, etag })
        }))),
      get: (bucket, key) =>
        Effect.flatMap(
          infra("BlobStore", "get")(sql.unsafe<{ body: Uint8Array }>(`SELECT body FROM rv_blobs WHERE bucket = $1 AND key = $2`, [bucket, key])),
          (rows) => rows.length === 0 ? Effect.fail(new BlobStore.BlobNotFound({ bucket, key })) : Effect.succeed(new Uint8Array(rows[0]!.body))
        ),
      receive: (bucket) =>
        until(
          created,
          infra("BlobStore", "receive")(Effect.map(
            sql.unsafe<{ notification: BlobStore.BlobCreated }>(
              `UPDATE rv_blob_notifications SET taken_until = now() + interval '${notificationTimeout}'
               WHERE seq = (SELECT seq FROM rv_blob_notifications WHERE bucket = $1 AND (taken_until IS NULL OR taken_until < now())
                            ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
               RETURNING notification`,
              [bucket]
            ),
            (rows) => rows.length === 0 ? Option.none() : Option.some(rows[0]!.notification)
          ))
        ),
      ack: (notification) =>
        infra("BlobStore", "ack")(Effect.asVoid(sql.unsafe(`DELETE FROM rv_blob_notifications WHERE notification->>'sequencer' = $1`, [notification.sequencer]))),
      redeliver: (notification) => infra("BlobStore", "redeliver")(Effect.asVoid(notify(notification))),
      pending: infra("BlobStore", "pending")(Effect.map(sql.unsafe<{ n: unknown }>(`SELECT count(*) AS n FROM rv_blob_notifications`), (rows) => num(rows[0]!.n)))
    })
  })
)
