/** Resource names within AWS's limits, ids SQS accepts, and which SDK failures are worth retrying. */
import { assert, describe, it } from "@effect/vitest"
import { AwsClients, Names } from "../src/index.ts"

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

describe("AwsClients.isRetryable", () => {
  it("throttling is worth retrying even when AWS calls it a client fault; a missing queue is not", () => {
    const sdkError = (name: string, fault: "client" | "server", status: number) => Object.assign(new Error(name), { name, $fault: fault, $metadata: { httpStatusCode: status } })
    assert.isTrue(AwsClients.isRetryable(sdkError("RequestThrottled", "client", 403)))
    assert.isTrue(AwsClients.isRetryable(sdkError("OverLimit", "client", 403)))
    assert.isTrue(AwsClients.isRetryable(sdkError("InternalError", "server", 500)))
    assert.isTrue(AwsClients.isRetryable(new Error("socket hang up")))
    assert.isFalse(AwsClients.isRetryable(sdkError("QueueDoesNotExist", "client", 400)))
    assert.isFalse(AwsClients.isRetryable(sdkError("InvalidParameterValue", "client", 400)))
  })
})
