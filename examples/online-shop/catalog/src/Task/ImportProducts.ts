/**
 * ImportProducts: a CSV uploaded to the `product-imports` bucket becomes one Product.Add per good
 * row (product id = sku). Message ids derive from the file (key + content hash + line), so the
 * same file uploaded again imports nothing twice; the ProductImport aggregate records the run.
 */
import { BlobStore, Task } from "@reventless/core"
import { Effect } from "effect"
import { ProductAggregate } from "../Product/Product.behavior.ts"
import { ProductImportAggregate } from "../ProductImport/ProductImport.behavior.ts"
import { parseProductCsv } from "./productCsv.ts"

export const bucket = "product-imports"

/** The ProductImport id of a file: its key and content hash. */
export const importId = (key: string, contentHash: string) => `${key}#${contentHash.slice(0, 16)}`

export const ImportProducts = Task.make({
  name: "ImportProducts",
  buckets: [
    Task.bucket(bucket, (blob) =>
      Effect.gen(function*() {
        const blobs = yield* BlobStore.BlobStore
        const body = yield* blobs.get(blob.bucket, blob.key)
        const contentHash = BlobStore.contentHash(body)
        const id = importId(blob.key, contentHash)
        const { good, rejected } = parseProductCsv(new TextDecoder("utf-8").decode(body))
        const correlationId = blob.key
        return [
          Task.publishCommands(ProductImportAggregate, [{
            id,
            msgId: `${id}:start:${blob.sequencer}`,
            correlationId,
            command: { _tag: "Start", fileKey: blob.key, contentHash, rows: good.length + rejected.length, upload: blob.sequencer }
          }]),
          Task.publishCommands(ProductAggregate, good.map((row) => ({ id: row.sku, msgId: `${id}:row:${row.line}`, correlationId, command: row.command }))),
          Task.publishCommands(ProductImportAggregate, [
            ...rejected.map((row) => ({ id, msgId: `${id}:reject:${row.line}`, correlationId, command: { _tag: "RejectRow" as const, ...row } })),
            { id, msgId: `${id}:complete`, correlationId, command: { _tag: "Complete", rowsSent: good.length, rowsRejected: rejected.length } }
          ])
        ]
      }))
  ]
})
