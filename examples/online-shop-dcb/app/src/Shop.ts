/**
 * The hybrid shop's composition root: its Catalog and Ordering, composed like the aggregate shop
 * (a platform Layer chosen by the caller, the memory platform by default, and the EmailService).
 */
import { Catalog } from "@online-shop-dcb/catalog"
import { Ordering } from "@online-shop-dcb/ordering"
import { Shop } from "@online-shop/app"

export const plugins = [Catalog, Ordering] as const

/** The hybrid shop running on `platform`. */
export const layer = Shop.compose(plugins)
