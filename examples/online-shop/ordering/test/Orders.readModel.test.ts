/** The Orders read model and the auto-ship mapping, specification style (no runtime). */
import { describe, it } from "@effect/vitest"
import { EventMapping } from "@reventless/core"
import { MappingSpec, ProjectionSpec } from "@reventless/testing"
import { AutoShip, Order, OrderAggregate, Orders } from "../src/index.ts"

const address = { street: "1 Leaf Lane", city: "Teatown", postalCode: "12345", country: "NL" }
const placed = (productIds: readonly [string, ...Array<string>]) => ProjectionSpec.event(OrderAggregate, "o1", Order.Placed.make({ customerId: "alice", productIds, shippingAddress: address }))
const spec = ProjectionSpec.make(Orders)

describe("Orders", () => {
  it("shows a placed order, then its shipping", () => {
    spec.given(placed(["tea-01"])).thenRow("o1", { customerId: "alice", productIds: ["tea-01"], status: "placed", shippingAddress: address, cancelReason: null })
    spec.given(placed(["tea-01"]), ProjectionSpec.event(OrderAggregate, "o1", Order.Shipped.make({ shippingAddress: address }))).then({
      o1: { customerId: "alice", productIds: ["tea-01"], status: "shipped", shippingAddress: address, cancelReason: null }
    })
  })
  it("keeps why an order was cancelled; an event of an order it never saw placed changes nothing", () => {
    spec.given(placed(["pot-01"]), ProjectionSpec.event(OrderAggregate, "o1", Order.Cancelled.make({ reason: "changed my mind", productIds: ["pot-01"] }))).thenRow("o1", {
      customerId: "alice",
      productIds: ["pot-01"],
      status: "cancelled",
      shippingAddress: address,
      cancelReason: "changed my mind"
    })
    spec.given(ProjectionSpec.event(OrderAggregate, "o2", Order.Shipped.make({ shippingAddress: address }))).then({})
  })
})

describe("AutoShip", () => {
  const mapping = MappingSpec.make(AutoShip)
  it("ships a placed order at once, and does nothing else", () => {
    mapping.when("o1", Order.Placed.make({ customerId: "alice", productIds: ["tea-01"] })).then(EventMapping.publish(OrderAggregate, "o1", Order.Ship.make({})))
    mapping.when("o1", Order.Shipped.make({ shippingAddress: address })).thenNothing()
  })
})
