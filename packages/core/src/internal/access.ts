/**
 * Reads and the operator's actions, each through the authorization hook with its user (see
 * `Authorization`): a read model's rows (a get, a list filtered row by row, a watch that hides
 * what the user may not see), an aggregate instance's events and state, and the `Operation`
 * check the operations run first. Ids and users are held to the input limits, as commands are.
 */
import { type PubSub, Effect, Option, Result, Stream } from "effect"
import * as Authorization from "../Authorization.ts"
import { InfrastructureError, type InvalidInput, type Unauthorized, type UnknownComponent } from "../Errors.ts"
import type * as Event from "../Event.ts"
import type { EventStore } from "../EventStore.ts"
import * as Limits from "../Limits.ts"
import type { ListOptions, Page, ReadModelStore, RowWrite } from "../ReadModelStore.ts"
import type { AsUser } from "../Runtime.ts"
import * as Deciders from "./deciders.ts"
import type { Registry } from "./registry.ts"

export interface AccessDeps {
  readonly registry: Registry
  readonly store: EventStore["Service"]
  readonly rows: ReadModelStore["Service"]
  readonly authorization: Authorization.Hook
  readonly limits: Limits.Limits
  /** The change feed of each `ReadModelStream`, by name. */
  readonly changeFeeds: ReadonlyMap<string, PubSub.PubSub<RowWrite>>
}

