/**
 * What every platform's stores and transports can keep, checked where input enters (guarantee 8):
 * a command's id, msgId, metadata and payload, an inbound request, the ids of a query. PostgreSQL
 * cannot store a NUL character nor a lone UTF-16 surrogate, its indexes refuse keys past a few
 * kilobytes, SQS refuses messages past 256 KiB, and a parser or a schema decoder overflows its
 * stack on JSON nested deep enough. A value past any of these is refused with `InvalidInput`
 * naming the field, before anything is sent or written, on every platform alike: what memory
 * accepts, PostgreSQL and AWS accept too.
 *
 * @since 0.1.0
 */
import { createHash } from "node:crypto"
import { InvalidInput } from "./Errors.ts"
import type { CommandMessage } from "./Message.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface Limits {
  /** Characters of an id, a msgId, a user and every other metadata string (default 256). */
  readonly maxIdLength: number
  /** UTF-8 bytes of a payload's JSON (default 131,072: 128 KiB, half of SQS's message limit). */
  readonly maxPayloadBytes: number
  /** Levels of nested arrays and objects in a payload (default 64). */
  readonly maxDepth: number
}

/**
 * The limits in force unless `Runtime.layer`'s `limits` option sets others. Raising them past
 * what a platform can keep moves the refusal from the edge to the store (the command is parked).
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaults: Limits = { maxIdLength: 256, maxPayloadBytes: 128 * 1024, maxDepth: 64 }

/** NUL, or either half of a surrogate pair: the characters worth a closer look. */
const suspect = /[\u0000\uD800-\uDFFF]/

const describeChar = (code: number) => `U+${code.toString(16).toUpperCase().padStart(4, "0")}`

/** The first character a store cannot keep, as a problem; `undefined` when there is none. */
const unstorable = (text: string): { readonly problem: "NulCharacter" | "LoneSurrogate"; readonly detail: string } | undefined => {
  if (!suspect.test(text)) return undefined
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code === 0) return { problem: "NulCharacter", detail: `contains the NUL character (U+0000) at index ${i}, which PostgreSQL cannot store; remove it` }
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++
        continue
      }
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      return { problem: "LoneSurrogate", detail: `contains a lone UTF-16 surrogate (${describeChar(code)}) at index ${i}, which is not Unicode text; send well-formed UTF-16` }
    }
  }
  return undefined
}

/**
 * Checks a string the stores keep as a key or a metadata field: storable, and at most
 * `maxIdLength` characters.
 *
 * @since 0.1.0
 * @category checks
 */
export const checkId = (limits: Limits, where: string, path: string, value: string): InvalidInput | undefined => {
  if (value.length > limits.maxIdLength) {
    return new InvalidInput({ where, path, problem: "TooLong", detail: `is ${value.length} characters long; the limit is ${limits.maxIdLength}` })
  }
  const bad = unstorable(value)
  return bad === undefined ? undefined : new InvalidInput({ where, path, ...bad })
}

/** One value met on the walk, with the way back to the root for the path of a problem. */
interface Frame {
  readonly value: unknown
  readonly depth: number
  readonly parent: Frame | undefined
  readonly key: string | number | undefined
}

const step = (key: string | number): string =>
  typeof key === "number" ? `[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`

const pathOf = (root: string, frame: Frame, key?: string): string => {
  const parts: Array<string> = key === undefined ? [] : [step(key)]
  for (let at: Frame | undefined = frame; at?.key !== undefined; at = at.parent) parts.push(step(at.key))
  return root + parts.reverse().join("")
}

/** JSON's longest spelling of one UTF-16 unit: a control character is written `\u00XX`. */
const maxBytesPerUnit = 6

/**
 * An upper bound of a payload's JSON in UTF-8 bytes (6 per UTF-16 unit of text, generous
 * framing), or -1 when it is doubtful: a string or key holds a NUL or any surrogate (which the
 * careful walk then looks at closely: a surrogate pair is text), or it nests past `maxDepth`. One
 * walk that allocates nothing; its recursion is bounded by `maxDepth`, so it cannot overflow.
 */
