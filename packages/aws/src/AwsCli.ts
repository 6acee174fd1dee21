/**
 * `reventless aws ...`: the AWS platform's tools for a binary's apps. `provision` creates every
 * queue, topic, subscription, dead-letter queue and bucket an app's plugin graph needs (and
 * prints them); `backfill <extension point> <subscriber> [--from position]` sends an extension
 * point's stored events to a subscriber added after they were published.
 *
 * @since 0.1.0
 */
import { Cli } from "@reventless/cli"
import type { EventStore, Plugin } from "@reventless/core"
import { Console, Effect, Layer, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { resolve } from "node:path"
import * as AwsClients from "./AwsClients.ts"
import * as Provision from "./Provision.ts"
import * as Resources from "./Resources.ts"
import * as SnsExtensionPointTopic from "./SnsExtensionPointTopic.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options<Rs extends ReadonlyArray<unknown>> {
  readonly apps: { readonly [K in keyof Rs]: { readonly id: string; readonly plugins: ReadonlyArray<Plugin.Plugin<Rs[K]>> } }
  /** The binary's aws platform: `backfill` reads the owner's log through it. */
  readonly platform: (config: Cli.PlatformConfig) => Layer.Layer<EventStore.EventStore | AwsClients.AwsClients | Resources.Resources, unknown>
}

/**
 * The `aws` command with its subcommands.
 *
 * @since 0.1.0
 * @category constructors
 */
export const command = <Rs extends ReadonlyArray<unknown>>(options: Options<Rs>) => {
  const apps = options.apps as ReadonlyArray<{ readonly id: string; readonly plugins: ReadonlyArray<Plugin.Plugin<unknown>> }>
  const ids = apps.map((app) => app.id)
  const flags = {
    app: Flag.Literals("app", ids).pipe(Flag.withDefault(ids[0]!), Flag.withDescription(`the app: ${ids.join(", ")}`)),
    endpoint: Flag.String("endpoint").pipe(Flag.optional, Flag.withDescription("an emulator's endpoint (fauxqs: http://127.0.0.1:4566); default: AWS")),
    prefix: Flag.String("prefix").pipe(Flag.optional, Flag.withDescription("the start of every resource's name (default reventless-<app>)"))
  }
  const provision = Command.make("provision", flags, ({ app, endpoint, prefix }) =>
    Effect.gen(function*() {
      const plugins = apps.find((candidate) => candidate.id === app)!.plugins
      const aws = yield* AwsClients.configFor(Option.getOrUndefined(endpoint))
      // An emulator (an endpoint given) has no S3 notifications: the platform posts them itself there.
      const resources = Resources.layer({
        prefix: Option.getOrElse(prefix, () => Cli.defaultPrefix(app)),
        create: true,
        region: aws.region,
        s3Notifications: Option.isNone(endpoint)
      })
      const created = yield* Effect.provide(Provision.provision(plugins), resources.pipe(Layer.provide(AwsClients.layer(aws))))
      for (const line of created) yield* Console.log(line)
    })).pipe(Command.withDescription("creates (idempotently) every queue, topic, subscription, dead-letter queue and bucket the app needs, and prints them"))

  const backfill = Command.make(
    "backfill",
    {
      ...flags,
      databaseUrl: Flag.String("database-url").pipe(Flag.optional, Flag.withDescription("the owner's database (default: the embedded one in .reventless/)")),
      from: Flag.Int("from").pipe(Flag.withDefault(0), Flag.withDescription("send the events after this log position")),
      extensionPoint: Argument.String("extension-point").pipe(Argument.withDescription("Plugin.ExtensionPoint, owned by this app")),
      subscriber: Argument.String("subscriber").pipe(Argument.withDescription("Plugin.Extension of the subscribing deployment"))
    },
    ({ app, databaseUrl, endpoint, extensionPoint, from, prefix, subscriber }) =>
      Effect.gen(function*() {
        const platform = options.platform({
          app,
          databaseUrl: Option.getOrUndefined(databaseUrl),
          endpoint: Option.getOrUndefined(endpoint),
          prefix: Option.getOrElse(prefix, () => Cli.defaultPrefix(app)),
          dataDir: resolve(".reventless"),
          fresh: false
        })
        const sent = yield* Effect.provide(SnsExtensionPointTopic.backfill(extensionPoint, subscriber, { from }), platform)
        yield* Console.log(JSON.stringify({ backfilled: extensionPoint, subscriber, events: sent }))
      })
  ).pipe(Command.withDescription("sends an extension point's stored events to a subscriber's queue (one added after they were published); run it before the subscriber consumes live events"))

  // Named `string`, so a binary lists it with its other commands.
  return Command.make<string>("aws").pipe(
    Command.withDescription("the AWS platform's tools"),
    Command.withSubcommands([provision, backfill])
  )
}
