/**
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as Databases from "./Databases.ts"

/**
 * @since 0.1.0
 */
export * as EmbeddedServer from "./EmbeddedServer.ts"

/**
 * @since 0.1.0
 */
export * as Migrations from "./Migrations.ts"

/**
 * @since 0.1.0
 */
export * as PgCommandTopic from "./PgCommandTopic.ts"

/**
 * @since 0.1.0
 */
export * as PgEventStore from "./PgEventStore.ts"

/**
 * @since 0.1.0
 */
export * as PgStores from "./PgStores.ts"

/**
 * @since 0.1.0
 */
export * as PostgresPlatform from "./PostgresPlatform.ts"
