/**
 * What the agent knows about each declared token, read by the local endpoint, the status line, readiness and
 * ExecCredential. The agent's scheduler writes it; everything else only reads it. Nothing here holds a token except
 * the `response` returned by `token`, whose token stays `Redacted`.
 *
 * @example Read the agent's state (here a fixed one, as in tests)
 * ```ts
 * import assert from "node:assert/strict"
 * import { AgentState } from "@sa-token/manager/agent"
 * import * as Effect from "effect/Effect"
 * import * as Option from "effect/Option"
 *
 * const state: AgentState.AgentState = {
 *   list: Effect.succeed([
 *     { name: "vault", namespace: "default", serviceAccount: "builder", key: "k", phase: "pending", refreshes: 0, failures: 0 },
 *   ]),
 *   token: () => Effect.succeed(Option.none()),
 *   ready: Effect.succeed(false),
 * }
 * const phases = await Effect.flatMap(AgentState.AgentState, (s) => s.list).pipe(
 *   Effect.map((statuses) => statuses.map((s) => `${s.name}: ${s.phase}`)),
 *   Effect.provideService(AgentState.AgentState, state),
 *   Effect.runPromise,
 * )
 * assert.deepEqual(phases, ["vault: pending"])
 * ```
 *
 * @module
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { TokenRequest } from "../../core/TokenRequest.ts"

/** The lifecycle of one declared token. */
export type TokenPhase = "pending" | "valid" | "stale" | "failed" | "expired"

/** The log-safe status of one declared token. */
export interface TokenStatus {
  /** The declared name (from the config). */
  readonly name: string
  /** The namespace of the service account. */
  readonly namespace: string
  /** The service account's name. */
  readonly serviceAccount: string
  /** The manager's cache key (safe to log). */
  readonly key: string
  /** Where the token is in its life. */
  readonly phase: TokenPhase
  /** A short fingerprint of the current token, never the token. */
  readonly fingerprint?: string | undefined
  /** When the current token expires. */
  readonly expiresAt?: Date | undefined
  /** When the next refresh is scheduled. */
  readonly refreshAt?: Date | undefined
  /** When the current token was obtained. */
  readonly lastRefresh?: Date | undefined
  /** The last failure's message (never holds a token). */
  readonly lastError?: string | undefined
  /** Successful refreshes since the agent started. */
  readonly refreshes: number
  /** Failed refreshes since the agent started. */
  readonly failures: number
}

/** Read access to the agent's tokens. */
export interface AgentState {
  /** Every declared token's status, in config order. */
  readonly list: Effect.Effect<ReadonlyArray<TokenStatus>>
  /** The current response of a declared token (its token still `Redacted`), if it has a valid one. */
  readonly token: (
    name: string,
  ) => Effect.Effect<Option.Option<{ readonly response: TokenRequest; readonly status: TokenStatus }>>
  /** True when every declared token has a valid (unexpired) token. */
  readonly ready: Effect.Effect<boolean>
}

/** The tag of the {@link AgentState} service. */
export const AgentState: Context.Tag<AgentState, AgentState> = Context.GenericTag<AgentState>(
  "@sa-token/manager/agent/AgentState",
)
