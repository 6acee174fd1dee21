export { app, demo } from "./app.ts"
export * as Shop from "./Shop.ts"
export { productsCsv, story } from "./story.ts"
