/**
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as Cli from "./Cli.ts"

/**
 * @since 0.1.0
 */
export * as Scenario from "./Scenario.ts"
