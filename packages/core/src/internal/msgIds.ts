/**
 * Message ids this process makes: a random prefix drawn once per process, then a counter. An
 * in-process store keeps its records of these ids by number (`sequenceOf`, `MsgIdMap`) instead of
 * hashing the id; nothing outside this process needs to know.
 */
import { randomBytes } from "node:crypto"

const processPrefix = randomBytes(12).toString("base64url")
let issued = 0

/** The next id of this process (`Message.newMsgId`). */
export const next = (): string => `${processPrefix}.${(issued++).toString(36)}`

/**
 * The sequence number of an id that `next` made in this process, or `undefined` for any other
 * id. Only the canonical spelling counts (no leading zero), so each id has at most one number.
 */
export const sequenceOf = (msgId: string): number | undefined => {
  const start = processPrefix.length + 1
  const length = msgId.length - start
  if (length < 1 || length > 10 || msgId.charCodeAt(start - 1) !== 46 || !msgId.startsWith(processPrefix)) return undefined
  if (length > 1 && msgId.charCodeAt(start) === 48) return undefined
  let value = 0
  for (let i = start; i < msgId.length; i++) {
    const code = msgId.charCodeAt(i)
    const digit = code >= 48 && code <= 57 ? code - 48 : code >= 97 && code <= 122 ? code - 87 : -1
    if (digit < 0) return undefined
    value = value * 36 + digit
  }
  return value
}

/**
 * The msgId a sender made for the send it is about to await, so that the store's waiter need not
 * look for an outcome stored before (a round trip per command on a database). One slot, set and
 * taken in the same synchronous call (`EventStore.make`'s `awaitOutcome`), so nothing runs in
 * between; a store that awaits later just looks.
 */
let fresh: string | undefined

/** Marks `msgId` as made for the send that is awaited next, in this very call. */
export const markFresh = (msgId: string): void => {
  fresh = msgId
}

/** Whether `msgId` was marked fresh; clears the mark either way. */
export const takeFresh = (msgId: string): boolean => {
  const was = fresh === msgId
  fresh = undefined
  return was
}
