/**
 * The runtime's background work under leases (`Leases`): every consumer of the log, TODO sweep,
 * task bucket, the scheduler's poller and every extension-point import is a named piece of work
 * that runs only in the process holding its lease. Each round (every quarter of the lease's time
 * to live) renews this owner's leases, gives up those above its fair share (the work divided by
 * the live owners) and takes free or lapsed ones up to it, then starts the work it now holds and
 * stops the work it lost. A piece of work that fails is restarted with backoff, its failure kept
 * for status; one whose write was fenced off (`LeaseLost`) stops until a round hands it back.
 */
import { Cause, Clock, Effect, Exit, Fiber, type Scope, Semaphore } from "effect"
import { hostname } from "node:os"
import { isInfrastructureError } from "../Errors.ts"
import { type Lease, LeaseLost, type Leases, type Owner } from "../Leases.ts"

export interface Work {
  readonly name: string
  /** Runs the work while `lease` is held; interrupted when it is lost or the runtime stops. */
  readonly run: (lease: Lease) => Effect.Effect<unknown, unknown>
}

export interface WorkStatus {
  readonly name: string
  /** How often the work failed and was restarted in this process. */
  restarts: number
  /** The last failure, one line. */
  lastError: string | undefined
}

export interface Ownership {
  readonly owner: Owner
  readonly statuses: ReadonlyMap<string, WorkStatus>
  /** Whether this process runs the work now. */
  readonly runs: (name: string) => boolean
}

/** How often an owner renews its leases: a quarter of their time to live. */
export const renewEvery = (leases: Leases["Service"]): number => Math.max(50, Math.floor(leases.ttlMillis / 4))

/** Backoff between restarts of failing work: 200 ms doubling to 5 s. */
const restartDelay = (restarts: number) => Math.min(5_000, 200 * 2 ** Math.min(restarts, 5))

const shuffled = <A>(items: ReadonlyArray<A>): Array<A> => {
  const copy = [...items]
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[copy[i], copy[j]] = [copy[j]!, copy[i]!]
  }
  return copy
}

const oneLine = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause)
  const text = error instanceof Error ? error.message : String(error)
  return text.split("\n")[0]!.slice(0, 500)
}

