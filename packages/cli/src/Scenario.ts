/**
 * Scenario files: one JSON object per line, each a step against a running app: send a command,
 * hand input to an inbound translation slice, upload a file to a task's bucket, wait until consumers settle, query a read model, read a
 * stream. The whole file is checked before anything runs, so a malformed line writes nothing;
 * each step that runs yields one result (a command rejection is a result, not a failure).
 *
 * @since 0.1.0
 */
import { BlobStore, Errors, Limits, Runtime } from "@reventless/core"
import { Effect, Option, Result, Schema } from "effect"
import * as CliError from "effect/cli/CliError"
import { readFile } from "node:fs/promises"
import { dirname, resolve } from "node:path"

/**
 * @since 0.1.0
 * @category models
 */
export const Send = Schema.Struct({
  send: Schema.NonEmptyString,
  /** The instance of an aggregate; a state-change slice routes by its command and needs none. */
  id: Schema.optionalKey(Schema.NonEmptyString),
  command: Schema.Unknown,
  msgId: Schema.optionalKey(Schema.NonEmptyString),
  user: Schema.optionalKey(Schema.NonEmptyString)
})

/**
 * Outside input for an inbound translation slice.
 *
 * @since 0.1.0
 * @category models
 */
export const Receive = Schema.Struct({
  receive: Schema.NonEmptyString,
  input: Schema.Unknown,
  requestId: Schema.optionalKey(Schema.NonEmptyString),
  user: Schema.optionalKey(Schema.NonEmptyString)
})

/**
 * @since 0.1.0
 * @category models
 */
export const Upload = Schema.Struct({ upload: Schema.NonEmptyString, key: Schema.NonEmptyString, path: Schema.NonEmptyString })

/**
 * @since 0.1.0
 * @category models
 */
export const Settle = Schema.Struct({ settle: Schema.Literal(true) })

/**
 * @since 0.1.0
 * @category models
 */
export const Query = Schema.Struct({
  query: Schema.NonEmptyString,
  id: Schema.optionalKey(Schema.NonEmptyString),
  where: Schema.optionalKey(Schema.Record(Schema.String, Schema.Union([Schema.String, Schema.Finite, Schema.Boolean, Schema.Null]))),
  limit: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThan(0))),
  user: Schema.optionalKey(Schema.NonEmptyString)
})

/**
 * @since 0.1.0
 * @category models
 */
export const Events = Schema.Struct({ events: Schema.NonEmptyString, id: Schema.NonEmptyString, user: Schema.optionalKey(Schema.NonEmptyString) })

const kinds = { send: Send, receive: Receive, upload: Upload, settle: Settle, query: Query, events: Events } as const
type Kind = keyof typeof kinds

/**
 * One parsed line, with its line number.
 *
 * @since 0.1.0
 * @category models
 */
export type Step = { readonly line: number } & (
  | { readonly kind: "send"; readonly step: typeof Send.Type }
  | { readonly kind: "receive"; readonly step: typeof Receive.Type }
  | { readonly kind: "upload"; readonly step: typeof Upload.Type }
  | { readonly kind: "settle"; readonly step: typeof Settle.Type }
  | { readonly kind: "query"; readonly step: typeof Query.Type }
  | { readonly kind: "events"; readonly step: typeof Events.Type }
)

/**
 * The scenario file cannot run: it names the file, the line and what is wrong there.
 *
 * @since 0.1.0
 * @category errors
 */
export class ScenarioError extends Schema.TaggedError<ScenarioError>()("ScenarioError", {
  file: Schema.String,
  line: Schema.optionalKey(Schema.Int),
  detail: Schema.String
}) {
  override get message(): string {
    return `${this.file}${this.line === undefined ? "" : `:${this.line}`}: ${this.detail}`
  }
  override get [CliError.userMessage](): string {
    return this.message
  }
}

const describe = (error: Schema.SchemaError) => {
  const { detail, path } = Errors.describeSchemaError(error)
  return `at ${path}: ${detail}`
}

