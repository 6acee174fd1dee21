/**
 * Leases on the runtime's background work: each consumer of the log, each TODO list's sweep, each
 * task bucket, the scheduler's poller, each extension-point import. A lease is held by one owner
 * (a running `Runtime`) at a time and expires unless renewed, so that work moves to a live process
 * when its owner dies, hangs or stops. Each acquisition gives the lease a new, larger epoch: the
 * fencing token a store checks in the same transaction as a checkpoint move, so that an owner that
 * was paused past its lease and resumes writes nothing (guarantee 4 across processes).
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import type { InfrastructureError, LeaseLost } from "./Errors.ts"
import * as Fence from "./internal/fence.ts"
import { LeaseTable } from "./internal/leaseTable.ts"

/**
 * A held lease: the work's name, who holds it, and the epoch of this acquisition.
 *
 * @since 0.1.0
 * @category models
 */
export interface Lease {
  readonly name: string
  readonly owner: string
  readonly epoch: number
}

/**
 * A process that takes leases: a running runtime, with where it runs (for status).
 *
 * @since 0.1.0
 * @category models
 */
export interface Owner {
  readonly id: string
  readonly host: string
  readonly pid: number
  /**
   * Whether it takes a share of the background work (a runtime), or holds leases only for a job
   * of its own (a projection rebuild): only workers count when the work is shared out.
   */
  readonly worker: boolean
}

/**
 * Who holds a lease now, for status. `expiresInMillis` is negative for a lapsed lease nobody took.
 *
 * @since 0.1.0
 * @category models
 */
export interface Holding {
  readonly name: string
  readonly owner: string
  readonly host: string
  readonly pid: number
  readonly epoch: number
  readonly expiresInMillis: number
}

/**
 * A write under a lease that is no longer the writer's (see `Errors.LeaseLost`).
 *
 * @since 0.1.0
 * @category errors
 */
export { LeaseLost } from "./Errors.ts"

/**
 * @since 0.1.0
 * @category services
 */
export class Leases extends Context.Service<Leases, {
  /** How long a lease lasts without renewal: the longest a dead owner's work waits for a new one. */
  readonly ttlMillis: number
  /**
   * Marks `owner` alive and renews every lease it holds (a lapsed one too, while nobody took it:
   * its epoch still fences). Returns the leases it holds and how many workers are alive.
   */
  readonly renew: (owner: Owner) => Effect.Effect<{ readonly held: ReadonlyArray<Lease>; readonly owners: number }, InfrastructureError>
  /** Takes up to `limit` of `names` that are free or lapsed, each with a new epoch. */
  readonly acquire: (owner: string, names: ReadonlyArray<string>, limit: number) => Effect.Effect<ReadonlyArray<Lease>, InfrastructureError>
  /** Lets the leases go now (another owner may take them at once, and this one's renewals no longer extend them); their epochs stay, so a later holder's is larger. */
  readonly release: (owner: string, names: ReadonlyArray<string>) => Effect.Effect<void, InfrastructureError>
  /**
   * Takes the lease on `name` now, from whoever holds it (a new epoch fences the holder off): a
   * rebuild's last stretch stops the running projection this way. Creates the lease if none exists.
   */
  readonly seize: (owner: string, name: string) => Effect.Effect<Lease, InfrastructureError>
  /** A graceful stop: releases everything `owner` holds and forgets the owner. */
  readonly leave: (owner: string) => Effect.Effect<void, InfrastructureError>
  /** Every lease and its holder, by name. */
  readonly holdings: Effect.Effect<ReadonlyArray<Holding>, InfrastructureError>
}>()("@reventless/core/Leases") {}

/**
 * Leases kept in process (the memory platform): the same rules, on the `Clock`. Checkpoints and
 * read-model commits of the memory platform check them in the same synchronous step as they write.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<Leases, never, LeaseTable> = Layer.effect(
  Leases,
  Effect.map(Effect.service(LeaseTable), (table) =>
    Leases.of({
      ttlMillis: table.ttlMillis,
      renew: (owner) => Effect.sync(() => table.renew(owner)),
      acquire: (owner, names, limit) => Effect.sync(() => table.acquire(owner, names, limit)),
      release: (owner, names) => Effect.sync(() => table.release(owner, names)),
      leave: (owner) => Effect.sync(() => table.leave(owner)),
      seize: (owner, name) => Effect.sync(() => table.seize(owner, name)),
      holdings: Effect.sync(() => table.holdings())
    }))
)

/**
 * The `LeaseLost` error of a lease.
 *
 * @since 0.1.0
 * @category constructors
 */
export const lost: (lease: Lease) => LeaseLost = Fence.lost
