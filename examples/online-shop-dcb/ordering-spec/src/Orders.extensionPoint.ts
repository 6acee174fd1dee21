/** Ordering.Orders in the hybrid shop: one event per ordered or cancelled product. */
import { ExtensionPoint } from "@reventless/core"
import { Schema } from "effect"

export const ItemOrdered = Schema.TaggedStruct("ItemOrdered", { orderId: Schema.String, productId: Schema.String })
export const ItemOrderCancelled = Schema.TaggedStruct("ItemOrderCancelled", { orderId: Schema.String, productId: Schema.String })
export const Event = Schema.Union([ItemOrdered, ItemOrderCancelled])
export type Event = typeof Event.Type

export const OrdersExtensionPoint = ExtensionPoint.spec({ name: "Ordering.Orders", event: Event })
