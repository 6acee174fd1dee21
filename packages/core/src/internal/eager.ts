/**
 * The memory store's operations without effects, for the command processor of its own process:
 * each returns an `Exit` computed at the call, so the processor's one decision step (written with
 * effect's eager combinators) runs a whole command as one synchronous call when every part of it
 * is synchronous, and as effects otherwise. Not a member of any service: a store registers it
 * for its own service object, so a store wrapped by a decorator (fault injection) is reached
 * through its effects, as any other store is.
 */
import type { Exit, Option } from "effect"
import type * as Event from "../Event.ts"
import type { Query } from "../DcbQuery.ts"
import type { CommitRequest, CommitResult, EventStore, ReadAllResult, Snapshot } from "../EventStore.ts"
import type * as Outcome from "../Outcome.ts"

export interface EagerStore {
  readonly readStream: (source: string, streamId: string, afterVersion?: number) => Exit.Exit<ReadonlyArray<Event.Envelope>>
  readonly readTagged: (options: { readonly log: string; readonly query: Query; readonly after: Event.Position; readonly limit: number }) => Exit.Exit<ReadAllResult>
  readonly loadSnapshot: (source: string, streamId: string) => Exit.Exit<Option.Option<Snapshot>>
  readonly commit: (requests: ReadonlyArray<CommitRequest>) => Exit.Exit<ReadonlyArray<CommitResult>>
  /** What `awaitOutcome` would answer at once: the final outcome, or `Failed` while parked; `undefined` while neither. */
  readonly outcome: (msgId: string) => Outcome.Outcome | undefined
}

const stores = new WeakMap<EventStore["Service"], EagerStore>()

export const register = (store: EventStore["Service"], eager: EagerStore): void => void stores.set(store, eager)

/** The eager operations of exactly this store, if it has them. */
export const of = (store: EventStore["Service"]): EagerStore | undefined => stores.get(store)