export const make = (deps: AccessDeps) => {
  const { authorization, limits, registry, rows, store } = deps
  const open = authorization === Authorization.allowAll

  /** A string the caller gave, refused as a command's id would be. */
  const checked = (where: string, path: string, value: string | undefined): Effect.Effect<void, InvalidInput> => {
    const refused = value === undefined ? undefined : Limits.checkId(limits, where, path, value)
    return refused === undefined ? Effect.void : Effect.fail(refused)
  }
  const userOf = (options: AsUser | undefined) => options?.user ?? Authorization.anonymous

  /** Asks the hook; nothing to ask when it allows everything. */
  const allowed = (request: Authorization.Request): Effect.Effect<void, Unauthorized> => open ? Effect.void : authorization.authorize(request)

  /** Whether the hook lets the user see a row. */
  const mayRead = (user: string, readModel: string, id: string, row: unknown): Effect.Effect<boolean> =>
    open ? Effect.succeed(true) : Effect.match(authorization.authorize({ _tag: "Row", user, readModel, id, row }), { onFailure: () => false, onSuccess: () => true })

  /** An operator's action, checked for its user. */
  const operation = (options: AsUser | undefined, op: Authorization.Operation, target?: string): Effect.Effect<void, InvalidInput | Unauthorized> =>
    Effect.andThen(checked(op, "user", options?.user), allowed({ _tag: "Operation", user: userOf(options), operation: op, target }))

  const readModelFor = (name: string, user: string, id?: string) =>
    Effect.flatMap(Effect.fromResult(registry.readModel(name)), (entry) =>
      Effect.as(allowed({ _tag: "Query", user, readModel: entry.readModel.name, id }), entry))

  /** An aggregate whose instance the user may read. */
  const streamFor = (component: string, id: string, options: AsUser | undefined) =>
    Effect.andThen(
      Effect.andThen(checked(`stream of ${component}`, "id", id), checked(`stream of ${component}`, "user", options?.user)),
      Effect.flatMap(Effect.fromResult(registry.aggregate(component)), (entry) =>
        Effect.as(allowed({ _tag: "Stream", user: userOf(options), component: entry.qualified, id }), entry))
    )

  /**
   * A watcher's view of a read model's changes: a row it may see, as it changes; a row that it
   * was shown and may no longer see, as deleted; a deletion only of a row it was shown (a
   * deletion carries no row for the hook to judge).
   */
  const visibleChanges = (changes: Stream.Stream<RowWrite>, user: string, readModel: string): Stream.Stream<RowWrite> => {
    const shown = new Set<string>()
    return Stream.filterMap(
      Stream.mapEffect(changes, (write): Effect.Effect<RowWrite | undefined> => {
        if (write._tag === "Delete") return Effect.succeed(shown.delete(write.id) ? write : undefined)
        return Effect.map(mayRead(user, readModel, write.id, write.row), (may): RowWrite | undefined => {
          if (may) {
            shown.add(write.id)
            return write
          }
          return shown.delete(write.id) ? { _tag: "Delete", id: write.id } : undefined
        })
      }),
      (write) => write === undefined ? Result.failVoid : Result.succeed(write)
    )
  }

  return {
    operation,
    query: (name: string, id: string, options?: AsUser): Effect.Effect<Option.Option<unknown>, UnknownComponent | InvalidInput | Unauthorized | InfrastructureError> =>
      Effect.andThen(
        Effect.andThen(checked(`query of ${name}`, "id", id), checked(`query of ${name}`, "user", options?.user)),
        Effect.flatMap(readModelFor(name, userOf(options), id), (entry) =>
          Effect.flatMap(rows.get(entry.readModel.name, id), (row): Effect.Effect<Option.Option<unknown>> =>
            Option.isNone(row)
              ? Effect.succeed(row)
              : Effect.map(mayRead(userOf(options), entry.readModel.name, id, row.value), (may) => may ? row : Option.none())))
      ),
    list: (name: string, options: ListOptions & AsUser = {}): Effect.Effect<Page<unknown>, UnknownComponent | InvalidInput | Unauthorized | InfrastructureError> => {
      const where = `list of ${name}`
      const refused = Limits.checkPayload(limits, where, "where", options.where ?? {})
      if (refused !== undefined) return Effect.fail(refused)
      return Effect.andThen(
        Effect.andThen(checked(where, "after", options.after), checked(where, "user", options.user)),
        Effect.flatMap(readModelFor(name, userOf(options)), (entry) =>
          Effect.flatMap(rows.list(entry.readModel.name, options), (page) =>
            open
              ? Effect.succeed(page)
              : Effect.map(
                Effect.filter(page.items, (item) => mayRead(userOf(options), entry.readModel.name, item.id, item.row), { concurrency: 8 }),
                (items) => ({ ...page, items })
              )))
      )
    },
    readStream: (component: string, id: string, options?: AsUser): Effect.Effect<ReadonlyArray<Event.Envelope>, UnknownComponent | InvalidInput | Unauthorized | InfrastructureError> =>
      Effect.flatMap(streamFor(component, id, options), (entry) => store.readStream(entry.qualified, id)),
    state: (component: string, id: string, options?: AsUser) =>
      Effect.flatMap(streamFor(component, id, options), (entry) =>
        // The state as the processor loads it: from the snapshot, then the stream after it.
        Effect.map(
          Effect.catchTag(Deciders.loadAggregate(registry, entry, store, id), "PermanentFailure", (failure) =>
            Effect.fail(new InfrastructureError({ service: "Runtime", operation: "state", detail: `${entry.qualified} ${id}: ${failure.reason}`, retryable: false }))),
          (warm) => ({ version: warm.at, state: Result.getOrElse(entry.codecs.encodeState(warm.state), () => warm.state) })
        )),
    watch: (name: string, options?: AsUser): Stream.Stream<RowWrite, UnknownComponent | InvalidInput | Unauthorized> =>
      Stream.unwrap(Effect.flatMap(Effect.fromResult(registry.readModel(name)), (entry) => {
        const user = userOf(options)
        const feed = deps.changeFeeds.get(entry.readModel.name)
        const changes = feed === undefined ? Stream.empty : Stream.fromPubSub(feed)
        return Effect.as(
          Effect.andThen(checked(`watch of ${name}`, "user", options?.user), allowed({ _tag: "Watch", user, readModel: entry.readModel.name })),
          open ? changes : visibleChanges(changes, user, entry.readModel.name)
        )
      }))
  }
}