/**
 * Parses and checks every line; blank lines are skipped.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (text: string, file: string): Result.Result<ReadonlyArray<Step>, ScenarioError> => {
  const steps: Array<Step> = []
  const lines = text.split(/\r?\n/)
  for (let index = 0; index < lines.length; index++) {
    const source = lines[index]!.trim()
    const line = index + 1
    if (source === "") continue
    let json: unknown
    try {
      json = JSON.parse(source)
    } catch (error) {
      return Result.fail(new ScenarioError({ file, line, detail: `not JSON: ${(error as Error).message}` }))
    }
    const present = typeof json === "object" && json !== null && !Array.isArray(json)
      ? (Object.keys(kinds) as Array<Kind>).filter((kind) => kind in json)
      : []
    if (present.length !== 1) {
      return Result.fail(new ScenarioError({
        file,
        line,
        detail: present.length === 0
          ? `expected an object with one of ${Object.keys(kinds).map((kind) => `"${kind}"`).join(", ")}`
          : `a line does one thing; found ${present.map((kind) => `"${kind}"`).join(" and ")}`
      }))
    }
    const kind = present[0]!
    const decoded = Schema.decodeUnknownResult(kinds[kind], { onExcessProperty: "error" })(json)
    if (Result.isFailure(decoded)) return Result.fail(new ScenarioError({ file, line, detail: `${kind} ${describe(decoded.failure)}` }))
    steps.push({ line, kind, step: decoded.success } as Step)
  }
  return Result.succeed(steps)
}

/**
 * Reads and parses a scenario file.
 *
 * @since 0.1.0
 * @category parsing
 */
export const load = (file: string): Effect.Effect<ReadonlyArray<Step>, ScenarioError> =>
  Effect.flatMap(
    Effect.tryPromise({ try: () => readFile(file), catch: (error) => new ScenarioError({ file, detail: `cannot read: ${(error as Error).message}` }) }),
    (bytes) =>
      Effect.fromResult(Result.flatMap(utf8(bytes, file), (text) =>
        Result.flatMap(parse(text, file), (steps) =>
          steps.length === 0 ? Result.fail(new ScenarioError({ file, detail: "no steps: the file is empty or blank; write one JSON object per line" })) : Result.succeed(steps))))
  )

/**
 * The file's text, refused when it is not UTF-8 (naming the line and the byte), instead of
 * reading the bad bytes as U+FFFD and running something the author never wrote.
 */
const utf8 = (bytes: Uint8Array, file: string): Result.Result<string, ScenarioError> => {
  try {
    return Result.succeed(new TextDecoder("utf-8", { fatal: true }).decode(bytes))
  } catch {
    const decoder = new TextDecoder("utf-8", { fatal: true })
    let line = 1
    let lineStart = 0
    for (let i = 0; i < bytes.length; i++) {
      try {
        decoder.decode(bytes.subarray(i, i + 1), { stream: true })
      } catch {
        return Result.fail(new ScenarioError({ file, line, detail: `not UTF-8: byte ${i - lineStart + 1} of the line (0x${bytes[i]!.toString(16).padStart(2, "0")})` }))
      }
      if (bytes[i] === 0x0a) {
        line++
        lineStart = i + 1
      }
    }
    return Result.fail(new ScenarioError({ file, line, detail: "not UTF-8: it ends inside a character" }))
  }
}

/**
 * A step's result, as printed.
 *
 * @since 0.1.0
 * @category models
 */
export type Output = { readonly line: number; readonly ok: boolean } & Record<string, unknown>

const failure = (line: number, error: { readonly _tag: string; readonly message: string }) => ({
  line,
  ok: false,
  error: { ...error, _tag: error._tag, message: error.message }
})

const eventsOf = (events: ReadonlyArray<{ readonly type: string; readonly version: number; readonly data: unknown }>) =>
  events.map(({ data, type, version }) => ({ type, version, data }))

/**
 * Runs one step against the app's runtime. `baseDir` resolves upload paths.
 *
 * @since 0.1.0
 * @category running
 */
