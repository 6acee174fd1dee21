/**
 * The edge's input checks (guarantee 8): what they refuse is exactly what a store cannot keep
 * (NUL, lone surrogates) or what the documented limits exclude, with the path of the value; and
 * they hold for any JSON, however deep, without a stack overflow.
 */
import { assert, describe, it } from "@effect/vitest"
import { Limits } from "@reventless/core"
import { Arbitrary, Schema } from "effect"

const limits = Limits.defaults
const check = (payload: unknown) => Limits.checkPayload(limits, "test", "command", payload)

/** Whether a string is storable text, by an independent oracle (encodeURIComponent refuses lone surrogates). */
const storable = (text: string) => {
  if (text.includes("\u0000")) return false
  try {
    encodeURIComponent(text)
    return true
  } catch {
    return false
  }
}

/** Any UTF-16 code units, lone surrogates and NUL included (Schema.String draws printable text). */
const codeUnits = Arbitrary.map(
  Arbitrary.schema(Schema.Array(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 0xffff })))),
  (codes) => String.fromCharCode(...codes.slice(0, 64))
)

describe("Limits", () => {
  it.prop("a string is refused exactly when it holds a NUL or a lone surrogate", [codeUnits], ([text]) => {
    const refused = Limits.checkId(limits, "test", "id", text)
    assert.strictEqual(refused === undefined, storable(text), JSON.stringify(text))
  })

  it.prop("a NUL anywhere in a payload's strings is refused", [codeUnits, Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 64 }))], ([text, at]) => {
    const poisoned = text.slice(0, at) + "\u0000" + text.slice(at)
    assert.isDefined(check({ deep: [{ value: poisoned }] }))
  })

  it("names the problem and the path", () => {
    const nul = check({ lines: [{ sku: "a\u0000b" }] })
    assert.deepStrictEqual([nul?.problem, nul?.path], ["NulCharacter", "command.lines[0].sku"])
    const lone = check({ "odd key": ["x", "\uD800"] })
    assert.deepStrictEqual([lone?.problem, lone?.path], ["LoneSurrogate", `command["odd key"][1]`])
    assert.isUndefined(check({ emoji: "\uD83D\uDE00" }), "a surrogate pair is text")
    const key = check({ ["k\u0000"]: 1 })
    assert.deepStrictEqual([key?.problem, key?.path], ["NulCharacter", `command["k\\u0000"]`])
    const long = Limits.checkId(limits, "test", "meta.msgId", "m".repeat(limits.maxIdLength + 1))
    assert.deepStrictEqual([long?.problem, long?.path], ["TooLong", "meta.msgId"])
    assert.isUndefined(Limits.checkId(limits, "test", "id", "m".repeat(limits.maxIdLength)))
  })

  it("refuses a payload past its size exactly at the limit, counting UTF-8 bytes of its JSON", () => {
    const fits = { text: "x".repeat(limits.maxPayloadBytes - 11) }
    assert.strictEqual(Buffer.byteLength(JSON.stringify(fits)), limits.maxPayloadBytes)
    assert.isUndefined(check(fits))
    const over = check({ text: "x".repeat(limits.maxPayloadBytes - 10) })
    assert.strictEqual(over?.problem, "TooLarge")
    const wide = check({ text: "é".repeat(limits.maxPayloadBytes / 2) })
    assert.strictEqual(wide?.problem, "TooLarge", "two bytes per é")
  })

  it("counts the size exactly whatever made the first walk stop early, and control characters at their JSON length", () => {
    const withEmoji = check({ emoji: "\uD83D\uDE00", pad: "x".repeat(limits.maxPayloadBytes) })
    assert.strictEqual(withEmoji?.problem, "TooLarge", "a surrogate pair before the bulk does not hide it")
    // U+0001 is 1 byte of UTF-8 but 6 of JSON ("\u0001").
    const control = check({ text: "\u0001".repeat(Math.ceil(limits.maxPayloadBytes / 6) + 1) })
    assert.strictEqual(control?.problem, "TooLarge")
    assert.isUndefined(check({ text: "\u0001".repeat(Math.floor(limits.maxPayloadBytes / 6) - 10) }))
  })

  it.prop("a storable copy of any command passes the default limits, whatever it held and however the runtime's limits were raised", [codeUnits, codeUnits, Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 600 }))], ([a, b, n]) => {
    const raised: Limits.Limits = { maxIdLength: 100_000, maxPayloadBytes: 10_000_000, maxDepth: 1000 }
    // Long runs of a pair and of lone halves, so that every cut lands somewhere awkward.
    const id = `${a}${"\uD83D\uDE00".repeat(n)}${b}\uD800`
    const message = {
      component: "C",
      id,
      msgId: `${b}${"m".repeat(n)}\u0000`,
      meta: { service: a, time: "", ip: "", user: `${a}\uDC00`, msgId: b, correlationId: id },
      command: { [a]: `${b}\u0000`, deep: JSON.parse("[".repeat(100) + "]".repeat(100)) as unknown }
    }
    const copy = Limits.storableMessage(raised, message)
    assert.isUndefined(Limits.checkCommand(Limits.defaults, copy), JSON.stringify(Limits.checkCommand(Limits.defaults, copy)))
    assert.isUndefined(Limits.checkId(Limits.defaults, "test", "msgId", copy.msgId))
    assert.isUndefined(Limits.checkId(Limits.defaults, "test", "component", copy.component))
    const long = Limits.storableText(`${"\uD83D\uDE00".repeat(1_500)}${a}`, 2_000)
    assert.isAtMost(long.length, 2_000)
    assert.isUndefined(Limits.checkId({ ...Limits.defaults, maxIdLength: 2_000 }, "test", "reason", long))
  })

  it("refuses nesting past the depth limit, however deep, without overflowing the stack", () => {
    const nested = (depth: number) => JSON.parse("[".repeat(depth) + "]".repeat(depth)) as unknown
    assert.isUndefined(check(nested(limits.maxDepth)))
    assert.strictEqual(check(nested(limits.maxDepth + 1))?.problem, "TooDeep")
    assert.strictEqual(check(nested(200_000))?.problem, "TooDeep")
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    assert.strictEqual(check(cyclic)?.problem, "TooDeep", "a cycle is refused, not walked for ever")
  })

  it("checks every metadata string of a command", () => {
    const refused = Limits.checkCommand(limits, { component: "C", id: "1", command: {}, meta: { user: "bob\u0000" } })
    assert.deepStrictEqual([refused?.problem, refused?.path], ["NulCharacter", "meta.user"])
  })
})
