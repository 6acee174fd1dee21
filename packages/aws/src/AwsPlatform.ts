/**
 * The AWS platform: the log and the stores beside it on PostgreSQL (RDS), commands on SQS FIFO,
 * blobs on S3 with their ObjectCreated notifications on SQS, extension-point events to other
 * deployments on SNS FIFO. Swap it for `MemoryPlatform.layer`
 * or `PostgresPlatform.layer` and the same plugins run on AWS.
 *
 * @since 0.1.0
 */
import type { Errors, Runtime } from "@reventless/core"
import { PostgresPlatform } from "@reventless/postgres"
import { Config, Effect, Layer, Redacted } from "effect"
import * as AwsClients from "./AwsClients.ts"
import * as Resources from "./Resources.ts"
import * as S3BlobStore from "./S3BlobStore.ts"
import * as SnsExtensionPointTopic from "./SnsExtensionPointTopic.ts"
import * as SqsCommandTopic from "./SqsCommandTopic.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The PostgreSQL database of the log and stores. */
  readonly database: PostgresPlatform.Options
  readonly aws: AwsClients.Options
  /** Resource names (`prefix`) and whether missing ones may be created. */
  readonly resources: Resources.Options
  readonly commands?: SqsCommandTopic.Options | undefined
  readonly blobs?: S3BlobStore.Options | undefined
  readonly extensionPoints?: SnsExtensionPointTopic.Options | undefined
}

/**
 * Every platform service, plus the AWS clients and resources for tools (`reventless aws ...`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Runtime.Platform | AwsClients.AwsClients | Resources.Resources, Errors.InfrastructureError> => {
  const resources = Resources.layer({
    region: options.aws.region,
    // An emulator without S3 notifications: the blob store posts them, S3 need not accept them.
    s3Notifications: options.blobs?.notify !== true,
    ...options.resources
  })
  const aws = Layer.provideMerge(resources, AwsClients.layer(options.aws))
  const messaging = Layer.mergeAll(
    SqsCommandTopic.layer(options.commands),
    S3BlobStore.layer(options.blobs),
    SnsExtensionPointTopic.layer(options.extensionPoints)
  ).pipe(Layer.provideMerge(aws))
  const database = PostgresPlatform.stores(options.database).pipe(Layer.provide(PostgresPlatform.migrated), Layer.provide(PostgresPlatform.client(options.database)))
  return Layer.merge(database, messaging)
}

/**
 * The platform for a command-line run: the database `PostgresPlatform.urlFor` picks, AWS
 * configured from the environment (`AwsClients.config`). With an `endpoint` (an emulator such as
 * fauxqs) missing resources are created on the way, S3 notifications are posted by the store
 * itself, and credentials default to dummies; against AWS itself, `reventless aws provision`
 * creates the resources first.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFor = (options: {
  readonly database: PostgresPlatform.RunOptions
  readonly prefix: string
  readonly endpoint?: string | undefined
}): Layer.Layer<Runtime.Platform | AwsClients.AwsClients | Resources.Resources, Errors.InfrastructureError | Config.ConfigError> =>
  Layer.unwrap(Effect.gen(function*() {
    const url = yield* PostgresPlatform.urlFor(options.database)
    const aws = yield* AwsClients.configFor(options.endpoint)
    const emulated = options.endpoint !== undefined
    return layer({
      database: { url },
      aws,
      resources: { prefix: options.prefix, create: emulated },
      // A command-line run is short, and stopping lets each long poll finish: keep them short.
      commands: { waitTimeSeconds: 1 },
      blobs: { notify: emulated, waitTimeSeconds: 1 },
      extensionPoints: { waitTimeSeconds: 1 }
    })
  }))

/**
 * What a deployed worker reads from its environment (Effect Config): `DATABASE_URL`,
 * `REVENTLESS_PREFIX` (default `reventless`), `REVENTLESS_CREATE_RESOURCES` (default false: run
 * `reventless aws provision` first), `REVENTLESS_POLL_SECONDS` (how long a receive waits, 1 to 20,
 * default 20; a stopping worker lets its polls finish), and the AWS settings of `AwsClients.config`.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Options> = Config.all({
  url: Config.Redacted("DATABASE_URL"),
  prefix: Config.String("REVENTLESS_PREFIX").pipe(Config.withDefault("reventless")),
  create: Config.Boolean("REVENTLESS_CREATE_RESOURCES").pipe(Config.withDefault(false)),
  waitTimeSeconds: Config.Int("REVENTLESS_POLL_SECONDS").pipe(Config.withDefault(20)),
  aws: AwsClients.config
}).pipe(Config.map(({ aws, create, prefix, url, waitTimeSeconds }) => ({
  database: { url: Redacted.value(url) },
  aws,
  resources: { prefix, create },
  commands: { waitTimeSeconds },
  blobs: { waitTimeSeconds },
  extensionPoints: { waitTimeSeconds }
})))

/**
 * The platform configured from the environment (`config`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: Layer.Layer<Runtime.Platform | AwsClients.AwsClients | Resources.Resources, Errors.InfrastructureError | Config.ConfigError> =
  Layer.unwrap(Effect.gen(function*() {
    return layer(yield* config)
  }))
