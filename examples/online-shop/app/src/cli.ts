/**
 * `reventless` for the online shop: `demo`, and `run <scenario.jsonl>` against Catalog + Ordering.
 * Runs under plain node: `node examples/online-shop/app/src/cli.ts --help`.
 */
import { Cli } from "@reventless/cli"
import { MemoryPlatform } from "@reventless/core"
import { demo } from "./demo.ts"
import * as Shop from "./Shop.ts"

Cli.main({
  name: "online shop",
  version: "0.1.0",
  platforms: { memory: MemoryPlatform.layer },
  layer: (platform) => Shop.layer({ platform }),
  demo
})
