export * as Orders from "./Orders.extensionPoint.ts"
