import { assert, describe, it } from "@effect/vitest"
import { DeciderSpec, Properties } from "@reventless/testing"
import { Schema } from "effect"
import { Product, ProductDemand, ProductDemandAggregate, ProductDemands } from "../src/index.ts"

const spec = DeciderSpec.make(ProductDemandAggregate)

describe("ProductDemand", () => {
  it("records an order once", () =>
    spec.given(ProductDemand.Recorded.make({ orderId: "o1" })).when(ProductDemand.Record.make({ orderId: "o1" })).then())
  it("revokes only what was recorded", () =>
    spec.given().when(ProductDemand.Revoke.make({ orderId: "o1" })).thenRejects(new ProductDemand.DemandNotRecorded({ orderId: "o1" })))
  it("revokes a recorded order", () =>
    spec.given(ProductDemand.Recorded.make({ orderId: "o1" })).when(ProductDemand.Revoke.make({ orderId: "o1" })).then(ProductDemand.Revoked.make({ orderId: "o1" })))
  it.prop("replay is deterministic", [Schema.Array(ProductDemand.Command)], ([commands]) => Properties.replayIsDeterministic(ProductDemandAggregate, commands))

  it.prop("ProductDemands is the fold of Product.Added and the demand events", [Schema.Array(ProductDemand.Command)], ([commands]) => {
    const { events } = Properties.run(ProductDemandAggregate, commands)
    const rows = Properties.foldReadModel(ProductDemands, [
      { source: "Product", id: "p1", event: Product.Added.make({ name: "Tea", description: "", price: 1 }) },
      ...events.map((event) => ({ source: "ProductDemand", id: "p1", event }))
    ])
    const recorded = events.filter((e) => e._tag === "Recorded").length
    const revoked = events.filter((e) => e._tag === "Revoked").length
    assert.deepStrictEqual(rows.get("p1"), { name: "Tea", orderCount: recorded - revoked })
  })
})
