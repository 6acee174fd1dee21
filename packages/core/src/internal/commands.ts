/**
 * Command processing, one way for aggregates and state-change slices alike (internal/deciders.ts):
 *
 * 1. the command, decoded, and the state it decides on: warm (kept per instance, or per query),
 *    else loaded and kept;
 * 2. the decision on that state;
 * 3. the request that stores it with the outcome, on the condition that what was read still
 *    holds (the stream version, or nothing new matching the query); the store's msgId check
 *    makes a redelivered command a no-op (guarantee 1);
 * 4. the warm state brought forward over what was stored, and a snapshot saved when one is due.
 *
 * The step is written once with effect's eager combinators, so where every part of it is
 * synchronous (the memory store's eager reads and commit, a decision that is a Result) it runs
 * as one synchronous call (`handleNow`), and as effects otherwise. Two runners use it: a worker's
 * batch is decided message by message and committed in one call (one decision per state per
 * call), and a message that needs care is run on its own, with version conflicts retried at once
 * on fresh state, failures that may pass retried on the transient schedule, and what still fails
 * parked in the dead letters (guarantee 6).
 */
import { Cause, type Context, Effect, Exit, Option, Result, Schedule, Schema } from "effect"
import type { DcbConflict } from "../DcbQuery.ts"
import { DeadLetters } from "../DeadLetters.ts"
import { describeDefect, InfrastructureError, isInfrastructureError } from "../Errors.ts"
import type { CommitRequest, CommitResult, EventStore, VersionConflict } from "../EventStore.ts"
import * as Limits from "../Limits.ts"
import { type CommandMessage, partitionKey } from "../Message.ts"
import type { QueryEngine } from "../QueryEngine.ts"
import * as Deciders from "./deciders.ts"
import { type Decider, PermanentFailure, type Target, type Warm } from "./deciders.ts"
import * as Eager from "./eager.ts"
import type { ExtensionPointEntry, Registry } from "./registry.ts"

export { PermanentFailure } from "./deciders.ts"

/** A throw in the command's handling (decide, evolve, a codec), as a failure that may pass. */
class Threw extends Schema.TaggedError<Threw>()("Threw", { reason: Schema.String }) {}

/** What a commit reports when the decision's reads were stale. */
type Conflict = VersionConflict | DcbConflict

/** What is left to do once a command is stored: a snapshot to save, a line to log. */
type FollowUp = Effect.Effect<void, InfrastructureError> | undefined

const noEvents: ReadonlyArray<unknown> = []
/** A stored command with nothing left to do, the commonest answer of a step: made once. */
const nothingLeft: Exit.Exit<Effect.Effect<void>> = Exit.succeed(Effect.void)

/** A decided message waiting to be stored. */
interface Pending {
  readonly message: CommandMessage
  readonly decider: Decider
  readonly target: Target
  readonly warm: Warm
  /** Where `warm` was when the decision read it: what the request holds to. */
  readonly seen: number
  readonly events: ReadonlyArray<unknown>
  readonly request: CommitRequest
}

export interface ProcessorOptions {
  readonly registry: Registry
  readonly store: EventStore["Service"]
  readonly deadLetters: DeadLetters["Service"]
  readonly queries: Context.Context<QueryEngine>
  readonly retrySchedule: Schedule.Schedule<unknown, unknown>
  readonly conflictSchedule: Schedule.Schedule<unknown, unknown>
  readonly cacheSize: number
  /** What a storable copy of an unstorable command is cut to. */
  readonly limits: Limits.Limits
  readonly now: () => string
  /** Handles a command addressed to an extension point (internal/extensions.ts). */
  readonly extensionPointCommand: (
    entry: ExtensionPointEntry,
    message: CommandMessage
  ) => Effect.Effect<void, PermanentFailure | InfrastructureError>
}

