/** The catalog shadow: products Ordering can sell, kept in sync from Catalog.Products. */
import { StateChangeSlice } from "@reventless/core"
import { Result, Schema } from "effect"
import { ProductSynced, SyncedPriceChanged, SyncedProductWithdrawn } from "./events.ts"

export const SyncNewProduct = Schema.TaggedStruct("SyncNewProduct", { productId: Schema.NonEmptyString, name: Schema.String, price: Schema.Finite })
export const ChangeSyncedPrice = Schema.TaggedStruct("ChangeSyncedPrice", { productId: Schema.NonEmptyString, price: Schema.Finite })
export const WithdrawSyncedProduct = Schema.TaggedStruct("WithdrawSyncedProduct", { productId: Schema.NonEmptyString })

type Shadow = "unknown" | "available" | "withdrawn"
const Consumed = Schema.Union([ProductSynced, SyncedProductWithdrawn])

/** Replicas take what the source says: repeats and orderings that change nothing emit nothing. */
export const SyncCatalogProductSlice = StateChangeSlice.make({
  name: "SyncCatalogProduct",
  command: Schema.Union([SyncNewProduct, ChangeSyncedPrice, WithdrawSyncedProduct]),
  event: Schema.Union([ProductSynced, SyncedPriceChanged, SyncedProductWithdrawn]),
  consumedEvent: Consumed,
  rejection: Schema.Never,
  initialState: "unknown" as Shadow,
  evolve: (_state: Shadow, event): Shadow => event._tag === "ProductSynced" ? "available" : "withdrawn",
  decide: (state, command) => {
    switch (command._tag) {
      case "SyncNewProduct":
        return Result.succeed(state === "unknown" ? [ProductSynced.make({ productId: command.productId, name: command.name, price: command.price })] : [])
      case "ChangeSyncedPrice":
        return Result.succeed(state === "available" ? [SyncedPriceChanged.make({ productId: command.productId, price: command.price })] : [])
      case "WithdrawSyncedProduct":
        return Result.succeed(state === "available" ? [SyncedProductWithdrawn.make({ productId: command.productId })] : [])
    }
  }
})
