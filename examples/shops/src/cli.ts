/**
 * `reventless` for the example shops: `demo` and `run <scenario.jsonl>`, with `--app online-shop`
 * (the aggregate shop, the default) or `--app online-shop-dcb` (the hybrid shop). Runs under plain
 * node: `node examples/shops/src/cli.ts --help`.
 */
import * as Hybrid from "@online-shop-dcb/app"
import * as Aggregates from "@online-shop/app"
import { Cli } from "@reventless/cli"

Cli.main([Aggregates.app, Hybrid.app])
