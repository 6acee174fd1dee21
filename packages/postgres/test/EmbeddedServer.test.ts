/**
 * The embedded server is not an open door: it listens on 127.0.0.1 only, and its user logs in
 * with scram-sha-256 and a password generated for its data directory, kept there readable by its
 * owner only and reused when the directory is started again.
 */
import { assert, describe, it } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { mkdtempSync, readFileSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Context, Effect, Exit, Layer, Redacted } from "effect"
import { EmbeddedServer } from "../src/index.ts"

/** Whether a client gets an answer from `url`. */
const connects = (url: string) =>
  Effect.exit(Effect.scoped(Effect.flatMap(Layer.build(PgClient.layer({ url: Redacted.make(url), connectTimeout: "5 seconds" })), (context) =>
    Context.get(context, PgClient.PgClient).unsafe("SELECT 1"))))

describe("EmbeddedServer", { timeout: 120_000 }, () => {
  it.live("generates a password per data directory (0600), uses scram-sha-256, listens on loopback, and keeps the password across restarts", () =>
    Effect.gen(function*() {
      const dataDir = join(mkdtempSync(join(tmpdir(), "reventless-embedded-")), "data")
      const first = yield* Effect.promise(() => EmbeddedServer.start({ dataDir, persistent: true }))
      const file = EmbeddedServer.passwordFile(dataDir)
      const password = readFileSync(file, "utf8").trim()
      assert.notStrictEqual(password, "reventless")
      assert.isAtLeast(password.length, 20)
      assert.strictEqual(statSync(file).mode & 0o777, 0o600)
      assert.include(first.url, `:${password}@127.0.0.1:`)
      const hba = readFileSync(join(dataDir, "pg_hba.conf"), "utf8").split("\n").filter((line) => line.trim() !== "" && !line.trim().startsWith("#"))
      assert.isTrue(hba.every((line) => line.trim().endsWith("scram-sha-256")), hba.join("\n"))
      assert.match(readFileSync(join(dataDir, "postmaster.opts"), "utf8"), /listen_addresses=127\.0\.0\.1/)
      assert.isTrue(Exit.isSuccess(yield* connects(first.url)))
      assert.isTrue(Exit.isFailure(yield* connects(first.url.replace(`:${password}@`, ":reventless@"))), "the old fixed password is refused")
      yield* Effect.promise(() => first.stop())
      const again = yield* Effect.promise(() => EmbeddedServer.start({ dataDir, persistent: true }))
      yield* Effect.addFinalizer(() => Effect.promise(() => again.stop()))
      assert.include(again.url, `:${password}@`)
      assert.isTrue(Exit.isSuccess(yield* connects(again.url)))
    }).pipe(Effect.scoped))
})
