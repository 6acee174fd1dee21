/**
 * The order's life as state-change slices. PlaceOrder spans the order, its customer and every
 * product: an order id is placed once, every product must be synced and not withdrawn, and a
 * customer has at most 3 open orders (placed, neither shipped nor cancelled) — a limit two
 * concurrent orders must not both pass, which the DCB condition over the customer's tag
 * guarantees. The customer itself is an aggregate: PlaceOrder reads the Customers view to refuse
 * unknown or deactivated customers (a read that trails the log, so only for what may lag).
 */
import { Customers } from "@online-shop/ordering"
import { QueryEngine, StateChangeSlice } from "@reventless/core"
import { Effect, Option, Result, Schema } from "effect"
import { OrderCancelled, OrderPlaced, OrderShipped, ProductSynced, ShippingMethod, SyncedProductWithdrawn } from "./events.ts"

export const openOrderLimit = 3

export class OrderAlreadyPlaced extends Schema.TaggedError<OrderAlreadyPlaced>()("OrderAlreadyPlaced", { orderId: Schema.String }) {}
export class CustomerNotActive extends Schema.TaggedError<CustomerNotActive>()("CustomerNotActive", { customerId: Schema.String }) {}
export class ProductsNotAvailable extends Schema.TaggedError<ProductsNotAvailable>()("ProductsNotAvailable", { missing: Schema.Array(Schema.String) }) {}
export class OpenOrderLimitReached extends Schema.TaggedError<OpenOrderLimitReached>()("OpenOrderLimitReached", { customerId: Schema.String, open: Schema.Int }) {}
export class OrderNotFound extends Schema.TaggedError<OrderNotFound>()("OrderNotFound", { orderId: Schema.String }) {}
export class OrderAlreadyShipped extends Schema.TaggedError<OrderAlreadyShipped>()("OrderAlreadyShipped", { orderId: Schema.String }) {}
export class OrderAlreadyCancelled extends Schema.TaggedError<OrderAlreadyCancelled>()("OrderAlreadyCancelled", { orderId: Schema.String }) {}

export const PlaceOrder = Schema.TaggedStruct("PlaceOrder", {
  orderId: Schema.NonEmptyString,
  customerId: Schema.NonEmptyString,
  productIds: Schema.NonEmptyArray(Schema.NonEmptyString),
  shippingMethod: ShippingMethod
})
export const CancelOrder = Schema.TaggedStruct("CancelOrder", { orderId: Schema.NonEmptyString })
export const ShipOrder = Schema.TaggedStruct("ShipOrder", { orderId: Schema.NonEmptyString })

/** Kept per entity, since the query also brings other customers' orders in through the product tags. */
interface Seen {
  readonly orders: ReadonlySet<string>
  readonly openByCustomer: ReadonlyMap<string, ReadonlySet<string>>
  readonly available: ReadonlySet<string>
}

const withOpen = (seen: Seen, customerId: string, change: (orders: Set<string>) => void): Seen => {
  const orders = new Set(seen.openByCustomer.get(customerId) ?? [])
  change(orders)
  return { ...seen, openByCustomer: new Map([...seen.openByCustomer, [customerId, orders]]) }
}

const activeCustomer = (customerId: string) =>
  Effect.flatMap(QueryEngine.get(Customers, customerId), (row) =>
    Option.isSome(row) && row.value.active ? Effect.void : Effect.fail(new CustomerNotActive({ customerId })))

