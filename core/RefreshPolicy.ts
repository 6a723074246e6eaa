/**
 * When a cached token must be refreshed, and when it has expired: kubelet's rules as pure functions of the cached
 * response, the current time in epoch milliseconds and a jitter in whole seconds.
 *
 * A token is refreshed when it is older than 24 hours, or when less than 20 % of its lifetime is left, each threshold
 * moved earlier by the jitter. The issue time is derived (`expirationTimestamp - spec.expirationSeconds`), never read
 * from the JWT. All comparisons are strict ("after").
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import { RefreshPolicy } from "@sa-token/manager"
 * import * as Redacted from "effect/Redacted"
 *
 * const issued = Date.UTC(2030, 0, 1)
 * const response = {
 *   spec: { expirationSeconds: 3600 },
 *   status: { token: Redacted.make("t"), expirationTimestamp: new Date(issued + 3600_000) },
 * }
 * assert.ok(!RefreshPolicy.requiresRefresh(response, issued + 10 * 60_000, 0))
 * assert.ok(RefreshPolicy.requiresRefresh(response, issued + 50 * 60_000, 0))
 * ```
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import type { RefreshPolicy } from "./RefreshRules.ts"
import { kubelet } from "./RefreshRules.ts"

// The rules themselves are in RefreshRules.ts, which code that must not load Effect's runtime imports directly.
export {
  expired,
  expiresAt,
  issuedAt,
  jitterFromUniform,
  kubelet,
  refreshDeadline,
  requiresRefresh,
  unusable,
  upstream,
} from "./RefreshRules.ts"
export type { RefreshPolicy } from "./RefreshRules.ts"

/** Draws one jitter value: a whole number of seconds, uniform over `0 … maxJitterSeconds - 1`, through `Random`. */
export const jitter = (policy: RefreshPolicy = kubelet): Effect.Effect<number> =>
  policy.maxJitterSeconds <= 1 ? Effect.succeed(0) : Random.nextIntBetween(0, policy.maxJitterSeconds)
