import { assert, describe, it } from "@effect/vitest"
import { Aggregate, Plugin, ReadModel } from "@reventless/core"
import { Result, Schema } from "effect"
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

describe("Scenario.check", () => {
  const Ping = Schema.TaggedStruct("Ping", { times: Schema.Int })
  const Pinger = Aggregate.make({
    name: "Pinger",
    command: Ping,
    event: Ping,
    rejection: Schema.Never,
    state: Schema.Int,
    initialState: 0,
    evolve: (n: number) => n + 1,
    decide: (_n, command) => Result.succeed([command])
  })
  const Pings = ReadModel.make({ name: "Pings", row: Schema.Int, projections: [ReadModel.projection(Pinger, ({ id }) => ReadModel.set(id, 1))] })
  const plugins = [Plugin.make({ name: "P", heartbeatInterval: 5, aggregates: [Pinger], readModels: [Pings] })]
  const problem = (text: string) => {
    const steps = parse(text)
    if (Result.isFailure(steps)) return steps.failure.message
    const checked = Scenario.check(steps.success, plugins, "s.jsonl")
    return Result.isFailure(checked) ? checked.failure.message : "ok"
  }

  it("accepts lines that name what the app has, by qualified or short name", () => {
    assert.strictEqual(problem("{\"send\":\"P.Pinger\",\"id\":\"a\",\"command\":{\"_tag\":\"Ping\",\"times\":1}}\n{\"events\":\"Pinger\",\"id\":\"a\"}\n{\"query\":\"P.Pings\"}"), "ok")
  })
  it("names the first line that refers to something missing or sends an invalid command", () => {
    assert.strictEqual(problem("{\"settle\":true}\n{\"send\":\"P.Nope\",\"id\":\"a\",\"command\":{}}"), "s.jsonl:2: send: no aggregate \"P.Nope\"")
    assert.strictEqual(
      problem("{\"send\":\"Pinger\",\"id\":\"a\",\"command\":{\"_tag\":\"Ping\",\"times\":\"x\"}}"),
      "s.jsonl:1: send: invalid Pinger command at [\"times\"]: Expected number"
    )
    assert.strictEqual(problem("{\"query\":\"Nope\"}"), "s.jsonl:1: query: no read model \"Nope\"")
    assert.strictEqual(problem("{\"events\":\"Nope\",\"id\":\"a\"}"), "s.jsonl:1: events: no aggregate \"Nope\"")
    assert.strictEqual(problem("{\"upload\":\"P.Import\",\"key\":\"k\",\"path\":\"f\"}"), "s.jsonl:1: upload: no task \"P.Import\" with a bucket")
  })
})
