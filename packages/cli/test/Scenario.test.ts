import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { Scenario } from "../src/index.ts"

const parse = (text: string) => Scenario.parse(text, "s.jsonl")

describe("Scenario.parse", () => {
  it("reads every kind of line and skips blank ones", () => {
    const steps = parse([
      "{\"send\":\"Catalog.Product\",\"id\":\"p1\",\"command\":{\"_tag\":\"Add\"},\"msgId\":\"m1\"}",
      "",
      "{\"upload\":\"Catalog.ImportProducts\",\"key\":\"k\",\"path\":\"./f.csv\"}",
      "{\"settle\":true}",
      "{\"query\":\"Catalog.Products\",\"where\":{\"categoryId\":null},\"limit\":5}",
      "{\"events\":\"Ordering.Order\",\"id\":\"o1\"}"
    ].join("\r\n"))
    assert.deepStrictEqual(Result.isSuccess(steps) ? steps.success.map((step) => [step.line, step.kind]) : steps.failure.message, [
      [1, "send"],
      [3, "upload"],
      [4, "settle"],
      [5, "query"],
      [6, "events"]
    ])
  })

  it("names the line and the problem", () => {
    const problem = (text: string) => {
      const parsed = parse(text)
      return Result.isFailure(parsed) ? parsed.failure.message : "parsed"
    }
    assert.strictEqual(problem("{\"settle\":true}\n[1,2]"), "s.jsonl:2: expected an object with one of \"send\", \"upload\", \"settle\", \"query\", \"events\"")
    assert.strictEqual(problem("{\"settle\":true,\"query\":\"X\"}"), "s.jsonl:1: a line does one thing; found \"settle\" and \"query\"")
    assert.include(problem("{\"settle\":false}"), "s.jsonl:1: settle at [\"settle\"]: Expected true")
    assert.include(problem("{\"events\":\"Ordering.Order\"}"), "s.jsonl:1: events at [\"id\"]")
  })
})
