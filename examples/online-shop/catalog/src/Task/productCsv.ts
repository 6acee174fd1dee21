/**
 * Parses a product CSV (header `sku,name,description,price,categoryId`; quoted fields; UTF-8 with
 * or without BOM; CRLF or LF) into Product.Add commands and rejected rows, each with the line
 * where its record starts.
 */
import { parse } from "csv-parse/sync"
import { Result, Schema } from "effect"
import * as Product from "../Product/Product.ts"

export const header = ["sku", "name", "description", "price", "categoryId"] as const

export interface GoodRow {
  readonly line: number
  readonly sku: string
  readonly command: typeof Product.Add.Type
}

export interface RejectedRow {
  readonly line: number
  readonly reason: string
}

export interface ParsedCsv {
  readonly good: ReadonlyArray<GoodRow>
  readonly rejected: ReadonlyArray<RejectedRow>
}

const decodeAdd = Schema.decodeUnknownResult(Product.Add)

const parseRow = (line: number, fields: ReadonlyArray<string>): Result.Result<GoodRow, RejectedRow> => {
  if (fields.length !== header.length) return Result.fail({ line, reason: `expected ${header.length} fields, got ${fields.length}` })
  const [sku, name, description, priceText, categoryId] = fields.map((field) => field.trim()) as [string, string, string, string, string]
  if (sku === "") return Result.fail({ line, reason: "sku: must not be empty" })
  const price = priceText === "" ? Number.NaN : Number(priceText)
  if (!Number.isFinite(price)) return Result.fail({ line, reason: `price: "${priceText}" is not a number` })
  const command = decodeAdd({ _tag: "Add", name, description, price, ...(categoryId === "" ? {} : { categoryId }) })
  if (Result.isFailure(command)) return Result.fail({ line, reason: command.failure.message.replace(/\s+/g, " ") })
  return Result.succeed({ line, sku, command: command.success })
}

const lineCounter = (text: string) => {
  const body = text.startsWith("\ufeff") ? text.slice(1) : text
  let offset = 0
  let line = 1
  return (target: number): number => {
    for (; offset < target && offset < body.length; offset++) {
      const char = body[offset]
      if (char === "\n" || (char === "\r" && body[offset + 1] !== "\n")) line++
    }
    return line
  }
}

/** Parses the file; a malformed header or CSV syntax error rejects the whole file (nothing is half-read). */
export const parseProductCsv = (text: string): ParsedCsv => {
  let records: Array<{ readonly record: Array<string>; readonly info: { readonly bytes: number } }>
  try {
    records = parse(text, { bom: true, info: true, relax_column_count: true, skip_empty_lines: false }) as unknown as typeof records
  } catch (error) {
    const line = typeof error === "object" && error !== null && "lines" in error && typeof error.lines === "number" ? error.lines : 1
    return { good: [], rejected: [{ line, reason: `CSV syntax: ${error instanceof Error ? error.message : String(error)}` }] }
  }
  const [first, ...rest] = records
  if (first === undefined || first.record.join(",") !== header.join(",")) {
    return { good: [], rejected: [{ line: 1, reason: `header must be "${header.join(",")}", got "${first?.record.join(",") ?? ""}"` }] }
  }
  const good: Array<GoodRow> = []
  const rejected: Array<RejectedRow> = []
  // A record starts where the previous one ended; its line is 1 + the line breaks before that
  // offset (CRLF counted once, also inside quoted fields, where the parser counts it twice).
  const lineAt = lineCounter(text)
  let previousEnd = first.info.bytes
  for (const { info, record } of rest) {
    const line = lineAt(previousEnd)
    previousEnd = info.bytes
    if (record.length === 1 && record[0]!.trim() === "") continue
    const row = parseRow(line, record)
    if (Result.isSuccess(row)) good.push(row.success)
    else rejected.push(row.failure)
  }
  return { good, rejected }
}
