/**
 * A map keyed by message id for an in-process store that keeps one record per command for good.
 * Ids this process made (`internal/msgIds.ts`) are kept in an array by their sequence number: no
 * string hashing and no probing of a hash table that grows with every command, which was the
 * largest single cost of a command in memory. Any other id goes to a plain Map.
 */
import { sequenceOf } from "./msgIds.ts"

export class MsgIdMap<V> {
  private readonly local: Array<V | undefined> = []
  private readonly foreign = new Map<string, V>()
  /** The last id looked at and its number: a command's id is looked up several times in a row. */
  private lastId = ""
  private lastSequence: number | undefined = undefined

  private sequenceOf(msgId: string): number | undefined {
    if (msgId !== this.lastId) {
      this.lastId = msgId
      this.lastSequence = sequenceOf(msgId)
    }
    return this.lastSequence
  }

  get(msgId: string): V | undefined {
    const sequence = this.sequenceOf(msgId)
    return sequence === undefined ? this.foreign.get(msgId) : this.local[sequence]
  }

  set(msgId: string, value: V): void {
    const sequence = this.sequenceOf(msgId)
    if (sequence === undefined) this.foreign.set(msgId, value)
    else this.local[sequence] = value
  }

  delete(msgId: string): void {
    const sequence = this.sequenceOf(msgId)
    if (sequence === undefined) this.foreign.delete(msgId)
    else if (sequence < this.local.length) this.local[sequence] = undefined
  }
}
