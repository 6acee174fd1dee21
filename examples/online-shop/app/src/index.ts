export * as Shop from "./Shop.ts"
export { demo } from "./demo.ts"
export { story } from "./story.ts"
