/**
 * Fault injection: tests switch these on to see the runtime survive duplicate deliveries, failing
 * appends, slow delivery and slow commits. Every platform's layers honour them; they are off
 * unless a test provides its own switches.
 *
 * @since 0.1.0
 */
import { Context } from "effect"

/**
 * Mutable switches, read by the platform's layers on every operation.
 *
 * @since 0.1.0
 * @category models
 */
export interface FaultSwitches {
  /** The next this many appends fail with a retryable infrastructure error. */
  failAppends: number
  /** The next this many dead letters fail to be parked (the store behind them is down). */
  failParks: number
  /** Every command is delivered twice. */
  duplicateCommands: boolean
  /** Every batch of events is delivered to its consumer twice. */
  duplicateEvents: boolean
  /** Milliseconds to wait before delivering each command. */
  commandDelayMillis: number
  /**
   * Milliseconds a commit holds its transaction open after writing, before committing (stores
   * whose commit is a transaction; the memory store commits at once).
   */
  commitDelayMillis: number
}

/**
 * No faults at all.
 *
 * @since 0.1.0
 * @category constructors
 */
export const none = (): FaultSwitches => ({
  failAppends: 0,
  failParks: 0,
  duplicateCommands: false,
  duplicateEvents: false,
  commandDelayMillis: 0,
  commitDelayMillis: 0
})

/**
 * The switches in use; by default a fresh set with every fault off.
 *
 * @since 0.1.0
 * @category services
 */
export const Faults = Context.Reference<FaultSwitches>("@reventless/core/Faults", { defaultValue: none })
