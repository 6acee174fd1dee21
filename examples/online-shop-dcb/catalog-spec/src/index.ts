export * as Products from "./Products.extensionPoint.ts"
