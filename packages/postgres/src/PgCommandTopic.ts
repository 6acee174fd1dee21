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
import { CommandTopic, Errors, Limits, type Message } from "@reventless/core"
import { Effect, Layer, Queue, Schedule, Semaphore } from "effect"
import { hostname } from "node:os"
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

/** What the queue table can hold: any length and size (the edge limits those), no NUL nor lone surrogate. */
const storable: Limits.Limits = { maxIdLength: Number.MAX_SAFE_INTEGER, maxPayloadBytes: Number.MAX_SAFE_INTEGER, maxDepth: 1000 }

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<CommandTopic.CommandTopic, never, PgClient.PgClient> =>
  Layer.effect(
    CommandTopic.CommandTopic,
    Effect.gen(function*() {
      const sql = yield* PgClient.PgClient
      const shards = options.shards ?? 64
      const leaseSeconds = options.leaseSeconds ?? 10
      const fetch = options.fetch ?? 512
      /** Tells this process's own notifications from other processes'. */
      const instance = crypto.randomUUID()
      /** The worker of this process, while one consumes: awaited messages of its shards go to it directly. */
      let local: {
        readonly owns: (shard: number) => boolean
        readonly deliver: (shard: number, message: Message.CommandMessage) => void
        /** Rows were stored for these shards: look at the table before taking later hand-overs. */
        readonly stored: (shards: ReadonlyArray<number>) => void
      } | undefined
      let localPending = 0

      /**
       * Stores messages in the queue table. `unsettled`: only those without an outcome yet (the
       * hand-overs of a batch cut short by a stop, some of which may be settled already: a
       * settled one stored again would stay in the queue until some worker ran it as a no-op).
       */
      const store = (messages: ReadonlyArray<Message.CommandMessage>, options?: { readonly unsettled: boolean }) => {
        const shardOf = messages.map((message) => CommandTopic.hashKey(message) % shards)
        const unsettled = options?.unsettled === true
          ? `WHERE NOT EXISTS (SELECT 1 FROM rv_outcomes o WHERE o.msg_id = t.message->>'msgId')
               AND NOT EXISTS (SELECT 1 FROM rv_failures f WHERE f.msg_id = t.message->>'msgId')`
          : ""
        return infra("CommandTopic", "publish")(sql.unsafe(
          `WITH stored AS (
             INSERT INTO rv_commands (shard, message)
             SELECT t.shard, t.message FROM unnest($1::int[], $2::jsonb[]) WITH ORDINALITY AS t(shard, message, n) ${unsettled} ORDER BY t.n
             RETURNING 1
           )
           SELECT pg_notify('rv_commands', $3) FROM (SELECT count(*) FROM stored) AS n`,
          [shardOf, messages.map(json), instance]
        )).pipe(Effect.tap(() => Effect.sync(() => local?.stored(shardOf))))
      }

      const publish = (messages: ReadonlyArray<Message.CommandMessage>, options?: CommandTopic.PublishOptions) =>
        Effect.suspend(() => {
          // What PostgreSQL cannot store (a NUL, a lone surrogate) is refused here, before anything
          // is written, whether it would go to the table or straight to this process's worker.
          for (const message of messages) {
            const refused = Limits.checkCommand(storable, message)
            if (refused !== undefined) {
              return Effect.fail(new Errors.InfrastructureError({ service: "CommandTopic", operation: "publish", detail: `cannot be stored: ${refused.message}`, retryable: false }))
            }
          }
          const worker = options?.awaited === true ? local : undefined
          const stored: Array<Message.CommandMessage> = []
          for (const message of messages) {
            const shard = CommandTopic.hashKey(message) % shards
            if (worker?.owns(shard) === true) worker.deliver(shard, message)
            else stored.push(message)
          }
          return stored.length === 0 ? Effect.void : store(stored)
        })

      const consume = ({ concurrency, handle, settled }: CommandTopic.ConsumeOptions) =>
        Effect.gen(function*() {
          const owner = crypto.randomUUID()
          let owned = new Set<number>()
          const busy = new Set<number>()
          /** Owned shards that may have rows in the table that no fetch has seen yet. */
          const unseen = new Set<number>()
          const markUnseen = () => {
            for (const shard of owned) unseen.add(shard)
          }
          /** Awaited messages handed over by `publish`, by shard, in order. */
          const inbox = new Map<number, Array<Message.CommandMessage>>()
          /**
           * Moves the hand-overs of the shards `which` selects into the table, after the rows
           * already there: a shard this process no longer holds is handled by its new owner, in
           * order; on a failure they stay and are tried again.
           */
          const requeue = (which: (shard: number) => boolean) =>
            Effect.forEach([...inbox.keys()].filter(which), (shard) => {
              const messages = inbox.get(shard) ?? []
              inbox.delete(shard)
              return Effect.matchEffect(store(messages), {
                onFailure: () => Effect.sync(() => void inbox.set(shard, [...messages, ...inbox.get(shard) ?? []])),
                onSuccess: () => Effect.sync(() => void (localPending -= messages.length))
              })
            }, { discard: true })
          const permits = Semaphore.makeUnsafe(Math.max(1, concurrency))
          const wake = Signal.make({ latched: true })

          /** Renews this worker's leases, gives up its surplus, and takes free or expired shards up to its share. */
          const balance = infra("CommandTopic", "lease")(Effect.gen(function*() {
            yield* sql.unsafe(
              `INSERT INTO rv_workers (owner, expires_at, host, pid) VALUES ($1, now() + make_interval(secs => $2), $3, $4)
               ON CONFLICT (owner) DO UPDATE SET expires_at = excluded.expires_at`,
              [owner, leaseSeconds, hostname(), process.pid]
            )
            const live = num((yield* sql.unsafe<{ n: unknown }>(`SELECT count(*) AS n FROM rv_workers WHERE expires_at > now()`))[0]!.n)
            const share = Math.ceil(shards / Math.max(1, live))
            const mine = (yield* sql.unsafe<{ shard: unknown }>(
              `UPDATE rv_shard_leases SET expires_at = now() + make_interval(secs => $2) WHERE owner = $1 RETURNING shard`,
              [owner, leaseSeconds]
            )).map((row) => num(row.shard)).sort((a, b) => a - b)
            const surplus = mine.slice(share).filter((shard) => !busy.has(shard) && !inbox.has(shard))
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
            const before = owned
            owned = new Set([...kept, ...taken])
            // Rows may have been stored for a shard while this process did not hold it.
            for (const shard of owned) if (!before.has(shard)) unseen.add(shard)
            wake.bump()
          }))

          /**
           * Handles one shard's batch (rows from the table first, then handed-over messages), then
           * removes its rows from the queue. Losing that delete to a crash only means the rows run
           * again, where msgId dedup makes them no-ops, so it does not wait for the disk.
           */
          const work = (shard: number, rows: ReadonlyArray<{ readonly seq: number; readonly message: Message.CommandMessage }>, handedOver: ReadonlyArray<Message.CommandMessage>) =>
            Effect.onInterrupt(permits.withPermit(Effect.gen(function*() {
              yield* Errors.untilItWorks("settling a command batch", handle([...rows.map((row) => row.message), ...handedOver]))
              if (rows.length === 0) return
              yield* Effect.retry(
                infra("CommandTopic", "ack")(sql.unsafe(
                  `WITH acked AS (DELETE FROM rv_commands WHERE seq = ANY($1::bigint[]) RETURNING 1)
                   SELECT set_config('synchronous_commit', 'off', true) FROM (SELECT count(*) FROM acked) AS n`,
                  [rows.map((row) => row.seq)]
                )),
                Schedule.spaced("200 millis")
              )
            })), () => Effect.ignore(store(handedOver, { unsettled: true }))).pipe(
              // Interrupted (the worker stops): hand-overs not settled yet go to the table for whoever runs next.
              Effect.ensuring(Effect.sync(() => {
                busy.delete(shard)
                localPending -= handedOver.length
                settled?.()
                wake.bump()
              }))
            )

          /**
           * Starts a batch for every shard that is free and has work: rows of the table, fetched
           * when some free shard may have unseen ones, and messages handed over in this process.
           */
          const dispatch = Effect.gen(function*() {
            yield* requeue((shard) => !owned.has(shard) && !busy.has(shard))
            const free = [...owned].filter((shard) => !busy.has(shard))
            const toFetch = free.filter((shard) => unseen.has(shard))
            const fromTable = new Map<number, Array<{ seq: number; message: Message.CommandMessage }>>()
            if (toFetch.length > 0) {
              for (const shard of toFetch) unseen.delete(shard)
              const rows = yield* Effect.tapError(
                infra("CommandTopic", "fetch")(sql.unsafe<{ seq: unknown; shard: unknown; message: Message.CommandMessage }>(
                  `SELECT seq, shard, message FROM rv_commands WHERE shard = ANY($1::int[]) ORDER BY seq LIMIT $2`,
                  [toFetch, fetch]
                )),
                () => Effect.sync(() => toFetch.forEach((shard) => unseen.add(shard)))
              )
              if (rows.length === fetch) toFetch.forEach((shard) => unseen.add(shard))
              for (const row of rows) {
                const shard = num(row.shard)
                let batch = fromTable.get(shard)
                if (batch === undefined) fromTable.set(shard, batch = [])
                batch.push({ seq: num(row.seq), message: row.message })
              }
            }
            let started = false
            for (const shard of free) {
              const rows = fromTable.get(shard) ?? []
              // Hand-overs wait while the table may hold older rows of their shard (stored by a
              // sender before it handed over, and not fetched yet): publish order is kept.
              const handedOver = unseen.has(shard) ? [] : inbox.get(shard) ?? []
              if (rows.length === 0 && handedOver.length === 0) continue
              if (handedOver.length > 0) inbox.delete(shard)
              busy.add(shard)
              started = true
              yield* Effect.forkScoped(work(shard, rows, handedOver))
            }
            return started
          })

          const dispatcher = Effect.forever(
            Effect.flatMap(Effect.orElseSucceed(dispatch, () => false), (started) =>
              started ? Effect.yieldNow : Effect.raceFirst(wake.next, Effect.tap(Effect.sleep(idlePoll), () => Effect.sync(markUnseen))))
          )
          const listener = Effect.retry(
            Effect.scoped(Effect.gen(function*() {
              const notifications = yield* sql.listen("rv_commands")
              markUnseen()
              wake.bump()
              while (true) {
                const notification = yield* Queue.take(notifications)
                if (notification.payload === instance) continue
                markUnseen()
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
          local = {
            owns: (shard) => owned.has(shard),
            deliver: (shard, message) => {
              localPending++
              const queued = inbox.get(shard)
              if (queued === undefined) inbox.set(shard, [message])
              else queued.push(message)
              wake.bump()
            },
            stored: (stored) => {
              for (const shard of stored) if (owned.has(shard)) unseen.add(shard)
              wake.bump()
            }
          }
          yield* Effect.addFinalizer(() =>
            Effect.andThen(Effect.sync(() => void (local = undefined)), Effect.ignore(requeue(() => true)))
          )
          yield* Effect.forkScoped(leases)
          yield* Effect.forkScoped(listener)
          yield* Effect.forkScoped(dispatcher)
        })

      return CommandTopic.CommandTopic.of({
        publish,
        consume,
        pending: Effect.orElseSucceed(
          infra("CommandTopic", "pending")(Effect.map(sql.unsafe<{ n: unknown }>(`SELECT count(*) AS n FROM rv_commands`), (rows) => num(rows[0]!.n) + localPending)),
          () => 1
        ),
        owners: infra("CommandTopic", "owners")(Effect.map(
          sql.unsafe<{ shard: unknown; host: string | null; pid: unknown }>(
            `SELECT l.shard, w.host, w.pid FROM rv_shard_leases l LEFT JOIN rv_workers w ON w.owner = l.owner WHERE l.expires_at > now() ORDER BY l.shard`
          ),
          (rows) => rows.map((row) => ({ partition: `shard ${num(row.shard)}`, host: row.host ?? "", pid: num(row.pid ?? 0) }))
        ))
      })
    })
  )

