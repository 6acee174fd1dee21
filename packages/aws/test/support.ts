/**
 * Per test file: one fauxqs server (SQS, SNS and S3 in process) and fresh databases on the run's
 * PostgreSQL (see packages/postgres/test/globalSetup.ts); per test: a fresh resource prefix.
 */
import { Databases } from "@reventless/postgres"
import { Effect, Layer, Redacted } from "effect"
import { startFauxqs } from "fauxqs"
import { afterAll, inject } from "vitest"
import { AwsClients, AwsPlatform, type Resources } from "../src/index.ts"

/** Starts fauxqs for this file and stops it after the file's tests. */
export const fauxqs = async () => {
  const server = await startFauxqs({ port: 0, logger: false })
  afterAll(() => server.stop())
  return server
}

let prefixes = 0
/** A resource prefix no other test of the run uses. */
export const freshPrefix = (name: string) => `${name}${process.pid.toString(36)}${(++prefixes).toString(36)}`

/** A new, empty database on the run's server; its URL. */
export const freshDatabase = (prefix: string): Effect.Effect<string> => Effect.orDie(Databases.create(inject("databaseUrl"), prefix))

export const awsOptions = (endpoint: string): AwsClients.Options => ({
  region: "us-east-1",
  endpoint,
  credentials: { accessKeyId: "test", secretAccessKey: Redacted.make("test") }
})

/** Clients for `endpoint`, for tests that look at queues themselves. */
export const clients = (endpoint: string) => AwsClients.layer(awsOptions(endpoint))

export interface PlatformOptions {
  readonly endpoint: string
  readonly url: string
  readonly resources: Resources.Options
  /** Post S3 notifications on put (default true: fauxqs sends none). */
  readonly notify?: boolean
}

/** The AWS platform on `url`'s database with short polls, so tests see idle quickly. */
export const platformOn = (options: PlatformOptions) =>
  AwsPlatform.layer({
    database: { url: options.url, maxConnections: 4 },
    aws: awsOptions(options.endpoint),
    resources: options.resources,
    commands: { waitTimeSeconds: 1 },
    blobs: { notify: options.notify ?? true, waitTimeSeconds: 1 },
    extensionPoints: { waitTimeSeconds: 1 }
  })

/** The AWS platform on a fresh database and fresh resources (created on demand). */
export const freshPlatform = (endpoint: string, name: string) =>
  Layer.unwrap(Effect.map(freshDatabase(name), (url) =>
    platformOn({ endpoint, url, resources: { prefix: freshPrefix(name), create: true, visibilityTimeoutSeconds: 10 } })))
