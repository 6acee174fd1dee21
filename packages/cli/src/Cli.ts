/**
 * The `reventless` command for one or more apps: `demo` runs an app's story, `run
 * <scenario.jsonl>` runs a scenario file against an app, on a platform chosen with `--platform`;
 * `--app` picks the app (the first by default). A binary is `Cli.main([app, ...])`.
 *
 * @since 0.1.0
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import type { BlobStore, EventStore, Runtime } from "@reventless/core"
import { Console, Effect, type Layer, Option, Schema } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as Scenario from "./Scenario.ts"

/**
 * What the CLI needs of an app: the id `--app` selects it by, its platforms by name (the first is
 * the default), how to run it on one, and its demo.
 *
 * @since 0.1.0
 * @category models
 */
export interface App<R> {
  readonly id: string
  readonly name: string
  readonly version: string
  readonly platforms: Readonly<Record<string, Layer.Layer<Runtime.Platform, unknown>>>
  readonly layer: (platform: Layer.Layer<Runtime.Platform, unknown>) => Layer.Layer<R | Runtime.Runtime | Runtime.Platform, unknown>
  readonly demo: Effect.Effect<void, unknown, R | Runtime.Runtime | Runtime.Platform>
}

/**
 * `--platform` names a platform the chosen app does not run on.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownPlatform extends Schema.TaggedError<UnknownPlatform>()("UnknownPlatform", {
  app: Schema.String,
  platform: Schema.String,
  known: Schema.Array(Schema.String)
}) {
  override get message() {
    return `${this.app} does not run on "${this.platform}"; it runs on ${this.known.join(", ")}`
  }
}

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

/** What the scenario runner needs from the app's layer. */
type ScenarioServices = Runtime.Runtime | BlobStore.BlobStore | EventStore.EventStore

/** An app with its own services hidden: it runs a demo, or a scenario program, on a platform. */
interface Runnable {
  readonly id: string
  readonly name: string
  readonly platforms: Readonly<Record<string, Layer.Layer<Runtime.Platform, unknown>>>
  readonly demo: (platform: Layer.Layer<Runtime.Platform, unknown>) => Effect.Effect<void, unknown>
  readonly run: <E>(platform: Layer.Layer<Runtime.Platform, unknown>, program: Effect.Effect<void, E, ScenarioServices>) => Effect.Effect<void, unknown>
}

const runnable = <R>(app: App<R>): Runnable => ({
  id: app.id,
  name: app.name,
  platforms: app.platforms,
  demo: (platform) => Effect.provide(app.demo, app.layer(platform)),
  run: (platform, program) => Effect.provide(program, app.layer(platform))
})

/**
 * Apps of any services: one per element of `Rs`.
 *
 * @since 0.1.0
 * @category models
 */
export type Apps<Rs extends ReadonlyArray<unknown>> = { readonly [K in keyof Rs]: App<Rs[K]> }

/**
 * The command tree for `apps` (at least one).
 *
 * @since 0.1.0
 * @category constructors
 */
export const command = <Rs extends readonly [unknown, ...Array<unknown>]>(apps: Apps<Rs>) => {
  const byId = new Map((apps as ReadonlyArray<App<unknown>>).map((app) => [app.id, runnable(app)]))
  const appIds = [...byId.keys()]
  const app = Flag.Literals("app", appIds).pipe(
    Flag.withDefault(appIds[0]!),
    Flag.withDescription(`the app: ${appIds.join(", ")}`)
  )
  const platformNames = [...new Set([...byId.values()].flatMap((app) => Object.keys(app.platforms)))]
  const platform = Flag.Literals("platform", platformNames).pipe(
    Flag.optional,
    Flag.withDescription(`where the app runs: ${platformNames.join(", ")} (default: the app's first)`)
  )
  const on = (id: string, name: Option.Option<string>, effect: (app: Runnable, platform: Layer.Layer<Runtime.Platform, unknown>) => Effect.Effect<void, unknown>) =>
    Effect.suspend(() => {
      const chosen = byId.get(id)!
      const platformName = Option.getOrElse(name, () => Object.keys(chosen.platforms)[0]!)
      const layer = chosen.platforms[platformName]
      return layer === undefined
        ? Effect.fail(new UnknownPlatform({ app: chosen.id, platform: platformName, known: Object.keys(chosen.platforms) }))
        : effect(chosen, layer)
    })

  const demo = Command.make("demo", { app, platform }, ({ app, platform }) => on(app, platform, (chosen, layer) => chosen.demo(layer))).pipe(
    Command.withDescription(`runs an app's story and prints its read models (${appIds.join(", ")})`)
  )
  const run = Command.make(
    "run",
    {
      app,
      platform,
      format: Flag.Literals("format", ["json", "table"]).pipe(
        Flag.withDefault("json"),
        Flag.withDescription("json: one result line per scenario line; table: queries and streams as tables")
      ),
      file: Argument.String("scenario").pipe(Argument.withDescription("a .jsonl file: send, upload, settle, query and events lines"))
    },
    ({ app, file, format, platform }) =>
      on(app, platform, (chosen, layer) => chosen.run(layer, Scenario.run(file, print(format)) as Effect.Effect<void, Scenario.ScenarioError, ScenarioServices>))
  ).pipe(Command.withDescription("runs a scenario file, one JSON result per line; exits non-zero when the file is malformed"))

  return Command.make("reventless").pipe(
    Command.withDescription(`${[...byId.values()].map((app) => app.name).join(", ")} on Reventless`),
    Command.withSubcommands([demo, run])
  )
}

/**
 * Runs the command line of `apps` in this process (the entry point of a binary).
 *
 * @since 0.1.0
 * @category running
 */
export const main = <Rs extends readonly [unknown, ...Array<unknown>]>(apps: Apps<Rs>): void =>
  Command.run(command(apps), { version: (apps[0] as App<unknown>).version }).pipe(
    Effect.provide(NodeServices.layer),
    NodeRuntime.runMain
  )
