/** ImportReports: per import, its status, counts, rejected lines and repeated uploads. */
import { ReadModel } from "@reventless/core"
import { Schema } from "effect"
import { ProductImportAggregate } from "./ProductImport.behavior.ts"

export const Row = Schema.Struct({
  fileKey: Schema.String,
  contentHash: Schema.String,
  status: Schema.Literals(["Started", "Completed"]),
  rows: Schema.Int,
  rowsSent: Schema.Int,
  rowsRejected: Schema.Int,
  rejections: Schema.Array(Schema.Struct({ line: Schema.Int, reason: Schema.String })),
  duplicateUploads: Schema.Int
})
export type Row = typeof Row.Type

export const ImportReports = ReadModel.make({
  name: "ImportReports",
  row: Row,
  projections: [
    ReadModel.projection(ProductImportAggregate, ({ event, id }): ReadModel.Action<Row> => {
      switch (event._tag) {
        case "Started":
          return ReadModel.set(id, {
            fileKey: event.fileKey,
            contentHash: event.contentHash,
            status: "Started",
            rows: event.rows,
            rowsSent: 0,
            rowsRejected: 0,
            rejections: [],
            duplicateUploads: 0
          })
        case "DuplicateUploadIgnored":
          return ReadModel.update(id, (row) => ({ ...row, duplicateUploads: row.duplicateUploads + 1 }))
        case "RowRejected":
          return ReadModel.update(id, (row) => ({ ...row, rejections: [...row.rejections, { line: event.line, reason: event.reason }] }))
        case "Completed":
          return ReadModel.update(id, (row) => ({ ...row, status: "Completed" as const, rowsSent: event.rowsSent, rowsRejected: event.rowsRejected }))
      }
    })
  ]
})
