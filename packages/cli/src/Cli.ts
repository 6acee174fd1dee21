/**
 * The `reventless` command for one or more apps: `demo` runs an app's story, `run
 * <scenario.jsonl>` a scenario file; `send`, `query`, `events` and `dlq` do one thing each;
 * `status` shows who runs what and how far behind it is; `worker` runs the app until stopped;
 * `migrate` prepares a platform's storage. `--app` picks the app (the first by default),
 * `--platform` where it runs (the first platform by default), `--database-url` the database of
 * platforms that have one. A binary is `Cli.main({ apps, platforms })`.
 *
 * @since 0.1.0
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { type BlobStore, type DeadLetters, type Plugin, Runtime } from "@reventless/core"
import { resolve } from "node:path"
import { Console, Effect, type Layer, Option, Runtime as EffectRuntime, Schema } from "effect"
import { Argument, CliError, Command, Flag } from "effect/cli"
import * as Scenario from "./Scenario.ts"

/**
 * What the CLI needs of an app: the id `--app` selects it by, how to run it on a platform, and
 * its demo.
 *
 * @since 0.1.0
 * @category models
 */
export interface App<R> {
  readonly id: string
  readonly name: string
  readonly version: string
  /** The plugins it runs, for tools that work on the graph (provisioning). */
  readonly plugins: ReadonlyArray<Plugin.Plugin<R>>
  /** The app's runtime on `platform`; `runtime` carries the CLI's runtime options (`background: false` for operator commands). */
  readonly layer: (
    platform: Layer.Layer<Runtime.Platform, unknown>,
    runtime?: { readonly background?: boolean | undefined }
  ) => Layer.Layer<R | Runtime.Runtime | Runtime.Platform, unknown>
  readonly demo: Effect.Effect<void, unknown, R | Runtime.Runtime | Runtime.Platform>
}

/**
 * What a platform is built from on the command line.
 *
 * @since 0.1.0
 * @category models
 */
export interface PlatformConfig {
  /** The app's id, to name its database or directory. */
  readonly app: string
  /** `--database-url`, when given. */
  readonly databaseUrl: string | undefined
  /** `--endpoint`, when given: the cloud API of platforms that talk to one (an emulator such as fauxqs). */
  readonly endpoint: string | undefined
  /**
   * `--prefix`: the names of the platform's cloud resources start with it (default
   * `reventless-<app>`, so two apps never share a queue).
   */
  readonly prefix: string
  /** Where local data persists between runs: `.reventless/` in the working directory. */
  readonly dataDir: string
  /** For the demo: start from empty storage of its own, not the app's data. */
  readonly fresh: boolean
}

/**
 * The cloud resource prefix of an app when `--prefix` is not given.
 *
 * @since 0.1.0
 * @category models
 */
export const defaultPrefix = (app: string): string => `reventless-${app}`

/**
 * The platforms a binary offers, by `--platform` name; the first is the default.
 *
 * @since 0.1.0
 * @category models
 */
export type Platforms = Readonly<Record<string, (config: PlatformConfig) => Layer.Layer<Runtime.Platform, unknown>>>

/** A cell for tables: arrays and objects as one readable string. */
const cell = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(cell).join(", ")
    : typeof value === "object" && value !== null
    ? Object.values(value).map(cell).join(", ")
    : value

/**
 * Prints a result: one JSON line, or with `table` a query's rows or a stream's events as a table.
 *
 * @since 0.1.0
 * @category output
 */
export const print = (format: "json" | "table") => (output: Scenario.Output, step: Scenario.Step): Effect.Effect<void> => {
  const rows = (output.rows ?? output.events ?? (output.row === undefined ? undefined : [output.row])) as ReadonlyArray<object> | undefined
  if (format === "table" && output.ok && rows !== undefined && (step.kind === "query" || step.kind === "events")) {
    return Effect.andThen(
      Console.log(`line ${output.line}: ${step.kind === "query" ? step.step.query : `${step.step.events} ${step.step.id}`}`),
      Console.table(rows.map((row) => Object.fromEntries(Object.entries(row ?? {}).map(([key, value]) => [key, cell(value)]))))
    )
  }
  return Console.log(JSON.stringify(output))
}