export const makeProcessor = (options: ProcessorOptions) => {
  const { deadLetters, registry, store } = options
  /** The memory store's eager operations, when the store is the memory store itself. */
  const eager = Eager.of(store)
  const reads: Deciders.Reads = eager ?? store
  const commit = eager?.commit ?? store.commit

  const deciders = new Map<string, Decider>()
  for (const entry of registry.aggregates.values()) deciders.set(entry.qualified, Deciders.ofAggregate(registry, entry, store.saveSnapshot))
  for (const entry of registry.slices.values()) deciders.set(entry.qualified, Deciders.ofSlice(entry))

  /** Warm states per decider by key, oldest evicted first beyond `cacheSize` per decider. */
  const caches = new Map<Decider, Map<string, Warm>>()
  for (const decider of deciders.values()) caches.set(decider, new Map())
  const warmOf = (decider: Decider, key: string) => caches.get(decider)!.get(key)
  const forget = (decider: Decider, key: string) => void caches.get(decider)!.delete(key)
  const remember = (decider: Decider, key: string, warm: Warm): Warm => {
    const cache = caches.get(decider)!
    if (cache.size >= options.cacheSize && !cache.has(key)) cache.delete(cache.keys().next().value!)
    cache.set(key, warm)
    return warm
  }

  /** Steps 1 to 3: the state (warm, else loaded and kept), the decision on it, the request that stores it. */
  const decideOn = (decider: Decider, message: CommandMessage, target: Target): Effect.Effect<Pending, PermanentFailure | InfrastructureError> => {
    const known = warmOf(decider, target.key)
    return known !== undefined
      ? decideWith(decider, message, target, known)
      : Effect.flatMapEager(decider.load(reads, target), (loaded) => decideWith(decider, message, target, remember(decider, target.key, loaded)))
  }

  const decideWith = (decider: Decider, message: CommandMessage, target: Target, warm: Warm): Effect.Effect<Pending, PermanentFailure | InfrastructureError> => {
    // Read now: a slice's warm state is shared by the commands with its query, which other
    // workers may store meanwhile (bringing it forward) while this decision is in flight.
    const at = warm.at
    const decision = decider.decide(warm.state, target, message)
    if (Result.isResult(decision)) return pendingOf(decider, message, target, warm, at, decision)
    return Effect.flatMap(Effect.result(Effect.provideContext(decision, options.queries)), (result): Effect.Effect<Pending, PermanentFailure | InfrastructureError> =>
      // A query that failed is the infrastructure's failure, not the decider's answer.
      Result.isFailure(result) && isInfrastructureError(result.failure) ? Effect.fail(result.failure) : pendingOf(decider, message, target, warm, at, result))
  }

  const pendingOf = (
    decider: Decider,
    message: CommandMessage,
    target: Target,
    warm: Warm,
    at: number,
    decided: Result.Result<ReadonlyArray<unknown>, unknown>
  ): Exit.Exit<Pending, PermanentFailure> => {
    const request = decider.request(message, target, at, decided)
    return request instanceof PermanentFailure
      ? Exit.fail(request)
      : Exit.succeed({ message, decider, target, warm, seen: at, events: Result.isSuccess(decided) ? decided.success : noEvents, request })
  }

  /** Step 4, for a stored request: the warm state brought forward; what is left to do. */
  const stored = (pending: Pending, result: CommitResult): FollowUp => {
    if (result._tag !== "Committed" || result.outcome._tag !== "Accepted") return undefined
    if (pending.warm.at !== pending.seen) {
      // Brought forward by another command meanwhile: loaded again when next needed.
      forget(pending.decider, pending.target.key)
      return undefined
    }
    try {
      return pending.decider.advance(pending.warm, pending.target, pending.events, result.outcome)
    } catch (defect) {
      // The events are stored already; the next command reloads and meets the defect there.
      forget(pending.decider, pending.target.key)
      return Effect.logError(`${pending.decider.qualified} ${pending.message.id}: evolve threw after a commit: ${String(defect)}`)
    }
  }

  /** A snapshot only saves replay: one that is not saved is a warning, not a failure. */
  const followUp = (pending: Pending, next: FollowUp): Effect.Effect<void> =>
    next === undefined ? Effect.void : Effect.catch(next, (error) => Effect.logWarning(`after ${pending.decider.qualified} ${pending.message.id}: ${error.message}`))

  /** The whole step for one message: decided, stored on its own, brought forward. */
  const attempt = (decider: Decider, message: CommandMessage, command?: unknown): Effect.Effect<Effect.Effect<void>, Conflict | PermanentFailure | InfrastructureError> => {
    const target = decider.target(message, command)
    if (target instanceof PermanentFailure) return Exit.fail(target)
    // Each part that is done already (an Exit) is taken up at once, without a closure: the
    // memory platform's whole command is then plain calls.
    const decided = decideOn(decider, message, target)
    if (!Exit.isExit(decided)) return Effect.flatMap(decided, commitOne)
    const exit = decided as Exit.Exit<Pending, PermanentFailure | InfrastructureError>
    return Exit.isSuccess(exit) ? commitOne(exit.value) : exit as Exit.Exit<never, PermanentFailure | InfrastructureError>
  }

  /** Step 3's request stored on its own, then step 4. */
  const commitOne = (pending: Pending): Effect.Effect<Effect.Effect<void>, Conflict | InfrastructureError> => {
    const committed = commit([pending.request])
    if (!Exit.isExit(committed)) return Effect.flatMap(committed, (results) => afterCommit(pending, results[0]!))
    const done = committed as Exit.Exit<ReadonlyArray<CommitResult>, InfrastructureError>
    return Exit.isSuccess(done) ? afterCommit(pending, done.value[0]!) : done as Exit.Exit<never, InfrastructureError>
  }

  const afterCommit = (pending: Pending, result: CommitResult): Exit.Exit<Effect.Effect<void>, Conflict> => {
    if (result._tag !== "Conflict") {
      const next = stored(pending, result)
      return next === undefined ? nothingLeft : Exit.succeed(followUp(pending, next))
    }
    forget(pending.decider, pending.target.key)
    return Exit.fail(result.conflict)
  }

  /**
   * Parks a command that failed for good. A command the stores cannot keep as it is (it came past
   * the edge's checks: a NUL in its id, a msgId past an index's size) is parked as a storable
   * copy (`Limits.storableMessage`), the reason saying so, so that it never blocks the commands
   * behind it. When even that fails (the stores are unreachable), the command is neither settled
   * nor parked: the failure goes up, so the platform keeps its message for a later delivery
   * instead of acknowledging it.
   */
  const park = (message: CommandMessage, reason: string, attempts: number): Effect.Effect<void, InfrastructureError> => {
    const parkAs = (parked: CommandMessage, why: string) =>
      Effect.andThen(
        deadLetters.park({ _tag: "Command", id: parked.msgId, message: parked, reason: why, attempts, parkedAt: options.now() }),
        store.fail({ _tag: "Failed", msgId: parked.msgId, component: parked.component, id: parked.id, reason: why, user: parked.meta.user })
      )
    return parkAs(message, reason).pipe(
      Effect.catch((error) =>
        error.retryable
          ? Effect.fail(error)
          : Effect.andThen(
            Effect.logError(`command ${JSON.stringify(message.msgId.slice(0, 64))} cannot be stored as sent (${error.detail}); parking a storable copy`),
            parkAs(
              Limits.storableMessage(options.limits, message),
              // The reason may echo the bad value (a schema error quoting it): made storable too.
              Limits.storableText(`${reason}; parked as a storable copy, the command as sent could not be stored: ${error.detail}`, 2000)
            )
          )),
      Effect.mapError((error) =>
        new InfrastructureError({
          service: "CommandProcessor",
          operation: "park",
          detail: `could not park command ${message.msgId.slice(0, 64)} (${reason}): ${error.message}`,
          retryable: error.retryable
        }))
    )
  }

  const isRetryable = (error: Conflict | PermanentFailure | InfrastructureError | Threw) =>
    error._tag === "Threw" || (error._tag === "InfrastructureError" && error.retryable)

  /**
   * One message on its own, to its outcome, with every safeguard: a dedup check, immediate
   * retries of version conflicts, the transient retry schedule, and parking. Fails only when it
   * cannot park.
   */
  const handleOne = (message: CommandMessage, conflicted?: Conflict): Effect.Effect<void, InfrastructureError> =>
    Effect.suspend(() => {
      const decider = deciders.get(message.component)
      if (decider === undefined) {
        const extensionPoint = registry.extensionPoints.get(message.component)
        if (extensionPoint === undefined) return park(message, `unknown component "${message.component}"`, 1)
        return safely(message, options.extensionPointCommand(extensionPoint, message))
      }
      const target = decider.target(message)
      if (target instanceof PermanentFailure) return park(message, target.reason, 1)
      // A conflict met in a batch was this command's first try: the schedule's retries follow it.
      let first = conflicted
      const decided = Effect.suspend(() => {
        if (first === undefined) return attempt(decider, message, target.command)
        const conflict = first
        first = undefined
        return Exit.fail(conflict)
      }).pipe(
        Effect.retry({ while: (error) => error._tag === "VersionConflict" || error._tag === "DcbConflict", schedule: options.conflictSchedule }),
        Effect.flatten
      )
      return safely(message, decided)
    })

  /** Runs `once` unless the message already has an outcome; retries transient failures, then parks. */
  const safely = (message: CommandMessage, once: Effect.Effect<void, Conflict | PermanentFailure | InfrastructureError>): Effect.Effect<void, InfrastructureError> => {
    let attempts = 0
    const counted = Effect.suspend(() => {
      attempts++
      return once
    })
    return Effect.flatMap(store.outcome(message.msgId), (previous) => Option.isSome(previous) ? Effect.void : counted).pipe(
      // A throw (in decide, evolve, a codec) may be passing too: retried like a failure that may
      // pass, then parked with a one-line reason; its stack goes to the log, not the outcome.
      Effect.catchDefect((defect) =>
        Effect.andThen(
          Effect.logError(`${message.component} ${JSON.stringify(message.id.slice(0, 64))}: command ${message.msgId.slice(0, 64)} died`, Cause.die(defect)),
          Effect.fail(new Threw({ reason: `defect: ${describeDefect(defect)}` }))
        )),
      Effect.retry({ schedule: options.retrySchedule, while: isRetryable }),
      Effect.catch((error) => park(message, error._tag === "Threw" ? error.reason : error.message, attempts)),
      Effect.catchDefect((defect) => park(message, `defect: ${describeDefect(defect)}`, attempts))
    )
  }

  /** Stores a batch of decisions in one call, then settles each message by its result. */
  const flush = (batch: ReadonlyArray<Pending>): Effect.Effect<void, InfrastructureError> => {
    if (batch.length === 0) return Effect.void
    return Effect.matchEffect(Effect.suspend(() => commit(batch.map((pending) => pending.request))), {
      onFailure: () => {
        for (const pending of batch) forget(pending.decider, pending.target.key)
        return Effect.forEach(batch, (pending) => handleOne(pending.message), { discard: true })
      },
      onSuccess: (results) => {
        const after: Array<Effect.Effect<void, InfrastructureError>> = []
        results.forEach((result, i) => {
          const pending = batch[i]!
          if (result._tag === "Conflict") {
            forget(pending.decider, pending.target.key)
            after.push(handleOne(pending.message, result.conflict))
          } else {
            const next = stored(pending, result)
            if (next !== undefined) after.push(followUp(pending, next))
          }
        })
        return after.length === 0 ? Effect.void : Effect.forEach(after, (effect) => effect, { discard: true })
      }
    })
  }

  /**
   * The batch runner: decides message after message (steps 1 to 3) and collects the decisions,
   * one per state, into a batch that is stored in one call. A message that needs care (state
   * that does not load, a bad payload, a throwing decide) flushes the batch and goes on its own;
   * a second message on a state already in the batch flushes it first. Either way each partition
   * sees its messages one at a time, in order.
   */
  const careful = (messages: ReadonlyArray<CommandMessage>, i: number, batch: ReadonlyArray<Pending>): Effect.Effect<void, InfrastructureError> =>
    Effect.andThen(flush(batch), Effect.andThen(handleOne(messages[i]!), Effect.suspend(() => pass(messages, i + 1, [], new Set()))))

  const pass = (messages: ReadonlyArray<CommandMessage>, from: number, batch: Array<Pending>, inBatch: Set<Warm | string>): Effect.Effect<void, InfrastructureError> => {
    for (let i = from; i < messages.length; i++) {
      const message = messages[i]!
      const decider = deciders.get(message.component)
      if (decider === undefined) return careful(messages, i, batch)
      const target = decider.target(message)
      if (target instanceof PermanentFailure) return careful(messages, i, batch)
      const known = warmOf(decider, target.key)
      // A slice's state is kept per query, its order per partition: two commands of one partition
      // may read different queries, and the second must not be stored before the first is.
      const partition = target.query === undefined ? undefined : partitionKey(message)
      if ((known !== undefined && inBatch.has(known)) || (partition !== undefined && inBatch.has(partition))) {
        return Effect.andThen(flush(batch), Effect.suspend(() => pass(messages, i, [], new Set())))
      }
      let decided: Effect.Effect<Pending, PermanentFailure | InfrastructureError>
      try {
        decided = decideOn(decider, message, target)
      } catch {
        return careful(messages, i, batch)
      }
      const add = (exit: Exit.Exit<Pending, unknown>): Effect.Effect<void, InfrastructureError> | undefined => {
        if (Exit.isFailure(exit)) return careful(messages, i, batch)
        batch.push(exit.value)
        inBatch.add(exit.value.warm)
        if (partition !== undefined) inBatch.add(partition)
        return undefined
      }
      if (Exit.isExit(decided)) {
        const next = add(decided as Exit.Exit<Pending, unknown>)
        if (next !== undefined) return next
        continue
      }
      return Effect.flatMap(Effect.exit(decided), (exit) => add(exit) ?? pass(messages, i + 1, batch, inBatch))
    }
    return flush(batch)
  }

  /**
   * Processes a batch of messages (one worker's, in order) to their outcomes. Fails only when a
   * message could be neither settled nor parked; those settled are no-ops when it comes again.
   */
  const handle = (messages: ReadonlyArray<CommandMessage>): Effect.Effect<void, InfrastructureError> =>
    Effect.catchDefect(Effect.suspend(() => pass(messages, 0, [], new Set())), (defect) =>
      // Whatever broke the batch (a platform's commit dying, say), each message is run on its own:
      // those already stored are skipped by their outcome, the rest retried or parked.
      Effect.andThen(
        Effect.logError(`command batch failed, settling its ${messages.length} messages one by one: ${String(defect)}`),
        Effect.forEach(messages, (message) => {
          const decider = deciders.get(message.component)
          if (decider !== undefined) caches.get(decider)!.clear()
          return handleOne(message)
        }, { discard: true })
      ))

  /**
   * The step for one message as a synchronous call, where the store has eager operations (the
   * memory store) and every part of the step turns out synchronous: then the command is stored
   * by the time this returns, and what is returned is left to run (a snapshot to save at most).
   * `undefined`: nothing was written (the step met an effect before its commit, a conflict, or
   * a failure), and the message takes the usual way. `command` is the sender's decoding of the
   * message's command, with the same codecs, when it has one.
   */
  const handleNow = (message: CommandMessage, command?: unknown): Effect.Effect<void> | undefined => {
    if (eager === undefined) return undefined
    const decider = deciders.get(message.component)
    if (decider === undefined) return undefined
    let step: Effect.Effect<Effect.Effect<void>, unknown>
    try {
      step = attempt(decider, message, command)
    } catch {
      // A codec, an evolve or a decide that throws: the careful way retries, then parks.
      return undefined
    }
    if (!Exit.isExit(step)) return undefined
    const done = step as Exit.Exit<Effect.Effect<void>, unknown>
    return Exit.isSuccess(done) ? done.value : undefined
  }

  return { handle, handleNow }
}
