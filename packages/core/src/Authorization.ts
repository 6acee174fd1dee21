/**
 * The authorization hook: sees every command, every read and every operator's action before it
 * runs, with the user it runs for, and may refuse with `Unauthorized`. The default allows
 * everything.
 *
 * The user is `meta.user` for commands and the `user` option of reads and operations: a claim
 * the caller makes, not a proof. Trusted callers (the workers' own code, an operator's CLI with
 * the deployment's credentials) may set it; anything reachable by others must set it only from an
 * authenticated identity (an authenticating edge such as an HTTP API in front of the runtime),
 * never from what a client sends.
 *
 * @since 0.1.0
 */
import { Context, Effect } from "effect"
import type { Unauthorized } from "./Errors.ts"

/**
 * What an operator may do: list, replay or skip dead letters, see the deployment's status,
 * rebuild a read model.
 *
 * @since 0.1.0
 * @category models
 */
export type Operation = "ListDeadLetters" | "ReplayDeadLetter" | "SkipDeadLetter" | "Status" | "Rebuild"

/**
 * What is asked, and for whom:
 * - `Command`: a command, decoded (`send`, `submit`, `execute`, an inbound request's commands,
 *   and a replayed dead letter again, for the user who sent it);
 * - `Query`: reading a read model, one row (`id`) or a list of them (no `id`);
 * - `Row`: one row a query, a list or a watch would return; refused, it is left out (a query
 *   answers none, as for a row that does not exist; a list's page comes out short; a watcher
 *   sees a row it was shown and may no longer see as deleted, and deletions only of rows it was
 *   shown, since a deletion carries no row to judge);
 * - `Stream`: an aggregate instance's events or state (`readStream`, `state`);
 * - `Watch`: a read model's row changes (`watch`), each change then a `Row`;
 * - `Operation`: an operator's action, on `target` (a letter, a read model) when it has one.
 *
 * @since 0.1.0
 * @category models
 */
export type Request =
  | { readonly _tag: "Command"; readonly user: string; readonly component: string; readonly id: string; readonly command: unknown }
  | { readonly _tag: "Query"; readonly user: string; readonly readModel: string; readonly id?: string | undefined }
  | { readonly _tag: "Row"; readonly user: string; readonly readModel: string; readonly id: string; readonly row: unknown }
  | { readonly _tag: "Stream"; readonly user: string; readonly component: string; readonly id: string }
  | { readonly _tag: "Watch"; readonly user: string; readonly readModel: string }
  | { readonly _tag: "Operation"; readonly user: string; readonly operation: Operation; readonly target?: string | undefined }

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
 * The user of a read or an operation that names none.
 *
 * @since 0.1.0
 * @category constructors
 */
export const anonymous = "anonymous"

/**
 * The hook in use; `allowAll` unless a layer provides another.
 *
 * @since 0.1.0
 * @category services
 */
export const Authorization = Context.Reference<Hook>("@reventless/core/Authorization", { defaultValue: () => allowAll })