/**
 * What a demo prints: notes, then tables (read models: `{ id, row }` items), then the consumers'
 * positions and the number of dead letters.
 *
 * @since 0.1.0
 * @category models
 */
export interface Report {
  readonly notes: ReadonlyArray<string>
  readonly tables: ReadonlyArray<{ readonly name: string; readonly rows: ReadonlyArray<{ readonly id: string; readonly row: unknown }> }>
  readonly consumers: ReadonlyArray<{ readonly name: string; readonly position: number }>
  readonly deadLetters: ReadonlyArray<unknown>
}

/**
 * Prints a demo's report.
 *
 * @since 0.1.0
 * @category output
 */
export const printReport = (report: Report): Effect.Effect<void> =>
  Effect.gen(function*() {
    for (const line of report.notes) yield* Console.log(line)
    for (const { name, rows } of report.tables) {
      yield* Console.log(`\n${name}`)
      yield* Console.table(rows.map(({ id, row }) => Object.fromEntries([["id", id], ...Object.entries(row as object).map(([key, value]) => [key, cell(value)])])))
    }
    yield* Console.log(`\nconsumers: ${report.consumers.map((consumer) => `${consumer.name}@${consumer.position}`).join(", ")}`)
    yield* Console.log(`dead letters: ${report.deadLetters.length}`)
  })

const holder = (owner: Option.Option<Runtime.Holder>) => Option.match(owner, { onNone: () => null, onSome: ({ host, pid }) => `${host}:${pid}` })

/**
 * `Runtime.status` as plain JSON (options as values or null).
 *
 * @since 0.1.0
 * @category output
 */
export const statusJson = (status: Runtime.Status) => ({
  head: status.head,
  deadLetters: status.deadLetters,
  consumers: status.consumers.map((consumer) => ({
    name: consumer.name,
    owner: holder(consumer.owner),
    checkpoint: consumer.checkpoint,
    behind: consumer.behind,
    lagSeconds: consumer.lagSeconds,
    handled: Option.getOrNull(consumer.handled),
    parked: consumer.parked,
    lastError: Option.getOrNull(consumer.lastError)
  })),
  work: status.work.map((work) => ({ name: work.name, owner: holder(work.owner), lastError: Option.getOrNull(work.lastError) })),
  commands: status.commands.map(({ host, partition, pid }) => ({ partition, owner: `${host}:${pid}` }))
})

const pad = (rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
  return rows.map((row) => row.map((text, column) => text.padEnd(widths[column]!)).join("  ").trimEnd()).join("\n")
}

/**
 * `Runtime.status` as text tables: the consumers, the other work, the command shards by owner.
 *
 * @since 0.1.0
 * @category output
 */
export const statusTable = (status: Runtime.Status): string => {
  const json = statusJson(status)
  const consumers = pad([
    ["consumer", "owner", "checkpoint", "behind", "lag s", "handled", "parked", "last error"],
    ...json.consumers.map((c) => [c.name, c.owner ?? "-", String(c.checkpoint), String(c.behind), c.lagSeconds.toFixed(1), c.handled === null ? "-" : String(c.handled), String(c.parked), c.lastError ?? ""])
  ])
  const work = pad([["work", "owner", "last error"], ...json.work.map((w) => [w.name, w.owner ?? "-", w.lastError ?? ""])])
  const byOwner = new Map<string, number>()
  for (const shard of json.commands) byOwner.set(shard.owner, (byOwner.get(shard.owner) ?? 0) + 1)
  const shards = byOwner.size === 0 ? "command shards: none held (no worker consumes, or the transport assigns them, as SQS does)" : `command shards: ${[...byOwner].map(([owner, n]) => `${owner} ${n}`).join(", ")}`
  return `head ${json.head}, dead letters ${json.deadLetters}\n\n${consumers}\n\n${work}\n\n${shards}`
}

