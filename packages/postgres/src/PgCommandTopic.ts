/**
 * Commands on PostgreSQL: a queue table split into shards by partition key. A worker process
 * handles a shard only while it holds the shard's lease, so one partition's commands run one at a
 * time, in order, across every process; leases are renewed while the worker lives and taken over
 * by another once they expire (the visibility timeout of a crashed worker). Live workers share the
 * shards evenly. A batch is deleted after it was handled; one handled by a worker that died before
 * deleting it runs again elsewhere, where the EventStore's msgId dedup makes it a no-op.
 *
 * @since 0.1.0
 */
import { PgClient } from "@effect/sql-pg"
import { CommandTopic, Faults, type Message } from "@reventless/core"
import { Effect, Layer, Queue, Schedule, Semaphore } from "effect"
import * as Signal from "./internal/signal.ts"
import { infra, json, num } from "./internal/sql.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Shards of the queue (fixed for a database; default 64). */
  readonly shards?: number | undefined
  /** Seconds a lease lasts without renewal (default 10): how soon a dead worker's shards move. */
  readonly leaseSeconds?: number | undefined
  /** Messages fetched per look at the queue (default 512). */
  readonly fetch?: number | undefined
}

/** How long an idle dispatcher waits before it looks at the queue again without a wake-up. */
const idlePoll = "200 millis"

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<CommandTopic.CommandTopic, never, PgClient.PgClient> =>
  Layer.effect(
    CommandTopic.CommandTopic,
    Effect.gen(function*() {
      const sql = yield* PgClient.PgClient
      const faults = yield* Faults.Faults
      const shards = options.shards ?? 64
      const leaseSeconds = options.leaseSeconds ?? 10
      const fetch = options.fetch ?? 512
      const published = Signal.make()

      const publish = (messages: ReadonlyArray<Message.CommandMessage>) =>
        Effect.suspend(() => {
          if (messages.length === 0) return Effect.void
          const rows = faults.duplicateCommands ? messages.flatMap((message) => [message, message]) : messages
          return infra("CommandTopic", "publish")(Effect.gen(function*() {
            yield* sql.unsafe(
              `INSERT INTO rv_commands (shard, message) SELECT * FROM unnest($1::int[], $2::jsonb[])`,
              [rows.map((message) => CommandTopic.hashKey(message) % shards), rows.map(json)]
            )
            yield* sql.unsafe(`SELECT pg_notify('rv_commands', '')`)
          })).pipe(Effect.tap(() => Effect.sync(published.bump)))
        })

      const consume = ({ concurrency, handle, settled }: CommandTopic.ConsumeOptions) =>
        Effect.gen(function*() {
          const owner = crypto.randomUUID()
          let owned = new Set<number>()
          const busy = new Set<number>()
          const permits = Semaphore.makeUnsafe(Math.max(1, concurrency))
          const wake = Signal.make()

          /** Renews this worker's leases, gives up its surplus, and takes free or expired shards up to its share. */
          const balance = infra("CommandTopic", "lease")(Effect.gen(function*() {
            yield* sql.unsafe(
              `INSERT INTO rv_workers (owner, expires_at) VALUES ($1, now() + make_interval(secs => $2))
               ON CONFLICT (owner) DO UPDATE SET expires_at = excluded.expires_at`,
              [owner, leaseSeconds]
            )
            const live = num((yield* sql.unsafe<{ n: unknown }>(`SELECT count(*) AS n FROM rv_workers WHERE expires_at > now()`))[0]!.n)
            const share = Math.ceil(shards / Math.max(1, live))
            const mine = (yield* sql.unsafe<{ shard: unknown }>(
              `UPDATE rv_shard_leases SET expires_at = now() + make_interval(secs => $2) WHERE owner = $1 RETURNING shard`,
              [owner, leaseSeconds]
            )).map((row) => num(row.shard)).sort((a, b) => a - b)
            const surplus = mine.slice(share).filter((shard) => !busy.has(shard))
            if (surplus.length > 0) yield* sql.unsafe(`DELETE FROM rv_shard_leases WHERE owner = $1 AND shard = ANY($2::int[])`, [owner, surplus])
            const kept = mine.filter((shard) => !surplus.includes(shard))
            const taken = share > kept.length
              ? (yield* sql.unsafe<{ shard: unknown }>(
                `WITH free AS (
                   SELECT s AS shard FROM generate_series(0, $3 - 1) AS s
                   WHERE NOT EXISTS (SELECT 1 FROM rv_shard_leases l WHERE l.shard = s AND (l.expires_at > now() OR l.owner = $1))
                   ORDER BY random() LIMIT $4
                 )
                 INSERT INTO rv_shard_leases (shard, owner, expires_at) SELECT shard, $1, now() + make_interval(secs => $2) FROM free
                 ON CONFLICT (shard) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at WHERE rv_shard_leases.expires_at <= now()
                 RETURNING shard`,
                [owner, leaseSeconds, shards, share - kept.length]
              )).map((row) => num(row.shard))
              : []
            owned = new Set([...kept, ...taken])
            if (taken.length > 0) wake.bump()
          }))

          /** Handles one shard's batch, then removes it from the queue. */
          const work = (shard: number, batch: ReadonlyArray<{ readonly seq: number; readonly message: Message.CommandMessage }>) =>
            permits.withPermit(Effect.gen(function*() {
              if (faults.commandDelayMillis > 0) yield* Effect.sleep(faults.commandDelayMillis)
              yield* handle(batch.map((row) => row.message))
              yield* Effect.retry(
                infra("CommandTopic", "ack")(sql.unsafe(`DELETE FROM rv_commands WHERE seq = ANY($1::bigint[])`, [batch.map((row) => row.seq)])),
                Schedule.spaced("200 millis")
              )
            })).pipe(
              Effect.ensuring(Effect.sync(() => {
                busy.delete(shard)
                settled?.()
                wake.bump()
              }))
            )

          /** Looks at the queue for owned shards that are not busy, and starts a batch per shard. */
          const dispatch = Effect.gen(function*() {
            const free = [...owned].filter((shard) => !busy.has(shard))
            if (free.length === 0) return false
            const rows = yield* infra("CommandTopic", "fetch")(sql.unsafe<{ seq: unknown; shard: unknown; message: Message.CommandMessage }>(
              `SELECT seq, shard, message FROM rv_commands WHERE shard = ANY($1::int[]) ORDER BY seq LIMIT $2`,
              [free, fetch]
            ))
            const byShard = new Map<number, Array<{ seq: number; message: Message.CommandMessage }>>()
            for (const row of rows) {
              const shard = num(row.shard)
              let batch = byShard.get(shard)
              if (batch === undefined) byShard.set(shard, batch = [])
              batch.push({ seq: num(row.seq), message: row.message })
            }
            for (const [shard, batch] of byShard) {
              busy.add(shard)
              yield* Effect.forkScoped(work(shard, batch))
            }
            return byShard.size > 0
          })

          const dispatcher = Effect.forever(
            Effect.flatMap(Effect.orElseSucceed(dispatch, () => false), (started) =>
              started ? Effect.yieldNow : Effect.raceFirst(Effect.raceFirst(wake.next, published.next), Effect.sleep(idlePoll)))
          )
          const listener = Effect.retry(
            Effect.scoped(Effect.gen(function*() {
              const notifications = yield* sql.listen("rv_commands")
              while (true) {
                yield* Queue.take(notifications)
                wake.bump()
              }
            })),
            Schedule.spaced("500 millis")
          )
          const leases = Effect.forever(Effect.andThen(Effect.ignore(balance), Effect.sleep(`${Math.max(1, leaseSeconds / 3)} seconds`)))

          yield* Effect.addFinalizer(() =>
            Effect.ignore(infra("CommandTopic", "release")(Effect.gen(function*() {
              yield* sql.unsafe(`DELETE FROM rv_shard_leases WHERE owner = $1`, [owner])
              yield* sql.unsafe(`DELETE FROM rv_workers WHERE owner = $1`, [owner])
            })))
          )
          yield* Effect.ignore(balance)
          yield* Effect.forkScoped(leases)
          yield* Effect.forkScoped(listener)
          yield* Effect.forkScoped(dispatcher)
        })

      return CommandTopic.CommandTopic.of({
        publish,
        consume,
        pending: Effect.orElseSucceed(
          infra("CommandTopic", "pending")(Effect.map(sql.unsafe<{ n: unknown }>(`SELECT count(*) AS n FROM rv_commands`), (rows) => num(rows[0]!.n))),
          () => 1
        )
      })
    })
  )

