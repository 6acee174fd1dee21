/**
 * Both shops' stories on a platform, nothing changed but the platform Layer: each story runs on
 * a fresh platform and tells what it tells on the memory platform. Each platform's test file
 * calls `tellTheSame`.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Hybrid from "@online-shop-dcb/app"
import * as Aggregates from "@online-shop/app"
import type { Runtime } from "@reventless/core"
import { Effect, type Layer } from "effect"

type Report = { readonly notes: ReadonlyArray<string>; readonly tables: ReadonlyArray<{ readonly name: string; readonly rows: ReadonlyArray<unknown> }>; readonly deadLetters: ReadonlyArray<unknown> }
const tables = (report: Report, except: ReadonlyArray<string> = []) =>
  Object.fromEntries(report.tables.filter((table) => !except.includes(table.name)).map((table) => [table.name, table.rows]))

/** `platform(name)` builds a fresh, empty platform. */
export const tellTheSame = (name: string, platform: (name: string) => Layer.Layer<Runtime.Platform, unknown>) =>
  describe(`the shops on ${name}`, { timeout: 120_000 }, () => {
    it.live("the aggregate shop's story tells the same as on the memory platform", () =>
      Effect.gen(function*() {
        const onMemory = yield* Effect.provide(Aggregates.story, Aggregates.Shop.layer())
        const onPlatform = yield* Effect.provide(Aggregates.story, Aggregates.Shop.layer({ platform: platform("shop") }))
        assert.deepStrictEqual(onPlatform.notes, onMemory.notes)
        assert.deepStrictEqual(tables(onPlatform), tables(onMemory))
        assert.deepStrictEqual(onPlatform.deadLetters, [])
      }))

    it.live("the hybrid shop's story too, whichever order wins the race for the last slot", () =>
      Effect.gen(function*() {
        const onMemory = yield* Effect.provide(Hybrid.story, Hybrid.Shop.layer())
        const onPlatform = yield* Effect.provide(Hybrid.story, Hybrid.Shop.layer({ platform: platform("hybrid") }))
        assert.deepStrictEqual(onPlatform.notes, onMemory.notes)
        // The race's winner decides the Orders rows, demand and emails; everything else matches.
        assert.deepStrictEqual(tables(onPlatform, ["Orders", "ProductDemand", "Emails sent"]), tables(onMemory, ["Orders", "ProductDemand", "Emails sent"]))
        const orders = onPlatform.tables.find((table) => table.name === "Orders")!.rows.map((row) => row.id)
        assert.deepStrictEqual(orders.filter((id) => id === "order-5" || id === "order-6").length, 1)
        assert.strictEqual(orders.length, 5)
        assert.strictEqual(onPlatform.emails.length, 5)
        assert.deepStrictEqual(onPlatform.deadLetters, [])
      }))
  })