/**
 * A rebuild's progress as one JSON object (the ETA as seconds or null).
 *
 * @since 0.1.0
 * @category output
 */
export const progressJson = (progress: Runtime.RebuildProgress) => ({
  readModel: progress.readModel,
  phase: progress.phase,
  position: progress.position,
  head: progress.head,
  eventsPerSecond: Math.round(progress.eventsPerSecond),
  etaSeconds: Option.match(progress.etaSeconds, { onNone: () => null, onSome: (seconds) => Math.ceil(seconds) })
})

/** A rebuild's progress on a terminal: one line, redrawn. */
const progressBar = (progress: Runtime.RebuildProgress): Effect.Effect<void> =>
  Effect.sync(() => {
    const share = progress.head === 0 ? 1 : Math.min(1, progress.position / progress.head)
    const width = 30
    const bar = "#".repeat(Math.round(share * width)).padEnd(width, "-")
    const eta = Option.match(progress.etaSeconds, { onNone: () => "", onSome: (seconds) => `, ETA ${Math.ceil(seconds)} s` })
    process.stderr.write(`\r${progress.readModel} [${bar}] ${progress.position.toLocaleString("en")} / ${progress.head.toLocaleString("en")} events, ${Math.round(progress.eventsPerSecond).toLocaleString("en")} events/s${eta} (${progress.phase})\x1b[K`)
  })

/**
 * The exit codes of the one-shot commands (`send`, `query`, `events`), so that a script can tell
 * what became of its request: 0 it was done; 1 it was refused before anything was written (bad
 * input, an unknown component, unauthorized, a msgId in use; also any usage error); 2 a business
 * rule rejected the command; 3 the command failed and was parked as a dead letter; 4 the
 * infrastructure is unavailable (try again).
 *
 * @since 0.1.0
 * @category models
 */
export const exitCodes = { refused: 1, rejected: 2, failed: 3, unavailable: 4 } as const

/**
 * A one-shot command whose result (printed already) was not a success: it exits with its code.
 *
 * @since 0.1.0
 * @category errors
 */
