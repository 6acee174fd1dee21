/** ProductImport: the CSV import of one file (id = file key + content hash), event-sourced. */
import { Schema } from "effect"

export const Start = Schema.TaggedStruct("Start", {
  fileKey: Schema.String,
  contentHash: Schema.String,
  rows: Schema.Int,
  upload: Schema.String
})
export const RejectRow = Schema.TaggedStruct("RejectRow", { line: Schema.Int, reason: Schema.String })
export const Complete = Schema.TaggedStruct("Complete", { rowsSent: Schema.Int, rowsRejected: Schema.Int })
export const Command = Schema.Union([Start, RejectRow, Complete])
export type Command = typeof Command.Type

export const Started = Schema.TaggedStruct("Started", { fileKey: Schema.String, contentHash: Schema.String, rows: Schema.Int })
export const DuplicateUploadIgnored = Schema.TaggedStruct("DuplicateUploadIgnored", { upload: Schema.String })
export const RowRejected = Schema.TaggedStruct("RowRejected", { line: Schema.Int, reason: Schema.String })
export const Completed = Schema.TaggedStruct("Completed", { rowsSent: Schema.Int, rowsRejected: Schema.Int })
export const Event = Schema.Union([Started, DuplicateUploadIgnored, RowRejected, Completed])
export type Event = typeof Event.Type

export class ImportNotStarted extends Schema.TaggedError<ImportNotStarted>()("ImportNotStarted", {}) {}
export const Rejection = ImportNotStarted
export type Rejection = ImportNotStarted

export const State = Schema.Struct({
  started: Schema.Boolean,
  uploads: Schema.Array(Schema.String),
  rejectedLines: Schema.Array(Schema.Int),
  completed: Schema.Boolean
})
export type State = typeof State.Type
