import { assert, describe, it } from "@effect/vitest"
import { Aggregate, InboundTranslationSlice, MemoryPlatform, Plugin, ReadModel, Runtime, StateChangeSlice } from "@reventless/core"
import { Effect, Layer, Result, Schema } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Scenario } from "../src/index.ts"

const parse = (text: string) => Scenario.parse(text, "s.jsonl")

describe("Scenario.load", () => {
  const file = (bytes: Uint8Array | string) => {
    const path = join(mkdtempSync(join(tmpdir(), "reventless-scenario-")), "s.jsonl")
    writeFileSync(path, bytes)
    return path
  }
  const problem = (bytes: Uint8Array | string) => Effect.map(Effect.flip(Scenario.load(file(bytes))), (error) => error.message.slice(error.message.indexOf("s.jsonl")))

  it.effect("refuses an empty or blank file, saying so", () =>
    Effect.gen(function*() {
      assert.include(yield* problem(""), "no steps")
      assert.include(yield* problem("\n  \n"), "no steps")
    }))

  it.effect("refuses bytes that are not UTF-8, naming the line and the byte, instead of reading them as U+FFFD", () =>
    Effect.gen(function*() {
      const bad = new Uint8Array([...new TextEncoder().encode("{\"settle\":true}\n{\"query\":\"X"), 0xff, ...new TextEncoder().encode("\"}\n")])
      assert.strictEqual(yield* problem(bad), "s.jsonl:2: not UTF-8: byte 12 of the line (0xff)")
    }))
})

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
    assert.strictEqual(problem("{\"settle\":true}\n[1,2]"), "s.jsonl:2: expected an object with one of \"send\", \"receive\", \"upload\", \"settle\", \"query\", \"events\"")
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
  const runtime = Runtime.layer({ plugins }).pipe(Layer.provide(MemoryPlatform.layer))
  const problem = (text: string) => {
    const steps = parse(text)
    if (Result.isFailure(steps)) return steps.failure.message
    return Effect.runSync(Scenario.check(steps.success, "s.jsonl").pipe(
      Effect.as("ok"),
      Effect.catch((error) => Effect.succeed(error.message)),
      Effect.provide(runtime),
      Effect.scoped
    ))
  }

  it("accepts lines that name what the app has, by qualified or short name", () => {
    assert.strictEqual(problem("{\"send\":\"P.Pinger\",\"id\":\"a\",\"command\":{\"_tag\":\"Ping\",\"times\":1}}\n{\"events\":\"Pinger\",\"id\":\"a\"}\n{\"query\":\"P.Pings\"}"), "ok")
  })
  it("refuses what the runtime would refuse, so that a hostile file writes nothing: deep nesting, NUL, lone surrogates, sizes", () => {
    const deep = "[".repeat(100_000) + "]".repeat(100_000)
    assert.include(problem(`{"settle":true}\n{"send":"Pinger","id":"a","command":{"_tag":"Ping","times":1,"x":${deep}}}`), "s.jsonl:2: send: command.x[0]")
    assert.include(problem(`{"settle":true}\n{"send":"Pinger","id":"a","command":{"_tag":"Ping","times":1,"x":${deep}}}`), "nests deeper than 64 levels")
    assert.strictEqual(problem(`{"send":"Pin\\u0000ger","id":"a","command":{"_tag":"Ping","times":1}}`), "s.jsonl:1: send: no aggregate or state-change slice \"Pin\\u0000ger\"")
    assert.include(problem(`{"send":"Pinger","id":"a\\u0000","command":{"_tag":"Ping","times":1}}`), "s.jsonl:1: send: id contains the NUL character")
    assert.include(problem(`{"send":"Pinger","id":"a","msgId":"\\ud800","command":{"_tag":"Ping","times":1}}`), "s.jsonl:1: send: meta.msgId contains a lone UTF-16 surrogate")
    assert.include(problem(`{"send":"Pinger","id":"${"a".repeat(300)}","command":{"_tag":"Ping","times":1}}`), "s.jsonl:1: send: id is 300 characters long; the limit is 256")
    assert.include(problem(`{"events":"Pinger","id":"a\\u0000"}`), "s.jsonl:1: events: id contains the NUL character")
    assert.include(problem(`{"query":"Pings","id":"\\udc00"}`), "s.jsonl:1: query: id contains a lone UTF-16 surrogate")
    assert.include(problem(`{"query":"Pings","where":{"k":"\\u0000"}}`), "s.jsonl:1: query: where.k contains the NUL character")
  })

  it.effect("a repeated msgId is a duplicate only for its own sender: another user's line with it is refused, not answered with the first outcome", () =>
    Effect.gen(function*() {
      const steps = parse([
        `{"send":"Pinger","id":"a","command":{"_tag":"Ping","times":1},"msgId":"m1","user":"alice"}`,
        `{"send":"Pinger","id":"a","command":{"_tag":"Ping","times":1},"msgId":"m1","user":"alice"}`,
        `{"send":"Pinger","id":"a","command":{"_tag":"Ping","times":1},"msgId":"m1","user":"bob"}`
      ].join("\n"))
      const outputs: Array<Scenario.Output> = []
      yield* Scenario.runSteps(Result.getOrThrow(steps), "s.jsonl", ".", (output) => Effect.sync(() => void outputs.push(output)))
      assert.deepStrictEqual(outputs.map((output) => [output.ok, output.duplicate ?? false]), [[true, false], [true, true], [false, false]])
      assert.strictEqual((outputs[2]!.error as { readonly _tag: string })._tag, "MsgIdInUse")
    }).pipe(Effect.provide(Runtime.layer({ plugins }).pipe(Layer.provideMerge(MemoryPlatform.layer)))))

  it("names the first line that refers to something missing or sends an invalid command", () => {
    assert.strictEqual(problem("{\"settle\":true}\n{\"send\":\"P.Nope\",\"id\":\"a\",\"command\":{}}"), "s.jsonl:2: send: no aggregate or state-change slice \"P.Nope\"")
    assert.strictEqual(
      problem("{\"send\":\"Pinger\",\"id\":\"a\",\"command\":{\"_tag\":\"Ping\",\"times\":\"x\"}}"),
      "s.jsonl:1: send: invalid Pinger command at [\"times\"]: Expected number"
    )
    assert.strictEqual(problem("{\"query\":\"Nope\"}"), "s.jsonl:1: query: no read model \"Nope\"")
    assert.strictEqual(problem("{\"send\":\"Pinger\",\"command\":{\"_tag\":\"Ping\",\"times\":1}}"), "s.jsonl:1: send: an aggregate command needs an \"id\"")
    assert.strictEqual(problem("{\"events\":\"Nope\",\"id\":\"a\"}"), "s.jsonl:1: events: no aggregate \"Nope\"")
    assert.strictEqual(problem("{\"upload\":\"P.Import\",\"key\":\"k\",\"path\":\"f\"}"), "s.jsonl:1: upload: no task \"P.Import\" with a bucket")
  })
})

