/**
 * The one rule for an event's stored type, by where the event lives: a stream of a component (an
 * aggregate, an extension point, an inbound slice's audit) types it `<component>.<_tag>`
 * (`Catalog.Product.Added`); a plugin's DCB log types it by its bare `_tag`, since DCB queries
 * select events by the tags of the schemas that consume them. An event without a `_tag` takes
 * the component's (or slice's) name.
 */

const tagOf = (data: unknown): unknown => typeof data === "object" && data !== null ? (data as { readonly _tag?: unknown })._tag : undefined

/** The type of an event of `component`'s streams. */
export const ofComponent = (component: string, data: unknown): string => {
  const tag = tagOf(data)
  return typeof tag === "string" ? `${component}.${tag}` : component
}

/**
 * `ofComponent` with the types it made kept, by component and tag: for the command path, which
 * types every event it stores. One per processor, so it lives as long as its runtime.
 */
export const cached = (): ((component: string, data: unknown) => string) => {
  const types = new Map<string, Map<string, string>>()
  return (component, data) => {
    const tag = tagOf(data)
    if (typeof tag !== "string") return component
    let byTag = types.get(component)
    if (byTag === undefined) types.set(component, byTag = new Map())
    let type = byTag.get(tag)
    if (type === undefined) byTag.set(tag, type = `${component}.${tag}`)
    return type
  }
}

/** The type of an event a state-change slice appends to its plugin's DCB log. */
export const ofDcbLog = (slice: string, data: unknown): string => {
  const tag = tagOf(data)
  return typeof tag === "string" ? tag : slice
}
