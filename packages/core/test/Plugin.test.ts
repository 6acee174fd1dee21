import { assert, describe, it } from "@effect/vitest"
import { Aggregate, EventMapping, Plugin, ReadModel, Task } from "@reventless/core"
import { Effect, Result, Schema } from "effect"

const Thing = Aggregate.make({
  name: "Thing",
  command: Schema.TaggedStruct("Make", {}),
  event: Schema.TaggedStruct("Made", {}),
  rejection: Schema.Never,
  state: Schema.Boolean,
  initialState: false,
  evolve: () => true,
  decide: () => Result.succeed([])
})
const Stranger = Aggregate.make({ ...Thing, name: "Stranger" })

describe("Plugin.validate", () => {
  it("accepts a consistent graph", () => {
    assert.isTrue(Result.isSuccess(Plugin.validate(Plugin.make({ name: "P", heartbeatInterval: 5, aggregates: [Thing] }))))
  })
  it("names every problem: duplicates, unknown sources and targets, shared buckets, bad interval", () => {
    const result = Plugin.validate(Plugin.make({
      name: "P",
      heartbeatInterval: 0,
      aggregates: [Thing, Thing],
      eventMappings: [EventMapping.make({ name: "M", source: Stranger, targets: [Stranger], map: () => [] })],
      readModels: [ReadModel.make({ name: "Things", row: Schema.Boolean, projections: [ReadModel.projection(Stranger, () => ReadModel.ignore)] })],
      tasks: [
        Task.make({ name: "A", buckets: [Task.bucket("b", () => Effect.succeed([]))] }),
        Task.make({ name: "B", buckets: [Task.bucket("b", () => Effect.succeed([]))] })
      ]
    }))
    assert.isTrue(Result.isFailure(result))
    const problems = Result.isFailure(result) ? result.failure.problems : []
    assert.deepStrictEqual(problems, [
      "heartbeatInterval must be a positive number of seconds, got 0",
      "aggregate \"Thing\" has the same name as another",
      "event mapping \"M\" reads unknown aggregate \"Stranger\"",
      "event mapping \"M\" commands unknown aggregate \"Stranger\"",
      "read model \"Things\" projects unknown aggregate \"Stranger\"",
      "bucket \"b\" is watched by both task \"A\" and task \"B\""
    ])
  })
  it("refuses components whose names differ only in case: queues named after them would be one", () => {
    const result = Plugin.validate(Plugin.make({ name: "P", heartbeatInterval: 5, aggregates: [Thing, Aggregate.make({ ...Thing, name: "THING" })] }))
    assert.deepStrictEqual(Result.isFailure(result) ? result.failure.problems : [], ["aggregate \"THING\" differs from the aggregate \"Thing\" only in case; some platforms cannot tell them apart"])
  })
})