export class StepFailed extends Schema.TaggedError<StepFailed>()("StepFailed", {
  line: Schema.Int,
  outcome: Schema.Literals(["refused", "rejected", "failed", "unavailable"]),
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.outcome}: ${this.reason}`
  }
  override get [CliError.userMessage](): string {
    return `${this.outcome} (exit ${exitCodes[this.outcome]}): ${this.reason}`
  }
  override get [EffectRuntime.errorExitCode](): number {
    return exitCodes[this.outcome]
  }
}

/** What a printed result that is not a success means for the exit code. */
const stepFailure = (output: Scenario.Output): StepFailed | undefined => {
  if (output.ok) return undefined
  const error = output.error as { readonly _tag?: string; readonly message?: string; readonly retryable?: boolean } | undefined
  if (output.rejected !== undefined) return new StepFailed({ line: output.line, outcome: "rejected", reason: "a business rule rejected the command" })
  // An infrastructure error that retrying cannot fix (a store refused the value) is a refusal.
  const outcome = error?._tag === "CommandFailed" ? "failed" : error?._tag === "InfrastructureError" && error.retryable === true ? "unavailable" : "refused"
  return new StepFailed({ line: output.line, outcome, reason: (error?.message ?? "see the result").split("\n", 1)[0]! })
}

/** What the one-shot commands and the scenario runner need from the app's layer. */
type Services = Runtime.Runtime | BlobStore.BlobStore

/** An app with its own services hidden: it runs its demo, or any program, on a platform. */
interface Runnable {
  readonly id: string
  readonly name: string
  readonly demo: (platform: Layer.Layer<Runtime.Platform, unknown>) => Effect.Effect<void, unknown>
  readonly run: <E>(platform: Layer.Layer<Runtime.Platform, unknown>, program: Effect.Effect<void, E, Services>, background?: boolean) => Effect.Effect<void, unknown>
}

const runnable = <R>(app: App<R>): Runnable => ({
  id: app.id,
  name: app.name,
  demo: (platform) => Effect.provide(app.demo, app.layer(platform)),
  run: (platform, program, background = true) => Effect.provide(program, app.layer(platform, { background }))
})

/**
 * Apps of any services: one per element of `Rs`.
 *
 * @since 0.1.0
 * @category models
 */
export type Apps<Rs extends ReadonlyArray<unknown>> = { readonly [K in keyof Rs]: App<Rs[K]> }

/**
 * One JSON line per letter, the operator's view of the dead letters.
 */
const letterLine = (letter: DeadLetters.DeadLetter) => JSON.stringify(letter)

/**
 * A binary's apps (at least one), platforms (at least one, the first the default), and commands
 * of its own (a platform's tools, such as `aws provision`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<Rs extends readonly [unknown, ...Array<unknown>]> {
  readonly apps: Apps<Rs>
  readonly platforms: Platforms
  readonly commands?: ReadonlyArray<Command.Command<string, never, {}, unknown>> | undefined
}

/**
 * The command tree for `apps` on `platforms`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const command = <Rs extends readonly [unknown, ...Array<unknown>]>(options: Options<Rs>) => {
  const byId = new Map((options.apps as ReadonlyArray<App<unknown>>).map((app) => [app.id, runnable(app)]))
  const appIds = [...byId.keys()]
  const platformNames = Object.keys(options.platforms)
  const shared = {
    app: Flag.Literals("app", appIds).pipe(Flag.withDefault(appIds[0]!), Flag.withDescription(`the app: ${appIds.join(", ")}`)),
    platform: Flag.Literals("platform", platformNames).pipe(
      Flag.withDefault(platformNames[0]!),
      Flag.withDescription(`where the app runs: ${platformNames.join(", ")}`)
    ),
    databaseUrl: Flag.String("database-url").pipe(
      Flag.optional,
      Flag.withDescription("the database of platforms that have one (default: an embedded server with its data in .reventless/)")
    ),
    endpoint: Flag.String("endpoint").pipe(
      Flag.optional,
      Flag.withDescription("the cloud API of platforms that talk to one, e.g. an emulator (aws: fauxqs at http://127.0.0.1:4566)")
    ),
    prefix: Flag.String("prefix").pipe(
      Flag.optional,
      Flag.withDescription("the start of every cloud resource's name (aws: queues, topics, buckets; default reventless-<app>)")
    )
  }
  const user = Flag.String("user").pipe(
    Flag.optional,
    Flag.withDescription("who this is for: the app's authorization hook decides with it (default anonymous); a claim, for trusted operators")
  )
  const userOption = (flag: Option.Option<string>) => Option.match(flag, { onNone: () => ({}), onSome: (name) => ({ user: name }) })
  const format = Flag.Literals("format", ["json", "table"]).pipe(
    Flag.withDefault("json"),
    Flag.withDescription("json: one result line per step; table: queries and streams as tables")
  )
  type Shared = {
    readonly app: string
    readonly platform: string
    readonly databaseUrl: Option.Option<string>
    readonly endpoint: Option.Option<string>
    readonly prefix: Option.Option<string>
  }
  const platformOf = (flags: Shared, fresh = false) =>
    options.platforms[flags.platform]!({
      app: flags.app,
      databaseUrl: Option.getOrUndefined(flags.databaseUrl),
      endpoint: Option.getOrUndefined(flags.endpoint),
      prefix: Option.getOrElse(flags.prefix, () => defaultPrefix(flags.app)),
      dataDir: resolve(".reventless"),
      fresh
    })
  const runOn = <E>(flags: Shared, program: Effect.Effect<void, E, Services>) => Effect.suspend(() => byId.get(flags.app)!.run(platformOf(flags), program))
  /**
   * An operator's command: a runtime that does no background work, so that it neither takes
   * work from the deployment's workers nor meets what it operates on (a parked event) itself.
   */
  const operate = <E>(flags: Shared, program: Effect.Effect<void, E, Services>) =>
    Effect.suspend(() => byId.get(flags.app)!.run(platformOf(flags), program, false))
  /**
   * One step, given on the command line, run like a scenario line. The process is a worker while
   * it runs: it settles (consumers caught up, TODO lists swept) before a read and after a send, so
   * that separate invocations see each other's effects.
   */
  const step = (flags: Shared & { readonly format: "json" | "table" }, line: object) =>
    runOn(
      flags,
      Effect.gen(function*() {
        const steps = yield* Effect.fromResult(Scenario.parse(JSON.stringify(line), "arguments"))
        yield* Runtime.settle
        let failed: StepFailed | undefined
        yield* Scenario.runSteps(steps, "arguments", process.cwd(), (output, step) =>
          Effect.andThen(print(flags.format)(output, step), Effect.sync(() => void (failed ??= stepFailure(output)))))
        yield* Runtime.settle
        if (failed !== undefined) return yield* failed
      })
    )

  const demo = Command.make("demo", shared, (flags) => Effect.suspend(() => byId.get(flags.app)!.demo(platformOf(flags, true)))).pipe(
    Command.withDescription(`runs an app's story and prints its read models (${appIds.join(", ")})`)
  )
  const run = Command.make(
    "run",
    { ...shared, format, file: Argument.String("scenario").pipe(Argument.withDescription("a .jsonl file: send, receive, upload, settle, query and events lines")) },
    (flags) => runOn(flags, Scenario.run(flags.file, print(flags.format)))
  ).pipe(Command.withDescription("runs a scenario file, one JSON result per line; exits non-zero when the file is malformed"))
  const send = Command.make(
    "send",
    {
      ...shared,
      format,
      component: Argument.String("component").pipe(Argument.withDescription("Plugin.Component: an aggregate or a state-change slice")),
      id: Argument.String("id").pipe(Argument.withDescription("the aggregate instance; - for a slice (it routes by its command)")),
      json: Argument.String("command").pipe(Argument.withDescription("the command as JSON, with its _tag")),
      msgId: Flag.String("msg-id").pipe(Flag.optional, Flag.withDescription("a message id, so that sending again is a no-op")),
      user
    },
    (flags) =>
      Effect.suspend(() => {
        const parsed = Effect.try({ try: () => JSON.parse(flags.json) as unknown, catch: (error) => new Scenario.ScenarioError({ file: "arguments", detail: `the command is not JSON: ${(error as Error).message}` }) })
        return Effect.flatMap(parsed, (commandJson) =>
          step(flags, {
            send: flags.component,
            ...(flags.id === "-" ? {} : { id: flags.id }),
            command: commandJson,
            ...Option.match(flags.msgId, { onNone: () => ({}), onSome: (msgId) => ({ msgId }) }),
            ...userOption(flags.user)
          }))
      })
  ).pipe(Command.withDescription("sends one command and prints its outcome"))
  const query = Command.make(
    "query",
    {
      ...shared,
      format,
      readModel: Argument.String("read-model"),
      id: Argument.String("id").pipe(Argument.optional),
      user
    },
    (flags) => step(flags, { query: flags.readModel, ...Option.match(flags.id, { onNone: () => ({}), onSome: (id) => ({ id }) }), ...userOption(flags.user) })
  ).pipe(Command.withDescription("prints a read model's row, or its rows"))
  const events = Command.make(
    "events",
    { ...shared, format, component: Argument.String("component"), id: Argument.String("id"), user },
    (flags) => step(flags, { events: flags.component, id: flags.id, ...userOption(flags.user) })
  ).pipe(Command.withDescription("prints an aggregate instance's events"))
  const dlq = Command.make(
    "dlq",
    {
      ...shared,
      action: Argument.Literals("action", ["list", "replay", "skip"]),
      id: Argument.String("id").pipe(Argument.optional, Argument.withDescription("the letter, for replay and skip")),
      user
    },
    (flags) =>
      operate(flags, Effect.gen(function*() {
        const runtime = yield* Runtime.Runtime
        if (flags.action === "list") {
          for (const letter of yield* runtime.deadLetters.list(userOption(flags.user))) yield* Console.log(letterLine(letter))
          return
        }
        if (Option.isNone(flags.id)) return yield* new Scenario.ScenarioError({ file: "arguments", detail: `dlq ${flags.action} needs the letter's id` })
        const letter = yield* (flags.action === "replay"
          ? runtime.deadLetters.replay(flags.id.value, userOption(flags.user))
          : runtime.deadLetters.skip(flags.id.value, userOption(flags.user)))
        yield* Console.log(JSON.stringify({ [flags.action === "replay" ? "replayed" : "skipped"]: letter.id }))
      }))
  ).pipe(Command.withDescription("lists the dead letters, or replays or skips one (the workers carry it out)"))
  const status = Command.make(
    "status",
    {
      ...shared,
      watch: Flag.Boolean("watch").pipe(Flag.withDefault(false), Flag.withDescription("refresh every second until interrupted")),
      json: Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription("one JSON object per refresh, for scripts")),
      user
    },
    (flags) =>
      operate(flags, Effect.gen(function*() {
        const runtime = yield* Runtime.Runtime
        const once = Effect.flatMap(runtime.status(userOption(flags.user)), (current) =>
          flags.json ? Console.log(JSON.stringify(statusJson(current))) : Console.log(`${flags.watch ? "\x1b[2J\x1b[H" : ""}${statusTable(current)}`))
        if (!flags.watch) return yield* once
        return yield* Effect.forever(Effect.andThen(once, Effect.sleep("1 second")))
      }))
  ).pipe(Command.withDescription("shows who runs each consumer and how far behind it is, and who holds each command shard"))
  const rebuild = Command.make(
    "rebuild",
    { ...shared, readModel: Argument.String("read-model").pipe(Argument.withDescription("the read model to rebuild, e.g. Orders")), user },
    (flags) =>
      operate(flags, Effect.gen(function*() {
        const runtime = yield* Runtime.Runtime
        const tty = process.stderr.isTTY === true
        const done = yield* runtime.rebuild(flags.readModel, { ...userOption(flags.user), onProgress: (progress) => tty ? progressBar(progress) : Console.log(JSON.stringify(progressJson(progress))) })
        if (tty) yield* Effect.sync(() => process.stderr.write("\n"))
        yield* Console.log(JSON.stringify({ rebuilt: done.readModel, position: done.position, from: done.from }))
      }))
  ).pipe(Command.withDescription(
    "rebuilds a read model from the start of the log with this version's projection, the current rows answering meanwhile, then swaps the new rows in; resumes after a crash"
  ))
  const projections = Command.make("projections").pipe(
    Command.withDescription("work on read models: rebuild"),
    Command.withSubcommands([rebuild])
  )
  const worker = Command.make("worker", shared, (flags) =>
    runOn(flags, Effect.andThen(Console.log(JSON.stringify({ worker: process.pid, app: flags.app, platform: flags.platform })), Effect.never))).pipe(
      Command.withDescription(
        "runs the app's commands, consumers, TODO sweeps, tasks and scheduler until stopped (SIGINT/SIGTERM hands its work over at once); several share one database"
      )
    )
  const migrate = Command.make("migrate", shared, (flags) => runOn(flags, Console.log(JSON.stringify({ migrated: flags.platform, app: flags.app })))).pipe(
    Command.withDescription("prepares the platform's storage (applies database migrations) and exits")
  )

  return Command.make("reventless").pipe(
    Command.withDescription(`${[...byId.values()].map((app) => app.name).join(", ")} on Reventless`),
    Command.withSubcommands([demo, run, send, query, events, dlq, status, projections, worker, migrate, ...(options.commands ?? [])])
  )
}

/**
 * Runs the command line of `apps` on `platforms` in this process (the entry point of a binary).
 *
 * @since 0.1.0
 * @category running
 */
export const main = <Rs extends readonly [unknown, ...Array<unknown>]>(options: Options<Rs>): void =>
  Command.run(command(options), { version: (options.apps[0] as App<unknown>).version }).pipe(
    Effect.provide(NodeServices.layer),
    NodeRuntime.runMain
  )
