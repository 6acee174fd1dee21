/** ProductImport behavior: a second upload of the same content is noted, not imported again. */
import { Aggregate } from "@reventless/core"
import { Result } from "effect"
import * as ProductImport from "./ProductImport.ts"

export const initialState: ProductImport.State = { started: false, uploads: [], rejectedLines: [], completed: false }

export const evolve = (state: ProductImport.State, event: ProductImport.Event): ProductImport.State => {
  switch (event._tag) {
    case "Started":
      return { ...state, started: true }
    case "DuplicateUploadIgnored":
      return { ...state, uploads: [...state.uploads, event.upload] }
    case "RowRejected":
      return { ...state, rejectedLines: [...state.rejectedLines, event.line] }
    case "Completed":
      return { ...state, completed: true }
  }
}

export const decide = (
  state: ProductImport.State,
  command: ProductImport.Command
): Result.Result<ReadonlyArray<ProductImport.Event>, ProductImport.Rejection> => {
  switch (command._tag) {
    case "Start":
      if (!state.started) return Result.succeed([ProductImport.Started.make({ fileKey: command.fileKey, contentHash: command.contentHash, rows: command.rows })])
      return Result.succeed(state.uploads.includes(command.upload) ? [] : [ProductImport.DuplicateUploadIgnored.make({ upload: command.upload })])
    case "RejectRow":
      if (!state.started) return Result.fail(new ProductImport.ImportNotStarted())
      return Result.succeed(state.rejectedLines.includes(command.line) ? [] : [ProductImport.RowRejected.make({ line: command.line, reason: command.reason })])
    case "Complete":
      if (!state.started) return Result.fail(new ProductImport.ImportNotStarted())
      return Result.succeed(state.completed ? [] : [ProductImport.Completed.make({ rowsSent: command.rowsSent, rowsRejected: command.rowsRejected })])
  }
}

export const ProductImportAggregate = Aggregate.make({
  name: "ProductImport",
  command: ProductImport.Command,
  event: ProductImport.Event,
  rejection: ProductImport.Rejection,
  state: ProductImport.State,
  initialState,
  evolve,
  decide
})
