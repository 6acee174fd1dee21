/**
 * The one codec cache: a schema compiled into its `Result` decoder and encoder once, kept for as
 * long as the schema lives (compiling costs far more than running). Aggregates, state-change
 * slices and extension-point contracts take their codecs from here, so a schema two components
 * share is compiled once.
 */
import { type Result, Schema } from "effect"

export interface Codec<A> {
  readonly decode: (input: unknown) => Result.Result<A, Schema.SchemaError>
  readonly encode: (value: A) => Result.Result<unknown, Schema.SchemaError>
}

const compiled = new WeakMap<object, Codec<any>>()

/** The compiled codec of `schema`. */
export const of = <A>(schema: Schema.Codec<A, unknown>): Codec<A> => {
  let found = compiled.get(schema) as Codec<A> | undefined
  if (found === undefined) {
    found = { decode: Schema.decodeUnknownResult(schema), encode: Schema.encodeUnknownResult(schema) }
    compiled.set(schema, found)
  }
  return found
}