const measure = (value: unknown, depth: number, limits: Limits): number => {
  if (typeof value === "string") return suspect.test(value) ? -1 : value.length * maxBytesPerUnit + 2
  if (typeof value !== "object" || value === null) return 24
  if (depth >= limits.maxDepth) return -1
  let bound = 2
  if (Array.isArray(value)) {
    bound += value.length
    for (let i = 0; i < value.length; i++) {
      const element = measure(value[i], depth + 1, limits)
      if (element < 0) return -1
      bound += element
    }
    return bound
  }
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue
    if (suspect.test(key)) return -1
    const field = measure((value as Record<string, unknown>)[key], depth + 1, limits)
    if (field < 0) return -1
    bound += key.length * maxBytesPerUnit + 4 + field
  }
  return bound
}

/**
 * Checks a JSON payload (a command, an inbound request): every string and key storable, nested
 * at most `maxDepth` deep, its JSON at most `maxPayloadBytes`. The common case is one recursive
 * walk; a doubtful payload is walked again without recursion (a payload nested a million deep is
 * refused, not a stack overflow) for the path of its problem; its size is counted exactly when
 * the cheap upper bound passes the limit or the first walk stopped early.
 *
 * @since 0.1.0
 * @category checks
 */
export const checkPayload = (limits: Limits, where: string, root: string, payload: unknown): InvalidInput | undefined => {
  const bound = measure(payload, 0, limits)
  if (bound < 0) {
    const found = locate(limits, where, root, payload)
    if (found !== undefined) return found
    // Only text (a surrogate pair) made it doubtful: count exactly.
  } else if (bound <= limits.maxPayloadBytes) {
    return undefined
  }
  let size: number
  try {
    size = Buffer.byteLength(JSON.stringify(payload) ?? "")
  } catch {
    // Not JSON at all (a BigInt, say): the component's schema says what is wrong with it.
    return undefined
  }
  return size <= limits.maxPayloadBytes
    ? undefined
    : new InvalidInput({ where, path: root, problem: "TooLarge", detail: `is ${size} bytes of JSON; the limit is ${limits.maxPayloadBytes}` })
}

/** The careful walk: the first problem of a payload `measure` doubted, with its path. */
const locate = (limits: Limits, where: string, root: string, payload: unknown): InvalidInput | undefined => {
  const stack: Array<Frame> = [{ value: payload, depth: 0, parent: undefined, key: undefined }]
  while (stack.length > 0) {
    const frame = stack.pop()!
    const value = frame.value
    if (typeof value === "string") {
      const bad = unstorable(value)
      if (bad !== undefined) return new InvalidInput({ where, path: pathOf(root, frame), ...bad })
      continue
    }
    if (typeof value !== "object" || value === null) continue
    const depth = frame.depth + 1
    if (depth > limits.maxDepth) {
      return new InvalidInput({ where, path: pathOf(root, frame), problem: "TooDeep", detail: `nests deeper than ${limits.maxDepth} levels of arrays and objects` })
    }
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], depth, parent: frame, key: i })
      continue
    }
    for (const key of Object.keys(value).reverse()) {
      const bad = unstorable(key)
      if (bad !== undefined) return new InvalidInput({ where, path: pathOf(root, frame, key), ...bad, detail: `its key ${bad.detail}` })
      stack.push({ value: (value as Record<string, unknown>)[key], depth, parent: frame, key })
    }
  }
  return undefined
}

/**
 * Checks a command before it is sent: its id, the metadata the caller set, its payload.
 *
 * @since 0.1.0
 * @category checks
 */
