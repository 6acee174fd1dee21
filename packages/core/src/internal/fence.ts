/**
 * The memory platform's fenced checkpoint write, shared by its Checkpoints and ReadModelStore.
 */
import { Effect } from "effect"
import { InfrastructureError, LeaseLost } from "../Errors.ts"
import type { Lease } from "../Leases.ts"
import type { Table } from "./leaseTable.ts"

/** The error of a checkpoint that would move backward: a consumer's bug, never retried. */
export const backward = (consumer: string, position: number): InfrastructureError =>
  new InfrastructureError({ service: "Checkpoints", operation: "save", detail: `the checkpoint of ${consumer} would move back to ${position}`, retryable: false })

/** The `LeaseLost` error of a lease. */
export const lost = (lease: Lease): LeaseLost => new LeaseLost({ name: lease.name, owner: lease.owner, epoch: lease.epoch })

/**
 * Checks the lease and moves the checkpoint in one synchronous step; `write` runs in between
 * (a read model's rows), only when the move is allowed.
 */
export const fenced = (table: Table, lease: Lease, position: number, write?: () => void): Effect.Effect<void, InfrastructureError | LeaseLost> =>
  Effect.suspend((): Effect.Effect<void, InfrastructureError | LeaseLost> => {
    switch (table.fence(lease, position)) {
      case "lost":
        return Effect.fail(lost(lease))
      case "backward":
        return Effect.fail(backward(lease.name, position))
      case "ok":
        write?.()
        table.positions.set(lease.name, position)
        return Effect.void
    }
  })

