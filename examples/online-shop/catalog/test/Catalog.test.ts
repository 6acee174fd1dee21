import { assert, describe, it } from "@effect/vitest"
import { BlobStore, MemoryPlatform, Runtime } from "@reventless/core"
import { Effect, Layer, Option } from "effect"
import { Catalog, CategoryAggregate, importBucket, importId } from "../src/index.ts"

const csv = "sku,name,description,price,categoryId\np1,Tea,Green,4.5,drinks\np2,Mug,Big,abc,\np3,Pot,Iron,30,\n"
const platform = Runtime.layer({ plugins: [Catalog] }).pipe(Layer.provideMerge(MemoryPlatform.layer))

describe("Catalog on the memory platform", () => {
  it.effect("imports good rows, reports the bad one, and imports nothing twice on a second upload", () =>
    Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      const blobs = yield* BlobStore.BlobStore
      yield* Runtime.execute(CategoryAggregate, "drinks", { _tag: "Add", name: "Drinks" })
      yield* runtime.awaitIdle
      const body = new TextEncoder().encode(csv)
      yield* blobs.put(importBucket, "in/products.csv", body)
      yield* runtime.awaitIdle
      yield* blobs.put(importBucket, "in/products.csv", body)
      yield* runtime.awaitIdle

      const products = yield* runtime.list("Products")
      assert.deepStrictEqual(products.items.map((item) => item.id), ["p1", "p3"])
      assert.lengthOf(yield* runtime.readStream("Product", "p1"), 1)
      const report = yield* runtime.query("ImportReports", importId("in/products.csv", BlobStore.contentHash(body)))
      assert.deepStrictEqual(Option.map(report, (row) => {
        const { contentHash: _, ...rest } = row as { contentHash: string }
        return rest
      }), Option.some({
        fileKey: "in/products.csv",
        status: "Completed",
        rows: 3,
        rowsSent: 2,
        rowsRejected: 1,
        rejections: [{ line: 3, reason: "price: \"abc\" is not a number" }],
        duplicateUploads: 1
      }))
      const demand = yield* runtime.query("ProductDemands", "p3")
      assert.deepStrictEqual(demand, Option.some({ name: "Pot", orderCount: 0 }))
      const [added] = yield* runtime.readStream("Product", "p1")
      assert.strictEqual(added!.meta.correlationId, "in/products.csv")
    }).pipe(Effect.provide(platform)))

  it.effect("bad input writes nothing", () =>
    Effect.gen(function*() {
      const runtime = yield* Runtime.Runtime
      const error = yield* Effect.flip(runtime.executeJson("Product", "p9", "{\"_tag\":\"Add\",\"name\":\"X\",\"description\":\"\",\"price\":\"cheap\"}"))
      assert.strictEqual(error._tag, "InvalidCommand")
      assert.include(error.message, "price")
      assert.lengthOf(yield* runtime.readStream("Product", "p9"), 0)
    }).pipe(Effect.provide(platform)))
})