/** Starts the rounds in the scope; the first one runs before this returns, so held work starts at once. */
export const start = (leases: Leases["Service"], works: ReadonlyArray<Work>): Effect.Effect<Ownership, never, Scope.Scope> =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const clock = yield* Clock.Clock
    const owner: Owner = { id: crypto.randomUUID(), host: hostname(), pid: process.pid, worker: true }
    const byName = new Map(works.map((work) => [work.name, work]))
    const statuses = new Map(works.map((work): [string, WorkStatus] => [work.name, { name: work.name, restarts: 0, lastError: undefined }]))
    const running = new Map<string, { readonly epoch: number; readonly fiber: Fiber.Fiber<void> }>()
    let lastRenewal = clock.currentTimeMillisUnsafe()
    let outage = false

    const stop = (name: string) =>
      Effect.suspend(() => {
        const current = running.get(name)
        if (current === undefined) return Effect.void
        running.delete(name)
        return Fiber.interrupt(current.fiber)
      })
    const stopAll = Effect.suspend(() => Effect.forEach([...running.keys()], stop, { discard: true }))

    /** Runs the work until interrupted; restarts it after a failure, ends on `LeaseLost`. */
    const supervise = (work: Work, lease: Lease, status: WorkStatus): Effect.Effect<void> =>
      Effect.flatMap(Effect.exit(Effect.suspend(() => work.run(lease))), (exit): Effect.Effect<void> => {
        if (Exit.isSuccess(exit)) return supervise(work, lease, status)
        if (Cause.hasInterruptsOnly(exit.cause)) return Effect.interrupt
        const error = Cause.squash(exit.cause)
        if (error instanceof LeaseLost) {
          status.lastError = error.message
          return Effect.andThen(
            Effect.logWarning(`${work.name}: ${error.message}; it stops here`),
            Effect.andThen(
              Effect.sync(() => {
                if (running.get(work.name)?.epoch === lease.epoch) running.delete(work.name)
              }),
              // A round now, not a quarter of the lease later: the lease is free again soon (a
              // rebuild's swap releases the projection it seized) and should run without a gap.
              Effect.asVoid(Effect.forkIn(safeRound, scope))
            )
          )
        }
        const delay = restartDelay(status.restarts)
        status.restarts++
        status.lastError = oneLine(exit.cause)
        // An outage says all in its message; anything else (a defect) keeps its whole cause in the log.
        const warning = Effect.logWarning(`${work.name} failed, restarting in ${delay} ms: ${status.lastError}`)
        return (isInfrastructureError(error) ? warning : Effect.annotateLogs(warning, { cause: Cause.pretty(exit.cause) })).pipe(
          Effect.andThen(Effect.sleep(delay)),
          Effect.andThen(supervise(work, lease, status))
        )
      })

    const begin = (lease: Lease) =>
      Effect.suspend(() => {
        const work = byName.get(lease.name)!
        const status = statuses.get(lease.name)!
        return Effect.map(Effect.forkIn(supervise(work, lease, status), scope), (fiber) => void running.set(lease.name, { epoch: lease.epoch, fiber }))
      })

    /** Free work seen in the last round, and what this owner released in it. */
    let freeBefore = new Set<string>()
    let releasedBefore = new Set<string>()
    /** A renewal that does not answer within half the time to live counts as failed. */
    const renew = Effect.timeoutOrElse(leases.renew(owner), {
      duration: Math.max(25, Math.floor(leases.ttlMillis / 2)),
      orElse: () => Effect.fail({ message: `no answer within ${Math.floor(leases.ttlMillis / 2)} ms` })
    })

    const round = Effect.gen(function*() {
      const sentAt = clock.currentTimeMillisUnsafe()
      const { held, owners } = yield* renew
      lastRenewal = sentAt
      if (outage) yield* Effect.logInfo("leases renewed again")
      outage = false
      const mine = new Map(held.filter((lease) => byName.has(lease.name)).map((lease) => [lease.name, lease]))
      const share = Math.ceil(works.length / Math.max(1, owners))
      const released = new Set<string>()
      if (mine.size > share) {
        const surplus = shuffled([...mine.keys()]).slice(0, mine.size - share)
        for (const name of surplus) {
          yield* stop(name)
          mine.delete(name)
          released.add(name)
        }
        yield* leases.release(owner.id, surplus)
      } else if (mine.size < share) {
        const wanted = shuffled(works.map((work) => work.name).filter((name) => !mine.has(name)))
        for (const lease of yield* leases.acquire(owner.id, wanted, share - mine.size)) mine.set(lease.name, lease)
      }
      // Work nobody took for a whole round (the others do not run it: another plugin graph, a
      // rolling upgrade) is taken whatever the share, but not what this owner just gave up.
      const taken = new Set((yield* leases.holdings).filter((holding) => holding.owner !== "" && holding.expiresInMillis > 0).map((holding) => holding.name))
      const free = works.map((work) => work.name).filter((name) => !mine.has(name) && !taken.has(name))
      const orphans = free.filter((name) => freeBefore.has(name) && !releasedBefore.has(name))
      if (orphans.length > 0) for (const lease of yield* leases.acquire(owner.id, orphans, orphans.length)) mine.set(lease.name, lease)
      freeBefore = new Set(free)
      releasedBefore = released
      for (const [name, current] of running) {
        if (mine.get(name)?.epoch !== current.epoch) {
          yield* Effect.logInfo(`${name}: its lease moved on; it stops here`)
          yield* stop(name)
        }
      }
      for (const [name, lease] of mine) if (!running.has(name)) yield* begin(lease)
    })

    /** A round that failed: the stores are unreachable. Past the lease's time to live the work may be someone else's: stop it. */
    const failedRound = (error: { readonly message: string }) =>
      Effect.gen(function*() {
        if (!outage) yield* Effect.logWarning(`renewing leases failed, trying again: ${error.message}`)
        outage = true
        // A margin before the time to live: others may take the leases the moment they lapse.
        if (clock.currentTimeMillisUnsafe() - lastRenewal > leases.ttlMillis * 0.75) yield* stopAll
      })

    const rounds = Semaphore.makeUnsafe(1)
    const safeRound: Effect.Effect<void> = rounds.withPermit(Effect.catch(round, failedRound))
    yield* Effect.addFinalizer(() => Effect.andThen(stopAll, Effect.ignore(leases.leave(owner.id))))
    yield* safeRound
    yield* Effect.forkIn(Effect.forever(Effect.andThen(Effect.sleep(renewEvery(leases)), safeRound)), scope)

    return {
      owner,
      statuses,
      runs: (name) => running.has(name)
    }
  })

/** A runtime that does no background work: it runs nothing and takes no leases. */
export const none: Ownership = {
  owner: { id: "", host: "", pid: 0, worker: false },
  statuses: new Map(),
  runs: () => false
}
