/**
 * The testing kit checks what it claims: a spec passes when the aggregate behaves as written and
 * fails, with a message, when it does not; each law catches the aggregate that breaks it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Aggregate, QueryEngine, ReadModel } from "@reventless/core"
import { Effect, Layer, Option, Result, Schema } from "effect"
import { DeciderSpec, Properties } from "../src/index.ts"

const Add = Schema.TaggedStruct("Add", { item: Schema.String })
const Added = Schema.TaggedStruct("Added", { item: Schema.String })
class AlreadyThere extends Schema.TaggedError<AlreadyThere>()("AlreadyThere", { item: Schema.String }) {}

/** A set of items: adding one twice is rejected. */
const Basket = Aggregate.make({
  name: "Basket",
  command: Add,
  event: Added,
  rejection: AlreadyThere,
  state: Schema.Array(Schema.String),
  initialState: [] as ReadonlyArray<string>,
  evolve: (items, event) => [...items, event.item],
  decide: (items, command) =>
    items.includes(command.item) ? Result.fail(new AlreadyThere({ item: command.item })) : Result.succeed([Added.make({ item: command.item })])
})

const spec = DeciderSpec.make(Basket)

describe("DeciderSpec", () => {
  it("passes when the events match", () => spec.given().when(Add.make({ item: "tea" })).then(Added.make({ item: "tea" })))
  it("passes when the rejection matches", () =>
    spec.given(Added.make({ item: "tea" })).when(Add.make({ item: "tea" })).thenRejects(new AlreadyThere({ item: "tea" })))

  it("fails on other events, on a rejection where events were expected, and the reverse", () => {
    assert.throws(() => spec.given().when(Add.make({ item: "tea" })).then(Added.make({ item: "mug" })))
    assert.throws(() => spec.given(Added.make({ item: "tea" })).when(Add.make({ item: "tea" })).then(Added.make({ item: "tea" })), /expected events/)
    assert.throws(() => spec.given().when(Add.make({ item: "tea" })).thenRejects(new AlreadyThere({ item: "tea" })), /expected rejection/)
    assert.throws(() => spec.given(Added.make({ item: "tea" })).when(Add.make({ item: "tea" })).thenRejects(new AlreadyThere({ item: "mug" })))
  })

  it("runs Effect decisions against the query engine it is given", () => {
    const Known = ReadModel.make({ name: "Known", row: Schema.Struct({ ok: Schema.Boolean }), projections: [] })
    const Checked = Aggregate.make({
      ...Basket,
      name: "Checked",
      decide: (_items, command) =>
        Effect.flatMap(Effect.orDie(QueryEngine.get(Known, command.item)), (row) =>
          Option.isSome(row) ? Effect.succeed([Added.make({ item: command.item })]) : Effect.fail(new AlreadyThere({ item: command.item })))
    })
    const knowsTea = Layer.succeed(QueryEngine.QueryEngine, QueryEngine.QueryEngine.of({
      get: (_readModel, id) => Effect.succeed(id === "tea" ? Option.some({ ok: true } as never) : Option.none()),
      list: () => Effect.succeed({ items: [], next: Option.none() })
    }))
    DeciderSpec.make(Checked, knowsTea).given().when(Add.make({ item: "tea" })).then(Added.make({ item: "tea" }))
    DeciderSpec.make(Checked).given().when(Add.make({ item: "tea" })).thenRejects(new AlreadyThere({ item: "tea" }))
  })
})

describe("Properties", () => {
  it.prop("a deterministic aggregate obeys replay", [Schema.Array(Add)], ([commands]) => Properties.replayIsDeterministic(Basket, commands))
  it.prop("an idempotent-by-rejection command never emits twice", [Schema.Array(Add), Add], ([history, command]) =>
    Properties.repeatIsIdempotent(Basket, history, command))

  it("replay catches an evolve that depends on something besides state and event", () => {
    let calls = 0
    const Drifting = Aggregate.make({ ...Basket, name: "Drifting", evolve: (items, event) => [...items, `${event.item}#${calls++}`] })
    assert.throws(() => Properties.replayIsDeterministic(Drifting, [Add.make({ item: "a" })]))
  })

  it("idempotency catches a command that emits again when repeated", () => {
    const Forgetful = Aggregate.make({ ...Basket, name: "Forgetful", decide: (_items, command) => Result.succeed([Added.make({ item: command.item })]) })
    assert.throws(() => Properties.repeatIsIdempotent(Forgetful, [], Add.make({ item: "a" })), /emitted events/)
  })

  it("run catches a decide that throws", () => {
    const Throwing = Aggregate.make({
      ...Basket,
      name: "Throwing",
      decide: () => {
        throw new Error("boom")
      }
    })
    assert.throws(() => Properties.run(Throwing, [Add.make({ item: "a" })]), /decide died/)
  })

  it("foldReadModel projects each event through its source's projection", () => {
    const Counts = ReadModel.make({
      name: "Counts",
      row: Schema.Struct({ items: Schema.Int }),
      projections: [ReadModel.projection(Basket, ({ id }) => ReadModel.updateWithDefault(id, { items: 0 }, (row) => ({ items: row.items + 1 })))]
    })
    const rows = Properties.foldReadModel(Counts, [
      { source: "Basket", id: "b1", event: Added.make({ item: "a" }) },
      { source: "Other", id: "b1", event: Added.make({ item: "ignored" }) },
      { source: "Basket", id: "b1", event: Added.make({ item: "b" }) },
      { source: "Basket", id: "b2", event: Added.make({ item: "c" }) }
    ])
    assert.deepStrictEqual([...rows], [["b1", { items: 2 }], ["b2", { items: 1 }]])
  })
})
