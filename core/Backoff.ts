/**
 * Exponential backoff with jitter after failed refreshes: the first retry waits `initialMillis`, each further failure
 * multiplies the wait by `multiplier` up to `maxMillis`, and each wait is shortened by a random fraction of up to
 * `jitter`, so that many clients that failed together do not retry together. A server's `Retry-After` is a floor.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import { Backoff } from "@sa-token/manager"
 *
 * assert.ok(Backoff.delay(Backoff.standard, 1, 0) === 1000)
 * assert.ok(Backoff.delay(Backoff.standard, 3, 0) === 4000)
 * assert.ok(Backoff.delay(Backoff.standard, 30, 0) === 60_000)
 * ```
 *
 * @module
 */

/** The shape of a backoff. */
export interface Backoff {
  /** The wait after the first failure, in milliseconds. */
  readonly initialMillis: number
  /** The longest wait, in milliseconds. */
  readonly maxMillis: number
  /** The growth factor per failure. */
  readonly multiplier: number
  /** The largest fraction (0–1) by which a wait is randomly shortened. */
  readonly jitter: number
}

/** 1 s, doubling, capped at 1 minute, up to 20 % shorter at random. */
export const standard: Backoff = { initialMillis: 1000, maxMillis: 60_000, multiplier: 2, jitter: 0.2 }

/**
 * The wait after the `failures`-th consecutive failure (1 for the first), given a uniform random number in [0, 1) and
 * an optional `Retry-After` in seconds that the wait may not undercut.
 */
export const delay = (backoff: Backoff, failures: number, random: number, retryAfterSeconds?: number): number => {
  const exponential = backoff.initialMillis * Math.pow(backoff.multiplier, Math.max(0, failures - 1))
  const base = Math.min(backoff.maxMillis, exponential)
  const jittered = Math.round(base * (1 - backoff.jitter * random))
  return Math.max(jittered, (retryAfterSeconds ?? 0) * 1000)
}
