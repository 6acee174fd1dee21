/**
 * The online shop demo: the whole story of `story.ts`, printed as tables. `reventless demo`
 * (README command 1) runs it on the memory platform.
 */
import { Console, Effect } from "effect"
import { story } from "./story.ts"

/** A cell for Console.table: arrays and objects (an address) as one readable string. */
const cell = (value: unknown): unknown =>
  Array.isArray(value) ? value.join(", ") : typeof value === "object" && value !== null ? Object.values(value).join(", ") : value

const row = (id: string, fields: unknown) =>
  Object.fromEntries([["id", id], ...Object.entries(fields as object).map(([key, value]) => [key, cell(value)])])

export const demo = Effect.gen(function*() {
  const { consumers, deadLetters, emails, notes, readModels } = yield* story
  for (const line of notes) yield* Console.log(line)
  for (const { name, rows } of readModels) {
    yield* Console.log(`\n${name}`)
    yield* Console.table(rows.map((item) => row(item.id, item.row)))
  }
  yield* Console.log("\nEmails sent")
  yield* Console.table(emails.map(({ orderId, productIds, to }) => ({ to, orderId, products: cell(productIds) })))
  yield* Console.log(`\nconsumers: ${consumers.map((c) => `${c.name}@${c.position}`).join(", ")}`)
  yield* Console.log(`dead letters: ${deadLetters.length}`)
})
