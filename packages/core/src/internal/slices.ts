/**
 * Commands of state-change slices: read the decision model through the command's query over the
 * plugin's DCB log, fold, decide, and commit the events (or the rejection) together with the
 * outcome, on the condition that nothing matching the query arrived after what was read. A
 * conflict is decided again on fresh reads (the processor retries it).
 */
import { type Context, Effect, Result, type Schema } from "effect"
import type { DcbConflict } from "../DcbQuery.ts"
import { describeSchemaError, InfrastructureError, isInfrastructureError } from "../Errors.ts"
import type * as Event from "../Event.ts"
import type { EventStore } from "../EventStore.ts"
import type { CommandMessage } from "../Message.ts"
import type { QueryEngine } from "../QueryEngine.ts"
import * as StateChangeSlice from "../StateChangeSlice.ts"
import { PermanentFailure } from "./commands.ts"
import type { SliceEntry } from "./registry.ts"
import * as EventType from "./eventType.ts"

const pageSize = 512

const invalid = (what: string, error: Schema.SchemaError) => {
  const { detail, path } = describeSchemaError(error)
  return new PermanentFailure({ reason: `${what} at ${path}: ${detail}` })
}

export const sliceCommand = (
  store: EventStore["Service"],
  queries: Context.Context<QueryEngine>
) =>
(entry: SliceEntry, message: CommandMessage): Effect.Effect<void, DcbConflict | PermanentFailure | InfrastructureError> =>
  Effect.gen(function*() {
    const { codecs, log, slice } = entry
    const command = codecs.decodeCommand(message.command)
    if (Result.isFailure(command)) return yield* invalid(`invalid command for ${entry.qualified}`, command.failure)
    const query = StateChangeSlice.queryFor(slice, command.success)
    const read: Array<Event.Envelope> = []
    let after = 0
    while (true) {
      const page = yield* store.readTagged({ log, query, after, limit: pageSize })
      read.push(...page.events)
      if (page.events.length < pageSize) break
      after = page.through
    }
    const folded = StateChangeSlice.fold(slice, read)
    if (Result.isFailure(folded)) return yield* new PermanentFailure({ reason: folded.failure.message })
    const state = folded.success
    const condition = { failIfEventsMatch: query, after: read.length === 0 ? 0 : read[read.length - 1]!.position }
    const decision = yield* Effect.result(Effect.provideContext(StateChangeSlice.decideEffect(slice, state, command.success), queries))
    const outcome = { msgId: message.msgId, component: entry.qualified, id: message.id }
    if (Result.isFailure(decision)) {
      if (isInfrastructureError(decision.failure)) return yield* decision.failure
      const error = codecs.encodeRejection(decision.failure)
      if (Result.isFailure(error)) return yield* invalid(`${entry.qualified} rejected with an invalid error`, error.failure)
      const [result] = yield* store.commit([{ _tag: "RejectTagged", log, condition, outcome: { _tag: "Rejected", ...outcome, error: error.success, user: message.meta.user } }])
      if (result!._tag === "Conflict") return yield* Effect.fail(result!.conflict as DcbConflict)
      return
    }
    const events: Array<Event.NewEvent & { readonly tags: ReadonlyArray<string> }> = []
    for (const event of decision.success) {
      const data = codecs.encodeEvent(event)
      if (Result.isFailure(data)) return yield* invalid(`${entry.qualified} emitted an invalid event`, data.failure)
      events.push({ type: EventType.ofDcbLog(slice.name, data.success), schemaVersion: 1, data: data.success, tags: StateChangeSlice.tagsOf(event, slice.event) })
    }
    const [result] = yield* store.commit([{ _tag: "AppendTagged", request: { ...outcome, log, events, condition, meta: message.meta } }])
    if (result!._tag === "Conflict") return yield* Effect.fail(result!.conflict as DcbConflict)
  })
