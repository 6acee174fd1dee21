/**
 * The one rule for an event's stored type, by where the event lives: a stream of a component (an
 * aggregate, an extension point, an inbound slice's audit) types it `<component>.<_tag>`
 * (`Catalog.Product.Added`); a plugin's DCB log types it by its bare `_tag`, since DCB queries
 * select events by the tags of the schemas that consume them. An event without a `_tag` takes
 * the component's (or slice's) name.
 */

/** Types by tag, per component, made once each: the command path types every event it stores. */
const qualified = new Map<string, Map<string, string>>()

const tagOf = (data: unknown): unknown => typeof data === "object" && data !== null ? (data as { readonly _tag?: unknown })._tag : undefined

/** The type of an event of `component`'s streams. */
export const ofComponent = (component: string, data: unknown): string => {
  const tag = tagOf(data)
  if (typeof tag !== "string") return component
  let types = qualified.get(component)
  if (types === undefined) qualified.set(component, types = new Map())
  let type = types.get(tag)
  if (type === undefined) types.set(tag, type = `${component}.${tag}`)
  return type
}

/** The type of an event a state-change slice appends to its plugin's DCB log. */
export const ofDcbLog = (slice: string, data: unknown): string => {
  const tag = tagOf(data)
  return typeof tag === "string" ? tag : slice
}
