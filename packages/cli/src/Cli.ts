/**
 * The `reventless` command for an app: `demo` runs the app's story, `run <scenario.jsonl>` runs a
 * scenario file against the app on a platform chosen with `--platform`. An app module builds its
 * binary with `Cli.main(app)`.
 *
 * @since 0.1.0
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import type { BlobStore, EventStore, Runtime } from "@reventless/core"
import { Console, Effect, Layer } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as Scenario from "./Scenario.ts"

/**
 * What the CLI needs of an app: its platforms by name (the first is the default), how to run it
 * on one, and its demo.
 *
 * @since 0.1.0
 * @category models
 */
export interface App<R> {
  readonly name: string
  readonly version: string
  readonly platforms: Readonly<Record<string, Layer.Layer<Runtime.Platform>>>
  readonly layer: (platform: Layer.Layer<Runtime.Platform>) => Layer.Layer<R | Runtime.Runtime | Runtime.Platform, unknown>
  readonly demo: Effect.Effect<void, unknown, R | Runtime.Runtime | Runtime.Platform>
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
 * The command tree for `app`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const command = <R>(app: App<R>) => {
  const platformNames = Object.keys(app.platforms)
  const platform = Flag.Literals("platform", platformNames).pipe(
    Flag.withDefault(platformNames[0]!),
    Flag.withDescription(`where the app runs: ${platformNames.join(", ")}`)
  )
  const on = (name: string) => app.layer(app.platforms[name]!)

  const demo = Command.make("demo", { platform }, ({ platform }) => Effect.provide(app.demo, on(platform))).pipe(
    Command.withDescription(`runs the ${app.name} story and prints its read models`)
  )
  const run = Command.make(
    "run",
    {
      platform,
      format: Flag.Literals("format", ["json", "table"]).pipe(
        Flag.withDefault("json"),
        Flag.withDescription("json: one result line per scenario line; table: queries and streams as tables")
      ),
      file: Argument.String("scenario").pipe(Argument.withDescription("a .jsonl file: send, upload, settle, query and events lines"))
    },
    ({ file, format, platform }) =>
      Effect.provide(
        Scenario.run(file, print(format)) as Effect.Effect<void, Scenario.ScenarioError, Runtime.Runtime | BlobStore.BlobStore | EventStore.EventStore>,
        on(platform)
      )
  ).pipe(Command.withDescription("runs a scenario file, one JSON result per line; exits non-zero when the file is malformed"))

  return Command.make("reventless").pipe(
    Command.withDescription(`${app.name} on Reventless`),
    Command.withSubcommands([demo, run])
  )
}

/**
 * Runs the command line of `app` in this process (the entry point of an app's binary).
 *
 * @since 0.1.0
 * @category running
 */
export const main = <R>(app: App<R>): void =>
  Command.run(command(app), { version: app.version }).pipe(
    Effect.provide(NodeServices.layer),
    NodeRuntime.runMain
  )