export const runStep = (
  step: Step,
  baseDir: string
): Effect.Effect<Output, never, Runtime.Runtime | BlobStore.BlobStore> =>
  Effect.gen(function*() {
    const runtime = yield* Runtime.Runtime
    const { line } = step
    switch (step.kind) {
      case "send": {
        const { command, id, msgId, send, user } = step.step
        if (msgId !== undefined) {
          // A refusal here (a msgId another sender used) is the send's own, reported by it below.
          const previous = yield* runtime.outcome({ component: send, id: id ?? "", command, meta: { msgId, user } }).pipe(Effect.orElseSucceed(Option.none))
          if (Option.isSome(previous)) {
            // The first outcome stands; nothing is appended again.
            return previous.value._tag === "Accepted"
              ? { line, ok: true, duplicate: true, msgId, events: [] }
              : { line, ok: false, duplicate: true, msgId, rejected: previous.value.error }
          }
        }
        if (slicesOf(runtime.plugins)(send)?.mode === "async") {
          // An async slice answers at once; its outcome comes later, through its events and views.
          return yield* runtime.send({ component: send, id: id ?? "", command, meta: { msgId, user } }).pipe(
            Effect.map((pending): Output => ({ line, ok: true, pending })),
            Effect.catch((error) => Effect.succeed(failure(line, error)))
          )
        }
        return yield* runtime.execute({ component: send, id: id ?? "", command, meta: { msgId, user } }).pipe(
          Effect.map((accepted): Output => ({ line, ok: true, msgId: accepted.msgId, events: eventsOf(accepted.events) })),
          Effect.catch((error): Effect.Effect<Output> =>
            Effect.succeed(error._tag === "CommandRejected" ? { line, ok: false, rejected: error.error, msgId: error.msgId } : failure(line, error)))
        )
      }
      case "receive": {
        const { input, receive, requestId, user } = step.step
        return yield* runtime.receive(receive, input, { requestId, user }).pipe(
          Effect.map((receipt): Output => ({ line, ok: true, ...receipt })),
          Effect.catch((error) => Effect.succeed(failure(line, error)))
        )
      }
      case "upload": {
        const { key, path, upload } = step.step
        const bucket = bucketOf(runtime.plugins, upload)
        if (bucket === undefined) return failure(line, { _tag: "UnknownComponent", message: `no task "${upload}" with a bucket` })
        const body = yield* Effect.tryPromise(() => readFile(resolve(baseDir, path))).pipe(Effect.option)
        if (Option.isNone(body)) return failure(line, { _tag: "FileNotFound", message: `cannot read ${resolve(baseDir, path)}` })
        const created = yield* Effect.result(Effect.flatMap(BlobStore.BlobStore, (blobs) => blobs.put(bucket, key, new Uint8Array(body.value))))
        return Result.isSuccess(created) ? { line, ok: true, bucket, key, etag: created.success.etag } : failure(line, created.failure)
      }
      case "settle":
        return yield* runtime.settle.pipe(
          Effect.map((): Output => ({ line, ok: true, settled: true })),
          Effect.catch((error) => Effect.succeed(failure(line, error)))
        )
      case "query": {
        const { id, limit, query, user, where } = step.step
        const result: Effect.Effect<Output, { readonly _tag: string; readonly message: string }> = id !== undefined
          ? Effect.map(runtime.query(query, id, { user }), (row): Output => ({ line, ok: true, id, row: Option.getOrNull(row) }))
          : Effect.map(
            runtime.list(query, { where, limit, user }),
            (page): Output => ({ line, ok: true, rows: page.items.map((item) => ({ id: item.id, ...(item.row as object) })), next: Option.getOrNull(page.next) })
          )
        return yield* Effect.catch(result, (error) => Effect.succeed(failure(line, error)))
      }
      case "events": {
        const { events, id, user } = step.step
        return yield* runtime.readStream(events, id, { user }).pipe(
          Effect.map((stream): Output => ({ line, ok: true, events: eventsOf(stream) })),
          Effect.catch((error) => Effect.succeed(failure(line, error)))
        )
      }
    }
  })

/** The bucket of a task named `Plugin.Task` (its first bucket). */
const bucketOf = (plugins: Runtime.Runtime["Service"]["plugins"], name: string): string | undefined => {
  const [pluginName, taskName] = name.split(".", 2)
  const task = plugins.find((plugin) => plugin.name === pluginName)?.tasks.find((candidate) => candidate.name === taskName)
  return task?.buckets[0]?.bucket
}

/** Components by qualified name and, when unambiguous, by short name. */
const byName = <A extends { readonly name: string }>(pairs: ReadonlyArray<readonly [string, A]>) => {
  const names = new Map<string, A | null>()
  for (const [plugin, component] of pairs) {
    names.set(`${plugin}.${component.name}`, component)
    names.set(component.name, names.has(component.name) ? null : component)
  }
  return (name: string): A | undefined => names.get(name) ?? undefined
}

/** The plugins' state-change slices by name. */
const slicesOf = (plugins: Runtime.Runtime["Service"]["plugins"]) =>
  byName(plugins.flatMap((plugin) => plugin.stateChangeSlices.map((slice) => [plugin.name, slice] as const)))

/**
 * Checks every line against the app's runtime as it would run, before any line runs, so that a
 * bad file writes nothing: components, read models and tasks exist, commands decode and pass the
 * runtime's input limits (`Runtime.check`: ids, msgIds, users, payload size and depth, NUL and
 * lone surrogates), slice commands route where the line says, and the ids of queries and reads
 * are storable.
 *
 * @since 0.1.0
 * @category parsing
 */
