/**
 * When the agent refreshes a declared token next: at the refresh point of the token it holds, moved earlier by a
 * random fraction of the lifetime (so that restarts and scale-ups do not refresh in lockstep), after a backoff (or the
 * server's `Retry-After`) while refreshes fail, at once when it holds none; and the `Schedule` that paces a token's
 * refresh loop by that moment, read from the token's state each time.
 *
 * @module
 */
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Backoff from "../../core/Backoff.ts"
import * as RefreshPolicy from "../../core/RefreshPolicy.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import type { TokenState } from "./TokenState.ts"

/**
 * When to refresh a response: its refresh deadline minus `u × jitter × lifetime` (lifetime capped at the policy's
 * maximum age). When that moment has passed but the deadline has not (a token adopted after a restart), the refresh
 * is spread over what is left before the deadline instead of happening at once.
 */
export const refreshAt = (
  response: TokenRequest,
  jitter: number,
  u: number,
  nowMillis: number,
  policy: RefreshPolicy.RefreshPolicy = RefreshPolicy.kubelet,
): number => {
  const deadline = RefreshPolicy.refreshDeadline(response, policy)
  const expiry = RefreshPolicy.expiresAt(response)
  if (!Number.isFinite(deadline)) return Math.max(nowMillis, expiry - 60_000)
  const lifetime = Math.min((response.spec.expirationSeconds ?? 0) * 1000, policy.maxTTLSeconds * 1000)
  const at = deadline - u * jitter * lifetime
  if (at >= nowMillis) return at
  return deadline > nowMillis ? nowMillis + u * (deadline - nowMillis) : nowMillis
}

/**
 * Repeats forever, each time after the delay that `delay` computes when the previous run ended (and before the
 * first): a refresh loop whose pace is read from the token's state rather than from the schedule's input.
 */
export const paced = <R>(delay: Effect.Effect<Duration.Duration, never, R>): Schedule.Schedule<number, unknown, R> =>
  Schedule.forever.pipe(Schedule.modifyDelayEffect(() => delay))

/**
 * The moment (epoch milliseconds) of a token's next refresh: after the backoff of its consecutive failures (or the
 * server's `Retry-After`), else at {@link refreshAt} of the token it holds, else now. `u` is a random number in [0, 1).
 */
export const nextRefreshAt = (
  state: TokenState,
  jitter: number,
  u: number,
  nowMillis: number,
  backoff: Backoff.Backoff,
  policy: RefreshPolicy.RefreshPolicy,
): number =>
  state.consecutiveFailures > 0
    ? nowMillis + Backoff.delay(backoff, state.consecutiveFailures, u, state.retryAfterSeconds)
    : state.current !== undefined
    ? refreshAt(state.current, jitter, u, nowMillis, policy)
    : nowMillis
