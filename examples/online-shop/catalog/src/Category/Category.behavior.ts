/** Category behavior: no rename of an archived category; archive is idempotent. */
import { Aggregate } from "@reventless/core"
import { Result } from "effect"
import * as Category from "./Category.ts"

export const initialState: Category.State = Category.NotCreated.make({})

export const evolve = (state: Category.State, event: Category.Event): Category.State => {
  switch (event._tag) {
    case "Added":
      return Category.Listed.make({ name: event.name })
    case "Renamed":
      return state._tag === "NotCreated" ? state : { ...state, name: event.name }
    case "Archived":
      return state._tag === "NotCreated" ? state : Category.ArchivedState.make({ name: state.name })
  }
}

export const decide = (state: Category.State, command: Category.Command): Result.Result<ReadonlyArray<Category.Event>, Category.Rejection> => {
  switch (command._tag) {
    case "Add":
      return state._tag === "NotCreated" ? Result.succeed([Category.Added.make({ name: command.name })]) : Result.fail(new Category.CategoryAlreadyExists())
    case "Rename":
      if (state._tag === "NotCreated") return Result.fail(new Category.CategoryNotFound())
      if (state._tag === "Archived") return Result.fail(new Category.CategoryIsArchived())
      return Result.succeed(state.name === command.name ? [] : [Category.Renamed.make({ name: command.name })])
    case "Archive":
      if (state._tag === "NotCreated") return Result.fail(new Category.CategoryNotFound())
      return Result.succeed(state._tag === "Archived" ? [] : [Category.Archived.make({})])
  }
}

export const CategoryAggregate = Aggregate.make({
  name: "Category",
  command: Category.Command,
  event: Category.Event,
  rejection: Category.Rejection,
  state: Category.State,
  initialState,
  evolve,
  decide
})
