/**
 * `reventless` for the example shops: `demo` and `run <scenario.jsonl>`, with `--app online-shop`
 * (the aggregate shop, the default) or `--app online-shop-dcb` (the hybrid shop), on `--platform
 * memory` (the default), `postgres` or `aws` (`--endpoint` for an emulator such as fauxqs), and
 * `aws provision|backfill`. Runs under plain node: `node examples/shops/src/cli.ts --help`.
 */
import * as Hybrid from "@online-shop-dcb/app"
import * as Aggregates from "@online-shop/app"
import { AwsCli, AwsPlatform } from "@reventless/aws"
import { Cli } from "@reventless/cli"
import { MemoryPlatform } from "@reventless/core"
import { PostgresPlatform } from "@reventless/postgres"

/** The app's data: its database on the given server, or on the embedded one under .reventless/. */
const database = ({ app, dataDir, databaseUrl, fresh }: Cli.PlatformConfig) => ({ url: databaseUrl, dataDir, database: app.replace(/-/g, "_"), fresh })
const aws = (config: Cli.PlatformConfig) => AwsPlatform.layerFor({ database: database(config), prefix: config.prefix, endpoint: config.endpoint })

Cli.main({
  apps: [Aggregates.app, Hybrid.app],
  platforms: {
    memory: () => MemoryPlatform.layer,
    postgres: (config) => PostgresPlatform.layerFor(database(config)),
    aws
  },
  commands: [AwsCli.command({ apps: [Aggregates.app, Hybrid.app], platform: aws })]
})