export const check = (steps: ReadonlyArray<Step>, file: string): Effect.Effect<void, ScenarioError, Runtime.Runtime> =>
  Effect.gen(function*() {
    const runtime = yield* Runtime.Runtime
    const plugins = runtime.plugins
    const aggregate = byName(plugins.flatMap((plugin) => plugin.aggregates.map((a) => [plugin.name, a] as const)))
    const readModel = byName(plugins.flatMap((plugin) => plugin.readModels.map((r) => [plugin.name, r] as const)))
    const inbound = byName(plugins.flatMap((plugin) => plugin.inboundTranslationSlices.map((s) => [plugin.name, s] as const)))
    const fail = (line: number, detail: string) => Effect.fail(new ScenarioError({ file, line, detail }))
    /** A storable id, or the problem with it. */
    const idProblem = (where: string, path: string, id: string | undefined) => {
      const refused = id === undefined ? undefined : Limits.checkId(runtime.limits, where, path, id)
      return refused === undefined ? undefined : `${path} ${refused.detail}`
    }
    for (const step of steps) {
      switch (step.kind) {
        case "send": {
          const { command, id, msgId, send, user } = step.step
          if (aggregate(send) !== undefined && id === undefined) return yield* fail(step.line, `send: an aggregate command needs an "id"`)
          const checked = yield* Effect.result(runtime.check({ component: send, id: id ?? "", command, meta: { msgId, user } }))
          if (Result.isFailure(checked)) return yield* fail(step.line, `send: ${sendProblem(send, checked.failure)}`)
          break
        }
        case "receive": {
          const slice = inbound(step.step.receive)
          if (slice === undefined) return yield* fail(step.line, `receive: no inbound translation slice ${JSON.stringify(step.step.receive)}`)
          const refused = Limits.checkRequest(runtime.limits, step.step.receive, step.step.input, step.step)
          if (refused !== undefined) return yield* fail(step.line, `receive: ${refused.path} ${refused.detail}`)
          const input = Schema.decodeUnknownResult(slice.input)(step.step.input)
          if (Result.isFailure(input)) return yield* fail(step.line, `receive: invalid ${step.step.receive} input ${describe(input.failure)}`)
          break
        }
        case "events": {
          if (aggregate(step.step.events) === undefined) return yield* fail(step.line, `events: no aggregate ${JSON.stringify(step.step.events)}`)
          const bad = idProblem("events", "id", step.step.id) ?? idProblem("events", "user", step.step.user)
          if (bad !== undefined) return yield* fail(step.line, `events: ${bad}`)
          break
        }
        case "query": {
          if (readModel(step.step.query) === undefined) return yield* fail(step.line, `query: no read model ${JSON.stringify(step.step.query)}`)
          const bad = idProblem("query", "id", step.step.id) ?? idProblem("query", "user", step.step.user)
          if (bad !== undefined) return yield* fail(step.line, `query: ${bad}`)
          const refused = step.step.where === undefined ? undefined : Limits.checkPayload(runtime.limits, "query", "where", step.step.where)
          if (refused !== undefined) return yield* fail(step.line, `query: ${refused.path} ${refused.detail}`)
          break
        }
        case "upload":
          if (bucketOf(plugins, step.step.upload) === undefined) return yield* fail(step.line, `upload: no task ${JSON.stringify(step.step.upload)} with a bucket`)
          break
        case "settle":
      }
    }
  })

/** What `Runtime.check` found wrong with a send line, in the line's own terms. */
const sendProblem = (send: string, error: Errors.InputError): string => {
  switch (error._tag) {
    case "UnknownComponent":
      return `no aggregate or state-change slice ${JSON.stringify(send)}`
    case "InvalidCommand":
      return `invalid ${send} command at ${error.path}: ${error.detail}`
    case "InvalidInput":
      return `${error.path} ${error.detail}`
    case "InvalidJson":
      return error.message
  }
}

/**
 * Checks every step against the app's plugins, then runs them in order, handing each result to
 * `emit`; `source` names where the steps came from in errors, `baseDir` resolves upload paths.
 *
 * @since 0.1.0
 * @category running
 */
export const runSteps = (
  steps: ReadonlyArray<Step>,
  source: string,
  baseDir: string,
  emit: (output: Output, step: Step) => Effect.Effect<void>
): Effect.Effect<void, ScenarioError, Runtime.Runtime | BlobStore.BlobStore> =>
  Effect.gen(function*() {
    yield* check(steps, source)
    yield* Effect.forEach(steps, (step) => Effect.flatMap(runStep(step, baseDir), (output) => emit(output, step)), { discard: true })
  })

/**
 * Runs a whole file: checks every line, then runs them in order, handing each result to `emit`.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (
  file: string,
  emit: (output: Output, step: Step) => Effect.Effect<void>
): Effect.Effect<void, ScenarioError, Runtime.Runtime | BlobStore.BlobStore> =>
  Effect.flatMap(load(file), (steps) => runSteps(steps, file, dirname(file), emit))