export const PlaceOrderSlice = StateChangeSlice.make({
  name: "PlaceOrder",
  command: PlaceOrder,
  event: OrderPlaced,
  consumedEvent: Schema.Union([OrderPlaced, OrderCancelled, OrderShipped, ProductSynced, SyncedProductWithdrawn]),
  rejection: Schema.Union([OrderAlreadyPlaced, CustomerNotActive, ProductsNotAvailable, OpenOrderLimitReached]),
  partition: "orderId",
  initialState: { orders: new Set(), openByCustomer: new Map(), available: new Set() } as Seen,
  evolve: (seen, event): Seen => {
    switch (event._tag) {
      case "OrderPlaced":
        return withOpen({ ...seen, orders: new Set([...seen.orders, event.orderId]) }, event.customerId, (orders) => orders.add(event.orderId))
      case "OrderCancelled":
      case "OrderShipped":
        return withOpen(seen, event.customerId, (orders) => orders.delete(event.orderId))
      case "ProductSynced":
        return { ...seen, available: new Set([...seen.available, event.productId]) }
      case "SyncedProductWithdrawn":
        return { ...seen, available: new Set([...seen.available].filter((id) => id !== event.productId)) }
    }
  },
  decide: (seen, command) =>
    Effect.gen(function*() {
      if (seen.orders.has(command.orderId)) return yield* new OrderAlreadyPlaced({ orderId: command.orderId })
      yield* activeCustomer(command.customerId)
      const missing = command.productIds.filter((id) => !seen.available.has(id))
      if (missing.length > 0) return yield* new ProductsNotAvailable({ missing })
      const open = seen.openByCustomer.get(command.customerId)?.size ?? 0
      if (open >= openOrderLimit) return yield* new OpenOrderLimitReached({ customerId: command.customerId, open })
      const { _tag, ...fields } = command
      return [OrderPlaced.make(fields)]
    })
})

/** One order's lifecycle, for CancelOrder and ShipOrder. */
type Lifecycle =
  | { readonly _tag: "None" }
  | { readonly _tag: "Placed" | "Shipped" | "Cancelled"; readonly customerId: string; readonly productIds: ReadonlyArray<string> }

const lifecycle = StateChangeSlice.decisionModel({
  consumedEvent: Schema.Union([OrderPlaced, OrderCancelled, OrderShipped]),
  initialState: { _tag: "None" } as Lifecycle,
  evolve: (state: Lifecycle, event: typeof OrderPlaced.Type | typeof OrderCancelled.Type | typeof OrderShipped.Type): Lifecycle => {
    switch (event._tag) {
      case "OrderPlaced":
        return { _tag: "Placed", customerId: event.customerId, productIds: event.productIds }
      case "OrderCancelled":
        return state._tag === "None" ? state : { ...state, _tag: "Cancelled" }
      case "OrderShipped":
        return state._tag === "None" ? state : { ...state, _tag: "Shipped" }
    }
  }
})

/** Cancelling twice is a no-op; a shipped order cannot be cancelled. */
export const CancelOrderSlice = lifecycle.make({
  name: "CancelOrder",
  command: CancelOrder,
  event: OrderCancelled,
  rejection: Schema.Union([OrderNotFound, OrderAlreadyShipped]),
  decide: (state, { orderId }) => {
    switch (state._tag) {
      case "None":
        return Result.fail(new OrderNotFound({ orderId }))
      case "Shipped":
        return Result.fail(new OrderAlreadyShipped({ orderId }))
      case "Cancelled":
        return Result.succeed([])
      case "Placed":
        return Result.succeed([OrderCancelled.make({ orderId, customerId: state.customerId, productIds: state.productIds })])
    }
  }
})

/** Shipping twice is a no-op; a cancelled order is not shipped. */
export const ShipOrderSlice = lifecycle.make({
  name: "ShipOrder",
  command: ShipOrder,
  event: OrderShipped,
  rejection: Schema.Union([OrderNotFound, OrderAlreadyCancelled]),
  decide: (state, { orderId }) => {
    switch (state._tag) {
      case "None":
        return Result.fail(new OrderNotFound({ orderId }))
      case "Cancelled":
        return Result.fail(new OrderAlreadyCancelled({ orderId }))
      case "Shipped":
        return Result.succeed([])
      case "Placed":
        return Result.succeed([OrderShipped.make({ orderId, customerId: state.customerId })])
    }
  }
})
