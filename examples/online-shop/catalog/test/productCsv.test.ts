import { assert, describe, it } from "@effect/vitest"
import { parseProductCsv } from "../src/Task/productCsv.ts"

const header = "sku,name,description,price,categoryId"

describe("product CSV", () => {
  it("reads quoted fields, BOM and CRLF, with the line where each record starts", () => {
    const parsed = parseProductCsv(`\ufeff${header}\r\np1,"Tea, green","two\r\nlines",3.5,c1\r\np2,Mug,"say ""hi""",2,\r\n`)
    assert.deepStrictEqual(parsed.rejected, [])
    assert.deepStrictEqual(parsed.good.map((row) => [row.line, row.sku, row.command]), [
      [2, "p1", { _tag: "Add", name: "Tea, green", description: "two\r\nlines", price: 3.5, categoryId: "c1" }],
      [4, "p2", { _tag: "Add", name: "Mug", description: "say \"hi\"", price: 2 }]
    ])
  })
  it("rejects a non-numeric price with its line and keeps the good rows", () => {
    const parsed = parseProductCsv(`${header}\np1,Tea,,abc,\np2,Mug,,2,\n`)
    assert.deepStrictEqual(parsed.rejected, [{ line: 2, reason: "price: \"abc\" is not a number" }])
    assert.deepStrictEqual(parsed.good.map((row) => row.sku), ["p2"])
  })
  it("rejects an empty sku, a missing name and a short row", () => {
    const parsed = parseProductCsv(`${header}\n,Tea,,1,\np2,,,1,\np3,Mug\n`)
    assert.deepStrictEqual(parsed.rejected.map((row) => row.line), [2, 3, 4])
    assert.include(parsed.rejected[1]!.reason, "name")
  })
  it("rejects a file with a wrong header or broken quoting as a whole", () => {
    assert.deepStrictEqual(parseProductCsv("id,name\np1,Tea\n").good, [])
    assert.include(parseProductCsv("id,name\np1,Tea\n").rejected[0]!.reason, "header")
    const broken = parseProductCsv(`${header}\np1,"Tea,,1,\n`)
    assert.deepStrictEqual(broken.good, [])
    assert.include(broken.rejected[0]!.reason, "CSV syntax")
  })
})
