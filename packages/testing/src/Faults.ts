/**
 * Fault injection as decorators of a platform's services (as Emmett's `wrapEventStore`): tests
 * wrap any platform's layer the same way (memory, PostgreSQL, AWS) and switch faults on to see
 * the runtime survive duplicate deliveries, failing appends and parks, and slow delivery. No
 * production path reads a switch: a decorated service is simply another implementation of its
 * interface (and so the memory platform's in-process shortcuts, which are keyed to its own
 * service objects, stay out of the way).
 *
 * @since 0.1.0
 */
import { Checkpoints, CommandTopic, DeadLetters, Errors, EventStore, ReadModelStore, type Runtime } from "@reventless/core"
import { Context, Effect, Layer } from "effect"

/**
 * Mutable switches, read by the decorators on every operation.
 *
 * @since 0.1.0
 * @category models
 */
export interface FaultSwitches {
  /** The next this many commits fail with a retryable infrastructure error (nothing written). */
  failAppends: number
  /** The next this many dead letters fail to be parked (the store behind them is down). */
  failParks: number
  /** Every command is published twice, the copy as a redelivery. */
  duplicateCommands: boolean
  /**
   * Every page of events is delivered to its consumer twice: every other checkpoint write finds
   * the consumer's lease lost (nothing written), so the consumer stops and starts again from its
   * durable checkpoint, as after a failover, and handles the page again.
   */
  duplicateEvents: boolean
  /** Milliseconds to wait before each batch of commands is handled. */
  commandDelayMillis: number
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
  commandDelayMillis: 0
})

/**
 * The switches of a decorated platform, for a test to flip while it runs.
 *
 * @since 0.1.0
 * @category services
 */
export class Faults extends Context.Service<Faults, FaultSwitches>()("@reventless/testing/Faults") {}

const injected = (service: string, operation: string) => new Errors.InfrastructureError({ service, operation, detail: "injected fault", retryable: true })

/**
 * Commits fail while `failAppends` counts down.
 *
 * @since 0.1.0
 * @category decorators
 */
export const wrapEventStore = (switches: FaultSwitches) => (store: EventStore.EventStore["Service"]): EventStore.EventStore["Service"] =>
  EventStore.EventStore.of({
    ...store,
    commit: (requests) =>
      Effect.suspend(() => {
        if (switches.failAppends <= 0) return store.commit(requests)
        switches.failAppends--
        return Effect.fail(injected("EventStore", "commit"))
      })
  })

/**
 * Parks fail while `failParks` counts down.
 *
 * @since 0.1.0
 * @category decorators
 */
export const wrapDeadLetters = (switches: FaultSwitches) => (letters: DeadLetters.DeadLetters["Service"]): DeadLetters.DeadLetters["Service"] =>
  DeadLetters.DeadLetters.of({
    ...letters,
    park: (letter) =>
      Effect.suspend(() => {
        if (switches.failParks <= 0) return letters.park(letter)
        switches.failParks--
        return Effect.fail(injected("DeadLetters", "park"))
      })
  })

/**
 * Publishes every command twice (`duplicateCommands`); delays each batch (`commandDelayMillis`).
 *
 * @since 0.1.0
 * @category decorators
 */
export const wrapCommandTopic = (switches: FaultSwitches) => (topic: CommandTopic.CommandTopic["Service"]): CommandTopic.CommandTopic["Service"] =>
  CommandTopic.CommandTopic.of({
    ...topic,
    // The copy goes as a redelivery, which a transport that drops repeated msgIds itself (SQS
    // FIFO) lets through: the processor has to meet it.
    publish: (messages, options) =>
      switches.duplicateCommands
        ? Effect.andThen(topic.publish(messages, options), topic.publish(messages, { ...options, redelivery: true }))
        : topic.publish(messages, options),
    consume: (options) =>
      topic.consume({
        ...options,
        handle: (messages) =>
          switches.commandDelayMillis > 0 ? Effect.andThen(Effect.sleep(switches.commandDelayMillis), options.handle(messages)) : options.handle(messages)
      })
  })

/**
 * Every other checkpoint write of a consumer (`duplicateEvents`) finds the lease lost: the first
 * after each that passed, so each page is handled twice and then goes through, whatever position
 * it ends at.
 */
const everyOtherWriteLost = (switches: FaultSwitches) => {
  const refusedLast = new Set<string>()
  return (lease: { readonly name: string; readonly owner: string; readonly epoch: number }) => {
    if (!switches.duplicateEvents) return undefined
    if (refusedLast.delete(lease.name)) return undefined
    refusedLast.add(lease.name)
    return new Errors.LeaseLost({ name: lease.name, owner: lease.owner, epoch: lease.epoch })
  }
}

/**
 * Consumers' checkpoints: every other write is refused (`duplicateEvents`).
 *
 * @since 0.1.0
 * @category decorators
 */
export const wrapCheckpoints = (switches: FaultSwitches) => (checkpoints: Checkpoints.Checkpoints["Service"]): Checkpoints.Checkpoints["Service"] => {
  const lost = everyOtherWriteLost(switches)
  return Checkpoints.Checkpoints.of({
    ...checkpoints,
    save: (lease, position) => Effect.suspend(() => lost(lease) ?? checkpoints.save(lease, position))
  })
}

/**
 * Projections' commits (rows with their checkpoint): every other one is refused
 * (`duplicateEvents`).
 *
 * @since 0.1.0
 * @category decorators
 */
export const wrapReadModelStore = (switches: FaultSwitches) => (rows: ReadModelStore.ReadModelStore["Service"]): ReadModelStore.ReadModelStore["Service"] => {
  const lost = everyOtherWriteLost(switches)
  return ReadModelStore.ReadModelStore.of({
    ...rows,
    commit: (request) => Effect.suspend(() => lost(request.checkpoint.lease) ?? rows.commit(request))
  })
}

/**
 * A platform with every decorator applied, and its switches (`Faults`) for the test to flip;
 * `faults` sets them at the start.
 *
 * @since 0.1.0
 * @category layers
 */
export const inject = (faults: Partial<FaultSwitches> = {}) =>
<E, R>(platform: Layer.Layer<Runtime.Platform, E, R>): Layer.Layer<Runtime.Platform | Faults, E, R> =>
  Layer.effectContext(Effect.gen(function*() {
    const context = yield* Layer.build(platform)
    const switches: FaultSwitches = { ...none(), ...faults }
    return context.pipe(
      Context.add(EventStore.EventStore, wrapEventStore(switches)(Context.get(context, EventStore.EventStore))),
      Context.add(DeadLetters.DeadLetters, wrapDeadLetters(switches)(Context.get(context, DeadLetters.DeadLetters))),
      Context.add(CommandTopic.CommandTopic, wrapCommandTopic(switches)(Context.get(context, CommandTopic.CommandTopic))),
      Context.add(Checkpoints.Checkpoints, wrapCheckpoints(switches)(Context.get(context, Checkpoints.Checkpoints))),
      Context.add(ReadModelStore.ReadModelStore, wrapReadModelStore(switches)(Context.get(context, ReadModelStore.ReadModelStore))),
      Context.add(Faults, switches)
    )
  }))
