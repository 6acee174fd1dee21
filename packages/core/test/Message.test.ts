/**
 * Message ids: the ids this process makes map to sequence numbers one to one (the memory store
 * keeps its records by them), and no other spelling, however close, shares a number.
 */
import { assert, describe, it } from "@effect/vitest"
import { Message } from "@reventless/core"
import * as MsgIds from "../src/internal/msgIds.ts"
import { Schema } from "effect"

const sample = Message.newMsgId()
const prefix = sample.slice(0, sample.lastIndexOf("."))

describe("MsgIds.sequenceOf (internal)", () => {
  it("numbers the ids newMsgId makes, in order; other ids have none", () => {
    const first = MsgIds.sequenceOf(Message.newMsgId())!
    assert.isNumber(first)
    assert.strictEqual(MsgIds.sequenceOf(Message.newMsgId()), first + 1)
    for (const other of ["", prefix, `${prefix}.`, `${prefix}.01`, `${prefix}.A`, `${prefix}x.1`, `x${prefix}.1`, crypto.randomUUID(), `${prefix}.1.2`]) {
      assert.isUndefined(MsgIds.sequenceOf(other), other)
    }
  })

  it.prop("two different ids never share a number", [Schema.String, Schema.String], ([a, b]) => {
    const left = `${prefix}.${a}`
    const right = `${prefix}.${b}`
    const [x, y] = [MsgIds.sequenceOf(left), MsgIds.sequenceOf(right)]
    if (x !== undefined && x === y) assert.strictEqual(left, right)
    if (x !== undefined) assert.strictEqual(x.toString(36), a, "only the canonical spelling has a number")
  })

  it.prop("every sequence number's canonical id maps back to it", [Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 2 ** 40 }))], ([n]) => {
    assert.strictEqual(MsgIds.sequenceOf(`${prefix}.${n.toString(36)}`), n)
  })
})
