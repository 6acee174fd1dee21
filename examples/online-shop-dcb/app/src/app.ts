/**
 * The hybrid shop as a CLI app (`--app online-shop-dcb`): `demo` runs its story and prints its
 * views and the emails sent; `run` runs scenario files against its Catalog + Ordering.
 */
import type { EmailService } from "@online-shop/ordering"
import { Cli } from "@reventless/cli"
import { Effect } from "effect"
import * as Shop from "./Shop.ts"
import { story } from "./story.ts"

export const demo = Effect.flatMap(story, Cli.printReport)

export const app: Cli.App<EmailService.EmailService> = {
  id: "online-shop-dcb",
  name: "the hybrid online shop (DCB slices + aggregates)",
  version: "0.1.0",
  plugins: Shop.plugins,
  layer: (platform, runtime) => Shop.layer({ platform, runtime }),
  demo
}
