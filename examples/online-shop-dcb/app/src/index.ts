export { app, demo } from "./app.ts"
export * as Shop from "./Shop.ts"
export { story, supplierFeed } from "./story.ts"
