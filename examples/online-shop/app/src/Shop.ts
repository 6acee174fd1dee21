/**
 * The composition root: both plugins over whatever platform Layer the caller picks (the memory
 * platform by default), with the services the plugins need. The only file that sees both.
 */
import { Catalog } from "@online-shop/catalog"
import { EmailService, Ordering } from "@online-shop/ordering"
import { MemoryPlatform, type Plugin, Runtime } from "@reventless/core"
import { Effect, Layer } from "effect"

export const plugins = [Catalog, Ordering] as const

export interface Options {
  readonly platform?: Layer.Layer<Runtime.Platform, unknown> | undefined
  readonly email?: Layer.Layer<EmailService.EmailService> | undefined
  readonly runtime?: Omit<Runtime.Options<EmailService.EmailService>, "plugins"> | undefined
}

/**
 * A shop of `shopPlugins` on `platform` (the memory platform unless given), with the EmailService
 * (the memory outbox unless given). The hybrid shop composes its plugins with it too.
 */
export const compose = (shopPlugins: ReadonlyArray<Plugin.Plugin<EmailService.EmailService>>) =>
(options: Options = {}): Layer.Layer<Runtime.Runtime | Runtime.Platform | EmailService.EmailService, unknown> =>
  Runtime.layer({ ...options.runtime, plugins: shopPlugins }).pipe(
    Layer.provideMerge(options.email ?? EmailService.layerMemory),
    Layer.provideMerge(options.platform ?? MemoryPlatform.layer)
  )

/** The shop running on `platform`. */
export const layer = compose(plugins)

/** What a story returns: its notes, the read models and the emails sent as tables, and health. */
export const report = (notes: ReadonlyArray<string>, readModels: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const runtime = yield* Runtime.Runtime
    const tables = yield* Effect.forEach(readModels, (name) => Effect.map(runtime.list(name), (page) => ({ name, rows: page.items })))
    const emails = yield* Effect.flatMap(EmailService.EmailService, (email) => email.sent)
    const sent = { name: "Emails sent", rows: emails.map(({ orderId, productIds, to }) => ({ id: orderId, row: { to, products: productIds } })) }
    const health = yield* runtime.health
    return { notes, tables: [...tables, sent], emails, consumers: health.consumers, deadLetters: yield* runtime.deadLetters.list() }
  })
