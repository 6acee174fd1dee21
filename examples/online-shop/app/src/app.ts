/**
 * The online shop as a CLI app: `reventless demo` runs the story and prints its read models and
 * the emails sent; `reventless run` runs scenario files against Catalog + Ordering.
 */
import type { EmailService } from "@online-shop/ordering"
import { Cli } from "@reventless/cli"
import { Effect } from "effect"
import * as Shop from "./Shop.ts"
import { story } from "./story.ts"

export const demo = Effect.flatMap(story, Cli.printReport)

export const app: Cli.App<EmailService.EmailService> = {
  id: "online-shop",
  name: "the online shop (aggregates)",
  version: "0.1.0",
  plugins: Shop.plugins,
  layer: (platform, runtime) => Shop.layer({ platform, runtime }),
  demo
}
