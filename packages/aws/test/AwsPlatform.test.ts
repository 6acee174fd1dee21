/** A deployed worker's platform from its environment (Effect Config). */
import { assert, describe, it } from "@effect/vitest"
import { Runtime } from "@reventless/core"
import { Ledger } from "@reventless/testing"
import { ConfigProvider, Effect, Exit, Layer } from "effect"
import { AwsPlatform } from "../src/index.ts"
import { fauxqs, freshDatabase, freshPrefix } from "./support.ts"

const server = await fauxqs()

const withEnv = (env: Record<string, string>) =>
  Runtime.layer({ plugins: [Ledger.Books] }).pipe(
    Layer.provideMerge(AwsPlatform.layerConfig),
    Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord(env)))
  )

describe("AwsPlatform.layerConfig", () => {
  it.live("reads the database, prefix, resource creation, poll time and AWS settings from the environment", () =>
    Effect.gen(function*() {
      const prefix = freshPrefix("config")
      const env = {
        DATABASE_URL: yield* freshDatabase("config"),
        REVENTLESS_PREFIX: prefix,
        REVENTLESS_CREATE_RESOURCES: "true",
        REVENTLESS_POLL_SECONDS: "1",
        AWS_REGION: "us-east-1",
        AWS_ENDPOINT_URL: server.address,
        AWS_ACCESS_KEY_ID: "test",
        AWS_SECRET_ACCESS_KEY: "test"
      }
      const accepted = yield* Effect.provide(Runtime.execute(Ledger.Ledger, "l-1", Ledger.Record.make({ seq: 1 })), withEnv(env))
      assert.deepStrictEqual(accepted, [{ _tag: "Recorded", seq: 1, previous: 0 }])
      assert.isDefined(server.inspectQueue(`${prefix}-books-ledger.fifo`), "the command did not go through the configured prefix's queue")
    }))

  it.live("without DATABASE_URL the layer fails, naming it", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.provide(Runtime.awaitIdle, withEnv({ AWS_ENDPOINT_URL: server.address })))
      assert.isTrue(Exit.isFailure(exit))
      assert.include(String(Exit.isFailure(exit) ? exit.cause : ""), "DATABASE_URL")
    }))
})
