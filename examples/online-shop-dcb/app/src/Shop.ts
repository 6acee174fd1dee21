/**
 * The hybrid shop's composition root: Catalog and Ordering over whatever platform Layer the
 * caller picks (the memory platform by default), with the EmailService Ordering needs.
 */
import { Catalog } from "@online-shop-dcb/catalog"
import { Ordering } from "@online-shop-dcb/ordering"
import { EmailService } from "@online-shop/ordering"
import { MemoryPlatform, Runtime } from "@reventless/core"
import { Layer } from "effect"

export const plugins = [Catalog, Ordering] as const

/** The shop running on `platform`; the EmailService is the memory outbox unless one is given. */
export const layer = (options: {
  readonly platform?: Layer.Layer<Runtime.Platform> | undefined
  readonly email?: Layer.Layer<EmailService.EmailService> | undefined
  readonly runtime?: Omit<Runtime.Options<EmailService.EmailService>, "plugins"> | undefined
} = {}): Layer.Layer<Runtime.Runtime | Runtime.Platform | EmailService.EmailService, unknown> =>
  Runtime.layer({ ...options.runtime, plugins }).pipe(
    Layer.provideMerge(options.email ?? EmailService.layerMemory),
    Layer.provideMerge(options.platform ?? MemoryPlatform.layer)
  )
