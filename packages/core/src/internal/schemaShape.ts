/**
 * What the DCB layer reads off schemas: each tagged-struct member's fields as stored (their
 * shapes) and which of them are tags (`*Id`, `*Ids`, or marked with `tag` / `noTag`), cached per
 * schema. `StateChangeSlice` exports these under their public names; plugin validation and the
 * slice runtime use them.
 */
import { type Schema, SchemaAST } from "effect"

/** A field that is a tag, and the key its tags take. */
export interface TagField {
  readonly field: string
  readonly key: string
}

export const TagAnnotation = "~@reventless/core/StateChangeSlice/tag"

const render = (ast: SchemaAST.AST, depth: number): string => {
  if (depth > 8) return "…"
  switch (ast._tag) {
    case "Literal":
      return JSON.stringify(ast.literal)
    case "Union":
      return [...new Set(ast.types.map((member) => render(member, depth + 1)))].sort().join(" | ")
    case "Arrays": {
      const elements = ast.elements.map((element) => render(element, depth + 1))
      const [rest] = ast.rest
      if (elements.length === 0 && rest !== undefined) return `${wrap(render(rest, depth + 1))}[]`
      return `[${[...elements, ...(rest === undefined ? [] : [`...${wrap(render(rest, depth + 1))}[]`])].join(", ")}]`
    }
    case "Objects": {
      const fields = ast.propertySignatures
        .map((property) => `${String(property.name)}${SchemaAST.isOptional(property.type) ? "?" : ""}: ${render(property.type, depth + 1)}`)
        .sort()
      return `{ ${fields.join("; ")} }`
    }
    case "Suspend":
      return render(ast.thunk(), depth + 1)
    default:
      return ast._tag.toLowerCase()
  }
}

const wrap = (shape: string) => shape.includes(" ") ? `(${shape})` : shape

/** The shape of a schema as stored (its encoded side), checks left out. */
export const shapeOf = (schema: { readonly ast: unknown }): string => render(SchemaAST.toEncoded(schema.ast as SchemaAST.AST), 0)

/** By name: `*Id` fields and `*Ids` arrays, unless marked otherwise. */
const defaultTagKey = (field: string): string | undefined =>
  field.endsWith("Ids") ? field.slice(0, -1) : field.endsWith("Id") ? field : undefined

const tagKeyOf = (field: string, marked: unknown): string | undefined =>
  marked === true ? field : marked === false ? undefined : defaultTagKey(field)

export interface Member {
  /** Each field's stored shape, `?` in front when optional. */
  readonly fields: ReadonlyMap<string, string>
  readonly tags: ReadonlyArray<TagField>
}

const described = new WeakMap<object, ReadonlyMap<string, Member>>()

/** The members of a tagged-struct union by `_tag` (classes and other declarations give none). */
export const describe = (schema: { readonly ast: unknown }): ReadonlyMap<string, Member> => {
  const root = schema.ast as SchemaAST.AST
  const known = described.get(root)
  if (known !== undefined) return known
  const result = new Map<string, Member>()
  const visit = (ast: SchemaAST.AST) => {
    if (ast._tag === "Union") return ast.types.forEach(visit)
    if (ast._tag !== "Objects") return
    const tagged = ast.propertySignatures.find((property) => property.name === "_tag")?.type
    if (tagged?._tag !== "Literal" || typeof tagged.literal !== "string") return
    const properties = ast.propertySignatures.filter((property) => property.name !== "_tag")
    result.set(tagged.literal, {
      fields: new Map(properties.map((property) => [
        String(property.name),
        `${SchemaAST.isOptional(property.type) ? "?" : ""}${render(SchemaAST.toEncoded(property.type), 0)}`
      ])),
      tags: properties.flatMap((property) => {
        const key = tagKeyOf(String(property.name), property.type.annotations?.[TagAnnotation])
        return key === undefined ? [] : [{ field: String(property.name), key }]
      })
    })
  }
  // The structure on the type side (plain tagged structs, as values are), each field as stored.
  visit(root)
  described.set(root, result)
  return result
}

/** The tags of a value, `key:value` for each tag field: as `schema` declares them, or by field names alone. */
export const tagsOf = (value: unknown, schema?: { readonly ast: unknown }): Array<string> => {
  if (typeof value !== "object" || value === null) return []
  const record = value as Record<string, unknown>
  const declared = schema === undefined ? undefined : describe(schema).get(String(record._tag))?.tags
  const fields = declared ?? Object.keys(record).flatMap((field) => {
    const key = defaultTagKey(field)
    return key === undefined ? [] : [{ field, key }]
  })
  const tags: Array<string> = []
  for (const { field, key } of fields) {
    const fieldValue = record[field]
    const values = Array.isArray(fieldValue) ? fieldValue : [fieldValue]
    for (const item of values) if (typeof item === "string" || typeof item === "number") tags.push(`${key}:${item}`)
  }
  return [...new Set(tags)]
}

/** Marks a field schema as a tag (`true`) or as none (`false`). */
export const markTag = <S extends Schema.Top>(schema: S, isTag: boolean): S["Rebuild"] => schema.annotate({ [TagAnnotation]: isTag })
