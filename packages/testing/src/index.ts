/**
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as Conformance from "./Conformance.ts"

/**
 * @since 0.1.0
 */
export * as DcbConformance from "./DcbConformance.ts"

/**
 * @since 0.1.0
 */
export * as DeciderSpec from "./DeciderSpec.ts"

/**
 * @since 0.1.0
 */
export * as Faults from "./Faults.ts"

/**
 * @since 0.1.0
 */
export * as Fold from "./Fold.ts"

/**
 * @since 0.1.0
 */
export * as Ledger from "./Ledger.ts"

/**
 * @since 0.1.0
 */
export * as MappingSpec from "./MappingSpec.ts"

/**
 * @since 0.1.0
 */
export * as ProjectionSpec from "./ProjectionSpec.ts"

/**
 * @since 0.1.0
 */
export * as Properties from "./Properties.ts"

/**
 * @since 0.1.0
 */
export * as SliceSpec from "./SliceSpec.ts"