describe("Scenario.run with state-change slices", () => {
  const Reserve = Schema.TaggedStruct("Reserve", { seatId: Schema.String })
  const seat = (name: string, mode: "sync" | "async") =>
    StateChangeSlice.make({
      name,
      command: Reserve,
      event: Schema.TaggedStruct("Reserved", { seatId: Schema.String }),
      consumedEvent: Schema.TaggedStruct("Reserved", { seatId: Schema.String }),
      rejection: Schema.Never,
      initialState: false,
      evolve: () => true,
      decide: (taken, command) => Result.succeed(taken ? [] : [{ _tag: "Reserved" as const, seatId: command.seatId }]),
      mode
    })
  const now = seat("ReserveNow", "sync")
  const BoxOffice = InboundTranslationSlice.make({
    name: "BoxOffice",
    input: Schema.Struct({ seat: Schema.String }),
    target: now,
    translate: ({ seat }) => seat === "" ? Result.fail("no seat") : Result.succeed([{ command: Reserve.make({ seatId: seat }) }])
  })
  const plugin = Plugin.make({
    name: "Venue",
    heartbeatInterval: 5,
    aggregates: [],
    stateChangeSlices: [now, seat("ReserveLater", "async")],
    inboundTranslationSlices: [BoxOffice]
  })

  it.effect("a sync slice answers with its events, an async one with the pending message id", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "scenario-"))
      const file = join(dir, "s.jsonl")
      writeFileSync(file, [
        "{\"send\":\"ReserveNow\",\"command\":{\"_tag\":\"Reserve\",\"seatId\":\"A1\"}}",
        "{\"send\":\"Venue.ReserveLater\",\"command\":{\"_tag\":\"Reserve\",\"seatId\":\"B2\"},\"msgId\":\"later-1\"}",
        "{\"settle\":true}",
        "{\"send\":\"Venue.ReserveLater\",\"command\":{\"_tag\":\"Reserve\",\"seatId\":\"B2\"},\"msgId\":\"later-1\"}",
        "{\"receive\":\"BoxOffice\",\"input\":{\"seat\":\"C3\"},\"requestId\":\"walk-in-1\"}",
        "{\"receive\":\"BoxOffice\",\"input\":{\"seat\":\"\"}}"
      ].join("\n"))
      const outputs: Array<Scenario.Output> = []
      yield* Scenario.run(file, (output) => Effect.sync(() => void outputs.push(output)))
      assert.deepStrictEqual((outputs[0]!.events as ReadonlyArray<{ readonly type: string }>).map((event) => event.type), ["Reserved"])
      assert.deepStrictEqual(outputs[1], { line: 2, ok: true, pending: "later-1" })
      assert.deepStrictEqual(outputs[3], { line: 4, ok: true, duplicate: true, msgId: "later-1", events: [] })
      assert.deepStrictEqual(outputs[4], { line: 5, ok: true, requestId: "walk-in-1", targetIds: ["C3"], commandCount: 1 })
      assert.deepStrictEqual([outputs[5]!.ok, (outputs[5]!.error as { readonly _tag: string })._tag], [false, "TranslationRefused"])
      // Checked before anything runs: a receive line's input and a slice send's routing.
      const refused = (lines: ReadonlyArray<string>) => {
        const bad = join(dir, "bad.jsonl")
        writeFileSync(bad, lines.join("\n"))
        return Effect.map(Effect.flip(Scenario.run(bad, () => Effect.void)), (error) => error.message)
      }
      assert.include(yield* refused(["{\"settle\":true}", "{\"receive\":\"BoxOffice\",\"input\":{\"row\":3}}"]), "bad.jsonl:2: receive: invalid BoxOffice input at [\"seat\"]")
      assert.include(
        yield* refused(["{\"send\":\"ReserveNow\",\"id\":\"Z9\",\"command\":{\"_tag\":\"Reserve\",\"seatId\":\"A1\"}}"]),
        "bad.jsonl:1: send: invalid ReserveNow command at id: the command's partition key is \"A1\"; leave the id empty or pass that"
      )
      // A slice's partition key is its command's id: held to an id's length.
      assert.include(
        yield* refused([`{"send":"ReserveNow","command":{"_tag":"Reserve","seatId":"${"s".repeat(300)}"}}`]),
        "bad.jsonl:1: send: command.seatId is 300 characters long; the limit is 256"
      )
    }).pipe(Effect.provide(Runtime.layer({ plugins: [plugin] }).pipe(Layer.provideMerge(MemoryPlatform.layer)))))
})
