/**
 * The Catalog demo on the memory platform: creates categories, uploads a product CSV (one bad
 * row), renames a category, changes a price, uploads the same file again, and prints the read
 * models as tables. Run with `pnpm demo`.
 */
import { BlobStore, MemoryPlatform, Runtime } from "@reventless/core"
import { Console, Effect, Layer } from "effect"
import { CategoryAggregate, ProductAggregate } from "./index.ts"
import { Catalog } from "./Plugin.ts"
import { bucket } from "./Task/ImportProducts.ts"

const csv = [
  "sku,name,description,price,categoryId",
  "tea-01,Green Tea,\"Sencha, 100 g\",4.5,drinks",
  "tea-02,Black Tea,\"Assam, \"\"strong\"\", 250 g\",6.9,drinks",
  "mug-01,Mug,Stoneware mug,abc,kitchen",
  "pot-01,Tea Pot,\"Cast iron,",
  "0.8 litre\",39,kitchen"
].join("\r\n")

const table = (title: string, rows: ReadonlyArray<{ readonly id: string; readonly row: unknown }>) =>
  Effect.gen(function*() {
    yield* Console.log(`\n${title}`)
    yield* Console.table(rows.map(({ id, row }) => ({ id, ...(row as object) })))
  })

const program = Effect.gen(function*() {
  const runtime = yield* Runtime.Runtime
  const blobs = yield* BlobStore.BlobStore
  yield* Runtime.execute(CategoryAggregate, "drinks", { _tag: "Add", name: "Drinks" })
  yield* Runtime.execute(CategoryAggregate, "kitchen", { _tag: "Add", name: "Kitchen" })
  yield* Runtime.awaitIdle

  yield* Console.log(`uploading products.csv to ${bucket}`)
  yield* blobs.put(bucket, "products.csv", new TextEncoder().encode(csv))
  yield* Runtime.awaitIdle

  yield* Runtime.execute(CategoryAggregate, "kitchen", { _tag: "Rename", name: "Kitchen & Tableware" })
  yield* Runtime.execute(ProductAggregate, "tea-01", { _tag: "UpdatePrice", price: 4.9 })
  const rejected = yield* Effect.flip(Runtime.execute(ProductAggregate, "tea-02", { _tag: "UpdatePrice", price: -1 }))
  yield* Console.log(`price -1 for tea-02 rejected: ${rejected._tag}`)

  yield* Console.log("uploading the same file again")
  yield* blobs.put(bucket, "products.csv", new TextEncoder().encode(csv))
  yield* Runtime.awaitIdle

  const bad = yield* Effect.flip(runtime.executeJson("Product", "x-1", "{\"_tag\":\"Add\",\"name\":\"X\",\"price\":\"cheap\"}"))
  yield* Console.log(`bad input: ${bad.message}`)

  for (const name of ["Categories", "Products", "ProductDemands"]) {
    const page = yield* runtime.list(name)
    yield* table(name, page.items)
  }
  const reports = yield* runtime.list("ImportReports")
  for (const { id, row } of reports.items) {
    const report = row as { readonly rejections: ReadonlyArray<{ readonly line: number; readonly reason: string }> }
    yield* table(`ImportReports ${id}`, [{ id, row: { ...report, rejections: report.rejections.length } }])
    yield* Console.table(report.rejections)
  }
  const health = yield* runtime.health
  yield* Console.log(`\nconsumers: ${health.consumers.map((c) => `${c.name}@${c.position}`).join(", ")}`)
})

Effect.runPromise(program.pipe(Effect.provide(Runtime.layer({ plugins: [Catalog] }).pipe(Layer.provideMerge(MemoryPlatform.layer))))).catch(
  (error) => {
    console.error(error)
    process.exitCode = 1
  }
)
