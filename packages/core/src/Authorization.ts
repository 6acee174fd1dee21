/**
 * The authorization hook: sees the user (`meta.user`) of every command and query before anything
 * runs, and may refuse with `Unauthorized`. The default allows everything.
 *
 * @since 0.1.0
 */
import { Context, Effect } from "effect"
import type { Unauthorized } from "./Errors.ts"

/**
 * @since 0.1.0
 * @category models
 */
export type Request =
  | { readonly _tag: "Command"; readonly user: string; readonly component: string; readonly id: string; readonly command: unknown }
  | { readonly _tag: "Query"; readonly user: string; readonly readModel: string; readonly id?: string | undefined }

/**
 * @since 0.1.0
 * @category models
 */
export interface Hook {
  readonly authorize: (request: Request) => Effect.Effect<void, Unauthorized>
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const allowAll: Hook = { authorize: () => Effect.void }

/**
 * The hook in use; `allowAll` unless a layer provides another.
 *
 * @since 0.1.0
 * @category services
 */
export const Authorization = Context.Reference<Hook>("@reventless/core/Authorization", { defaultValue: () => allowAll })
