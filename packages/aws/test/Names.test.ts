/** Resource names within AWS's limits, and ids SQS accepts. */
import { assert, describe, it } from "@effect/vitest"
import { Names } from "../src/index.ts"

describe("Names", () => {
  it("queue and topic names are <prefix>-<plugin>-<component>[-<consumer>], lower-case, FIFO where ordered", () => {
    assert.strictEqual(Names.commandQueue("shop-prod", "Catalog.Product"), "shop-prod-catalog-product.fifo")
    assert.strictEqual(Names.extensionPointTopic("shop-prod", "Catalog.Products"), "shop-prod-catalog-products-events.fifo")
    assert.strictEqual(Names.subscriberQueue("shop-prod", "Catalog.Products", "Ordering.CatalogProducts"), "shop-prod-catalog-products-ordering-catalogproducts.fifo")
    assert.strictEqual(Names.notificationQueue("shop-prod", "imports"), "shop-prod-imports-created")
    assert.strictEqual(Names.deadLetterQueue("shop-prod-catalog-product.fifo"), "shop-prod-catalog-product-dlq.fifo")
    assert.strictEqual(Names.bucket("Shop_Prod", "Imports"), "shop-prod-imports")
  })

  it("a name beyond the limit keeps its head and gets a hash of the whole: within 80 characters, and distinct", () => {
    const long = (tail: string) => Names.subscriberQueue("shop-production-eu-west", "Catalog.ProductsWithAVeryLongName", `Ordering.AnExtensionWithALongName${tail}`)
    const [a, b] = [long("One"), long("Two")]
    assert.isAtMost(a.length, 80)
    assert.isTrue(a.endsWith(".fifo") && a.startsWith("shop-production-eu-west-catalog-"))
    assert.notStrictEqual(a, b)
    assert.isAtMost(Names.deadLetterQueue(a).length, 80)
    assert.isAtMost(Names.bucket("a-very-long-prefix-for-buckets", "and-a-very-long-bucket-name-as-well-here").length, 63)
  })

  it("group and deduplication ids: the key when SQS accepts it, else a hash", () => {
    assert.strictEqual(Names.messageId("order-42/line:7"), "order-42/line:7")
    for (const key of ["with space", "ünïcode", "x".repeat(129), ""]) {
      const id = Names.messageId(key)
      assert.match(id, /^h:[0-9a-f]{64}$/, key)
    }
    assert.notStrictEqual(Names.messageId("a b"), Names.messageId("a  b"))
  })
})
