export * as Shop from "./Shop.ts"
export { story } from "./story.ts"
