/**
 * Both shops on PostgreSQL, nothing changed but the platform Layer: each story runs on a fresh
 * database and tells what it tells on the memory platform.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Hybrid from "@online-shop-dcb/app"
import * as Aggregates from "@online-shop/app"
import { Databases, PostgresPlatform } from "@reventless/postgres"
import { Effect, Layer } from "effect"
import { inject } from "vitest"

const onPostgres = (prefix: string) =>
  Layer.unwrap(Effect.map(Effect.orDie(Databases.create(inject("databaseUrl"), prefix)), (url) => PostgresPlatform.layer({ url })))

type Report = { readonly notes: ReadonlyArray<string>; readonly tables: ReadonlyArray<{ readonly name: string; readonly rows: ReadonlyArray<unknown> }>; readonly deadLetters: ReadonlyArray<unknown> }
const tables = (report: Report, except: ReadonlyArray<string> = []) =>
  Object.fromEntries(report.tables.filter((table) => !except.includes(table.name)).map((table) => [table.name, table.rows]))

describe("the shops on PostgreSQL", { timeout: 120_000 }, () => {
  it.live("the aggregate shop's story tells the same as on the memory platform", () =>
    Effect.gen(function*() {
      const onMemory = yield* Effect.provide(Aggregates.story, Aggregates.Shop.layer())
      const onPg = yield* Effect.provide(Aggregates.story, Aggregates.Shop.layer({ platform: onPostgres("shop") }))
      assert.deepStrictEqual(onPg.notes, onMemory.notes)
      assert.deepStrictEqual(tables(onPg), tables(onMemory))
      assert.deepStrictEqual(onPg.deadLetters, [])
    }))

  it.live("the hybrid shop's story too, whichever order wins the race for the last slot", () =>
    Effect.gen(function*() {
      const onMemory = yield* Effect.provide(Hybrid.story, Hybrid.Shop.layer())
      const onPg = yield* Effect.provide(Hybrid.story, Hybrid.Shop.layer({ platform: onPostgres("hybrid") }))
      assert.deepStrictEqual(onPg.notes, onMemory.notes)
      // The race's winner decides the Orders rows, demand and emails; everything else matches.
      assert.deepStrictEqual(tables(onPg, ["Orders", "ProductDemand", "Emails sent"]), tables(onMemory, ["Orders", "ProductDemand", "Emails sent"]))
      const orders = onPg.tables.find((table) => table.name === "Orders")!.rows.map((row) => row.id)
      assert.deepStrictEqual(orders.filter((id) => id === "order-5" || id === "order-6").length, 1)
      assert.strictEqual(orders.length, 5)
      assert.strictEqual(onPg.emails.length, 5)
      assert.deepStrictEqual(onPg.deadLetters, [])
    }))
})
