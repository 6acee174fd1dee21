/**
 * `reventless` for the example shops: `demo` and `run <scenario.jsonl>`, with `--app online-shop`
 * (the aggregate shop, the default) or `--app online-shop-dcb` (the hybrid shop), on `--platform
 * memory` (the default) or `postgres`. Runs under plain node: `node examples/shops/src/cli.ts --help`.
 */
import * as Hybrid from "@online-shop-dcb/app"
import * as Aggregates from "@online-shop/app"
import { Cli } from "@reventless/cli"
import { MemoryPlatform } from "@reventless/core"
import { PostgresPlatform } from "@reventless/postgres"

Cli.main({
  apps: [Aggregates.app, Hybrid.app],
  platforms: {
    memory: () => MemoryPlatform.layer,
    postgres: ({ app, dataDir, databaseUrl, fresh }) => PostgresPlatform.layerFor({ url: databaseUrl, dataDir, database: app.replace(/-/g, "_"), fresh })
  }
})