export const checkCommand = (
  limits: Limits,
  request: { readonly component: string; readonly id: string; readonly command: unknown; readonly meta?: object | undefined }
): InvalidInput | undefined => {
  // The common case costs one look at each string and one walk of the payload, and allocates nothing.
  if (request.id.length > limits.maxIdLength || suspect.test(request.id)) {
    const id = checkId(limits, commandWhere(request), "id", request.id)
    if (id !== undefined) return id
  }
  const meta = request.meta as Record<string, unknown> | undefined
  if (meta !== undefined) {
    for (const key in meta) {
      const value = meta[key]
      if (typeof value !== "string" || (value.length <= limits.maxIdLength && !suspect.test(value))) continue
      const bad = checkId(limits, commandWhere(request), `meta.${key}`, value)
      if (bad !== undefined) return bad
    }
  }
  const bound = measure(request.command, 0, limits)
  if (bound >= 0 && bound <= limits.maxPayloadBytes) return undefined
  return checkPayload(limits, commandWhere(request), "command", request.command)
}

const commandWhere = (request: { readonly component: string; readonly id: string }) =>
  `command for ${request.component.slice(0, 128)} ${JSON.stringify(request.id.slice(0, 64))}`

/**
 * Checks an inbound translation slice's request before it is translated: its input, and the
 * request id and user when given.
 *
 * @since 0.1.0
 * @category checks
 */
export const checkRequest = (
  limits: Limits,
  slice: string,
  input: unknown,
  options: { readonly requestId?: string | undefined; readonly user?: string | undefined }
): InvalidInput | undefined => {
  const where = `request to ${slice.slice(0, 128)}`
  return checkPayload(limits, where, "input", input) ??
    (options.requestId === undefined ? undefined : checkId(limits, where, "requestId", options.requestId)) ??
    (options.user === undefined ? undefined : checkId(limits, where, "user", options.user))
}

/**
 * The first `max` UTF-16 units of a text, one fewer when the cut would split a surrogate pair
 * (its first half alone is not storable).
 *
 * @since 0.1.0
 * @category utils
 */
export const cut = (text: string, max: number): string => {
  if (text.length <= max) return text
  const end = Math.max(0, max)
  const last = text.charCodeAt(end - 1)
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? end - 1 : end)
}

/**
 * A string every store can keep and index: NUL and lone surrogates written out as `\u0000` text,
 * cut to `max` characters without splitting a pair. A changed string ends in a digest of the
 * original, so two different originals stay two different keys.
 *
 * @since 0.1.0
 * @category utils
 */
export const storableText = (text: string, max: number): string => {
  const escaped = unstorable(text) === undefined
    ? text
    : text.replace(/\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`)
  if (escaped === text && text.length <= max) return text
  const digest = `~${createHash("sha256").update(text).digest("base64url").slice(0, 22)}`
  return `${cut(escaped, max - digest.length)}${digest}`
}

/**
 * A copy of a command that any store can keep, whatever it held: for parking one that could not
 * be stored as sent (it came past the edge: a derived command, a message put on the queue by
 * hand, limits set past a platform's). Every string of its address and metadata is made storable
 * (`storableText`); a payload past the limits is kept as its JSON text, escaped and cut.
 *
 * @since 0.1.0
 * @category constructors
 */
export const storableMessage = (configured: Limits, message: CommandMessage): CommandMessage => {
  // Never past the defaults, which every platform can keep, whatever the runtime was set to allow.
  const limits: Limits = {
    maxIdLength: Math.min(configured.maxIdLength, defaults.maxIdLength),
    maxPayloadBytes: Math.min(configured.maxPayloadBytes, defaults.maxPayloadBytes),
    maxDepth: Math.min(configured.maxDepth, defaults.maxDepth)
  }
  const text = (value: string) => storableText(value, limits.maxIdLength)
  const meta = Object.fromEntries(Object.entries(message.meta).map(([key, value]) => [key, typeof value === "string" ? text(value) : value])) as CommandMessage["meta"]
  let command: unknown = message.command
  if (checkPayload(limits, "park", "command", command) !== undefined) {
    let json: string
    try {
      json = JSON.stringify(command) ?? String(command)
    } catch (error) {
      json = `(not serializable: ${String(error)})`
    }
    command = { unstorable: storableText(json, Math.floor(limits.maxPayloadBytes / maxBytesPerUnit)) }
  }
  return { component: text(message.component), id: text(message.id), msgId: text(message.msgId), meta, command }
}
