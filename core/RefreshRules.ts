/**
 * Kubelet's refresh rules as pure functions of a cached response, the current time in epoch milliseconds and a jitter
 * in whole seconds, free of Effect's runtime so that the lean `exec-credential` answer decides exactly as the token
 * manager does. `RefreshPolicy.ts` exports them, with the jitter drawn through `Random`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import * as Redacted from "effect/Redacted"
 * import { kubelet, refreshDeadline } from "./RefreshRules.ts"
 *
 * const issued = Date.UTC(2030, 0, 1)
 * const response = {
 *   spec: { expirationSeconds: 3600 },
 *   status: { token: Redacted.make("t"), expirationTimestamp: new Date(issued + 3600_000) },
 * }
 * assert.equal(refreshDeadline(response, kubelet), issued + 48 * 60_000)
 * ```
 *
 * @module
 */
import * as Redacted from "effect/Redacted"
import { formatTime } from "./Timestamp.ts"
import type { TokenRequest } from "./TokenRequest.ts"

/** The tuning values of the refresh rules. */
export interface RefreshPolicy {
  /** A token older than this is refreshed, whatever its lifetime (kubelet: 24 h). */
  readonly maxTTLSeconds: number
  /** A token is refreshed when less than this percentage of its lifetime is left (kubelet: 20). */
  readonly refreshRemainingPercent: number
  /** The jitter is drawn uniformly from the whole seconds `0 … maxJitterSeconds - 1` (kubelet: 10). */
  readonly maxJitterSeconds: number
  /** How often expired entries are garbage-collected, in milliseconds (kubelet: 1 minute). */
  readonly gcPeriodMillis: number
  /** Also refresh when the derived issue time is after now, i.e. the clock leapt backwards (not in kubelet). */
  readonly refreshIssuedInFuture: boolean
}

/** Kubelet's values (24 h, 20 %, 0–9 s of jitter, GC every minute), plus the clock-leap rule. */
export const kubelet: RefreshPolicy = {
  maxTTLSeconds: 24 * 60 * 60,
  refreshRemainingPercent: 20,
  maxJitterSeconds: 10,
  gcPeriodMillis: 60_000,
  refreshIssuedInFuture: true,
}

/** Exactly upstream kubelet: {@link kubelet} without the clock-leap rule. */
export const upstream: RefreshPolicy = { ...kubelet, refreshIssuedInFuture: false }

/** The expiry of a response in epoch milliseconds, or `NaN` when it has no status. */
export const expiresAt = (response: TokenRequest): number => response.status?.expirationTimestamp.getTime() ?? NaN

/** The derived issue time in epoch milliseconds (`NaN` without `spec.expirationSeconds` or status). */
export const issuedAt = (response: TokenRequest): number => {
  const seconds = response.spec.expirationSeconds
  return seconds === undefined ? NaN : expiresAt(response) - seconds * 1000
}

/** Kubelet's `expired`: now is strictly after the expiration timestamp. A response without status is expired. */
export const expired = (response: TokenRequest, nowMillis: number): boolean => !(nowMillis <= expiresAt(response))

/**
 * Why the manager would not serve a response at `nowMillis`, or `undefined` when it would: it needs a non-empty token,
 * a `spec.expirationSeconds` that is a positive whole number when one is given, and an expiry not yet passed.
 */
export const unusable = (response: TokenRequest, nowMillis: number): string | undefined => {
  if (response.status === undefined || Redacted.value(response.status.token).length === 0) {
    return "no token in server response"
  }
  const seconds = response.spec.expirationSeconds
  if (seconds !== undefined && !(Number.isInteger(seconds) && seconds > 0)) {
    return `the response's spec.expirationSeconds is not a positive whole number: ${seconds}`
  }
  if (!expired(response, nowMillis)) return undefined
  const at = response.status.expirationTimestamp
  return `the issued token expired at ${Number.isNaN(at.getTime()) ? "an invalid time" : formatTime(at)}`
}

/**
 * The moment, in epoch milliseconds, after which a refresh is required when the jitter is 0; a jitter of `j` seconds
 * moves it `j` seconds earlier. `Infinity` when the response has no `spec.expirationSeconds` (kubelet never refreshes
 * such a token; the manager still refuses to serve it once expired).
 */
export const refreshDeadline = (response: TokenRequest, policy: RefreshPolicy = kubelet): number => {
  const seconds = response.spec.expirationSeconds
  if (seconds === undefined) return Infinity
  const exp = expiresAt(response)
  const iat = exp - seconds * 1000
  const remaining = Math.trunc((seconds * policy.refreshRemainingPercent) / 100)
  return Math.min(iat + policy.maxTTLSeconds * 1000, exp - remaining * 1000)
}

/**
 * Kubelet's `requiresRefresh`: true when now is after the refresh deadline minus the jitter, or, with
 * `refreshIssuedInFuture`, when now is before the derived issue time.
 */
export const requiresRefresh = (
  response: TokenRequest,
  nowMillis: number,
  jitterSeconds: number,
  policy: RefreshPolicy = kubelet,
): boolean => {
  if (response.spec.expirationSeconds === undefined) return false
  if (nowMillis > refreshDeadline(response, policy) - jitterSeconds * 1000) return true
  return policy.refreshIssuedInFuture && nowMillis < issuedAt(response)
}

/** Kubelet's jitter from a uniform float in [0, 1): truncation of `u × maxJitterSeconds`. */
export const jitterFromUniform = (u: number, policy: RefreshPolicy = kubelet): number =>
  Math.trunc(u * policy.maxJitterSeconds)
