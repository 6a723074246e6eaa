/**
 * What the agent's scheduler knows about one declared token, as an immutable value and the pure transitions between
 * its values: a response installed, a failure recorded, the next refresh scheduled. The scheduler keeps one in a
 * `Ref` per token; the phase shown to readers is computed from it at read time.
 *
 * @internal
 * @module
 */
import * as RefreshPolicy from "../../core/RefreshPolicy.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import type { TokenStatus } from "./AgentState.ts"
import type { TokenSpec } from "./Config.ts"

/** One token's state. */
export interface TokenState {
  /** The status shown to readers, but its phase. */
  readonly status: Omit<TokenStatus, "phase">
  /** The response in force (written to the file), if any. */
  readonly current: TokenRequest | undefined
  /** Failures since the last success. */
  readonly consecutiveFailures: number
  /** The server's `Retry-After` on the last failure, if it sent one. */
  readonly retryAfterSeconds: number | undefined
}

/** A token that has no response yet and never failed. */
export const initial = (spec: TokenSpec): TokenState => ({
  status: {
    name: spec.name,
    namespace: spec.namespace,
    serviceAccount: spec.serviceAccount,
    key: spec.key,
    refreshes: 0,
    failures: 0,
  },
  current: undefined,
  consecutiveFailures: 0,
  retryAfterSeconds: undefined,
})

/**
 * A response made current: obtained now (`rotated`, a refresh counted) or adopted (its `lastRefresh` is when it was
 * issued). Clears the failures.
 */
export const installed = (
  state: TokenState,
  response: TokenRequest,
  fingerprint: string,
  rotated: boolean,
  nowMillis: number,
): TokenState => ({
  ...state,
  current: response,
  consecutiveFailures: 0,
  status: {
    ...state.status,
    fingerprint,
    expiresAt: response.status!.expirationTimestamp,
    lastRefresh: new Date(rotated ? nowMillis : RefreshPolicy.issuedAt(response)),
    lastError: undefined,
    refreshes: state.status.refreshes + (rotated ? 1 : 0),
  },
})

/** A failed refresh or write; the current response, if any, stays. */
export const failed = (state: TokenState, message: string, retryAfterSeconds: number | undefined): TokenState => ({
  ...state,
  consecutiveFailures: state.consecutiveFailures + 1,
  retryAfterSeconds,
  status: { ...state.status, lastError: message, failures: state.status.failures + 1 },
})

/** The next refresh, as shown to readers. */
export const scheduled = (state: TokenState, atMillis: number): TokenState => ({
  ...state,
  status: { ...state.status, refreshAt: new Date(atMillis) },
})

/** Where the token is in its life at `nowMillis`. */
export const phaseOf = (state: TokenState, nowMillis: number): TokenStatus["phase"] =>
  state.current === undefined
    ? state.consecutiveFailures > 0 ? "failed" : "pending"
    : RefreshPolicy.expired(state.current, nowMillis)
    ? "expired"
    : state.consecutiveFailures > 0
    ? "stale"
    : "valid"

/** The status shown to readers at `nowMillis`. */
export const statusOf = (state: TokenState, nowMillis: number): TokenStatus => ({
  ...state.status,
  phase: phaseOf(state, nowMillis),
})

/** Whether the token has a response that has not expired at `nowMillis`. */
export const isValid = (state: TokenState, nowMillis: number): boolean =>
  state.current !== undefined && !RefreshPolicy.expired(state.current, nowMillis)
