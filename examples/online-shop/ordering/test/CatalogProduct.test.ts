import { describe, it } from "@effect/vitest"
import { DeciderSpec, Properties } from "@reventless/testing"
import { Schema } from "effect"
import { CatalogProduct, CatalogProductAggregate } from "../src/index.ts"

const spec = DeciderSpec.make(CatalogProductAggregate)
const synced = CatalogProduct.Synced.make({ name: "Green Tea", price: 4.5 })

describe("CatalogProduct", () => {
  it("syncs, and a sync that changes nothing emits nothing", () => {
    spec.given().when(CatalogProduct.Sync.make({ name: "Green Tea", price: 4.5 })).then(synced)
    spec.given(synced).when(CatalogProduct.Sync.make({ name: "Green Tea", price: 4.5 })).then()
  })
  it("follows price changes of a known product only", () => {
    spec.given(synced).when(CatalogProduct.UpdatePrice.make({ price: 4.9 })).then(CatalogProduct.PriceUpdated.make({ price: 4.9 }))
    spec.given().when(CatalogProduct.UpdatePrice.make({ price: 4.9 })).thenRejects(new CatalogProduct.ProductNotSynced())
  })
  it.prop("replay is deterministic", [Schema.Array(CatalogProduct.Command)], ([commands]) =>
    Properties.replayIsDeterministic(CatalogProductAggregate, commands))
})
