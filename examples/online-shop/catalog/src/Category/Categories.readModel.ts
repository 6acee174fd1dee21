/** Categories: every category's name and whether it is archived. */
import { ReadModel } from "@reventless/core"
import { Schema } from "effect"
import { CategoryAggregate } from "./Category.behavior.ts"

export const Row = Schema.Struct({ name: Schema.String, archived: Schema.Boolean })
export type Row = typeof Row.Type

export const Categories = ReadModel.make({
  name: "Categories",
  row: Row,
  projections: [
    ReadModel.projection(CategoryAggregate, ({ event, id }): ReadModel.Action<Row> => {
      switch (event._tag) {
        case "Added":
          return ReadModel.set(id, { name: event.name, archived: false })
        case "Renamed":
          return ReadModel.update(id, (row) => ({ ...row, name: event.name }))
        case "Archived":
          return ReadModel.update(id, (row) => ({ ...row, archived: true }))
      }
    })
  ]
})
