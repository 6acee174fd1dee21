/**
 * The memory platform's leases and checkpoints: tables in process, read and written without
 * effects, so that the memory Checkpoints and ReadModelStore check a lease and write in one
 * synchronous step (what one PostgreSQL transaction gives the PostgreSQL platform).
 */
import { Context, Effect, Layer } from "effect"
import type { Holding, Lease, Owner } from "../Leases.ts"

export interface Table {
  readonly ttlMillis: number
  readonly renew: (owner: Owner) => { readonly held: ReadonlyArray<Lease>; readonly owners: number }
  readonly acquire: (owner: string, names: ReadonlyArray<string>, limit: number) => ReadonlyArray<Lease>
  readonly release: (owner: string, names: ReadonlyArray<string>) => void
  readonly leave: (owner: string) => void
  readonly seize: (owner: string, name: string) => Lease
  readonly holds: (lease: Lease) => boolean
  readonly holdings: () => ReadonlyArray<Holding>
  /** Checkpoints by consumer. */
  readonly positions: Map<string, number>
  /**
   * Whether the checkpoint of `lease.name` may move to `position` now: "lost" when the lease is
   * not its owner's any more, "backward" when it would move back, else "ok". Writes nothing.
   */
  readonly fence: (lease: Lease, position: number) => "ok" | "lost" | "backward"
}

export class LeaseTable extends Context.Service<LeaseTable, Table>()("@reventless/core/internal/LeaseTable") {}

/** How long a memory lease lasts without renewal (one runtime per platform renews long before). */
export const defaultTtlMillis = 5_000

export const make = (now: () => number, ttlMillis = defaultTtlMillis): Table => {
  const leases = new Map<string, { owner: string; epoch: number; expiresAt: number }>()
  const owners = new Map<string, { owner: Owner; expiresAt: number }>()
  const positions = new Map<string, number>()
  const holds = (lease: Lease) => {
    const current = leases.get(lease.name)
    return current !== undefined && current.owner === lease.owner && current.epoch === lease.epoch
  }
  return {
    positions,
    fence: (lease, position) => !holds(lease) ? "lost" : (positions.get(lease.name) ?? -Infinity) > position ? "backward" : "ok",
    ttlMillis,
    renew: (owner) => {
      const at = now()
      owners.set(owner.id, { owner, expiresAt: at + ttlMillis })
      const held: Array<Lease> = []
      for (const [name, lease] of leases) {
        if (lease.owner !== owner.id) continue
        lease.expiresAt = at + ttlMillis
        held.push({ name, owner: owner.id, epoch: lease.epoch })
      }
      let live = 0
      for (const entry of owners.values()) if (entry.expiresAt > at && entry.owner.worker) live++
      return { held, owners: live }
    },
    acquire: (owner, names, limit) => {
      const at = now()
      const taken: Array<Lease> = []
      for (const name of names) {
        if (taken.length >= limit) break
        const lease = leases.get(name)
        if (lease !== undefined && lease.expiresAt > at) continue
        const epoch = (lease?.epoch ?? 0) + 1
        leases.set(name, { owner, epoch, expiresAt: at + ttlMillis })
        taken.push({ name, owner, epoch })
      }
      return taken
    },
    release: (owner, names) => {
      const at = now()
      for (const name of names) {
        const lease = leases.get(name)
        if (lease !== undefined && lease.owner === owner) Object.assign(lease, { owner: "", expiresAt: at })
      }
    },
    leave: (owner) => {
      const at = now()
      for (const lease of leases.values()) if (lease.owner === owner) Object.assign(lease, { owner: "", expiresAt: at })
      owners.delete(owner)
    },
    seize: (owner, name) => {
      const epoch = (leases.get(name)?.epoch ?? 0) + 1
      leases.set(name, { owner, epoch, expiresAt: now() + ttlMillis })
      return { name, owner, epoch }
    },
    holds,
    holdings: () => {
      const at = now()
      return [...leases].map(([name, lease]) => {
        const holder = owners.get(lease.owner)?.owner
        return { name, owner: lease.owner, host: holder?.host ?? "", pid: holder?.pid ?? 0, epoch: lease.epoch, expiresInMillis: lease.expiresAt - at }
      })
    }
  }
}

export const layer: Layer.Layer<LeaseTable> = Layer.effect(
  LeaseTable,
  Effect.clockWith((clock) => Effect.succeed(LeaseTable.of(make(() => clock.currentTimeMillisUnsafe()))))
)
