/**
 * The agent's global budget on TokenRequest calls: a token bucket (client-go's default is 5 per second with a burst
 * of 10) that every call takes a permit from, in arrival order, and a cap on the calls in flight (32 by default), so
 * that a raised rate cannot pile up requests that time out after the server issued their tokens. A `429 Too Many Requests` pauses the whole budget for
 * the server's `Retry-After` (1 s when it sent none), and the bucket refills from empty after a pause, so that the
 * agent does not answer a throttling server with a burst. Time comes from `Clock`, so tests drive it with TestClock.
 *
 * @example A burst passes at once; the next call waits for the refill
 * ```ts
 * import assert from "node:assert/strict"
 * import { Budget } from "@sa-token/manager/agent"
 * import * as Effect from "effect/Effect"
 * import * as Fiber from "effect/Fiber"
 * import * as TestClock from "effect/TestClock"
 * import * as TestContext from "effect/TestContext"
 *
 * const waited = await Effect.gen(function* () {
 *   const budget = yield* Budget.make({ qps: 1, burst: 2 })
 *   yield* budget.take
 *   yield* budget.take
 *   const third = yield* Effect.fork(budget.take)
 *   yield* TestClock.adjust("999 millis")
 *   const early = yield* Fiber.poll(third)
 *   yield* TestClock.adjust("1 millis")
 *   yield* Fiber.join(third)
 *   return early._tag === "None"
 * }).pipe(Effect.provide(TestContext.TestContext), Effect.runPromise)
 * assert.ok(waited)
 * ```
 *
 * @module
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as TokenFetcher from "../../core/TokenFetcher.ts"
import * as AgentMetrics from "./AgentMetrics.ts"

/** A shared rate limit. */
export interface Budget {
  /** Waits for a permit. */
  readonly take: Effect.Effect<void>
  /** Grants no permit for the next `millis` milliseconds. */
  readonly pause: (millis: number) => Effect.Effect<void>
  /** Runs a call once fewer than `maxInFlight` others are running. */
  readonly inFlight: <A, E, R>(call: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/** The default cap on calls in flight. */
export const defaultMaxInFlight = 32

/** The rate: `qps` permits per second, at most `burst` saved up, at most `maxInFlight` calls at once. */
export interface BudgetOptions {
  /** Permits added per second. */
  readonly qps: number
  /** The most permits saved up (and the size of a burst). */
  readonly burst: number
  /** The most calls running at once. @default 32 */
  readonly maxInFlight?: number | undefined
}

interface Waiter {
  readonly resume: () => void
  granted: boolean
}

/**
 * At most `max` effects at once, the others waiting in arrival order. A release hands its slot to the first waiter
 * and wakes only that one: Effect 3's `Semaphore` wakes every waiter on each release and each re-registers, which
 * costs time and memory quadratic in the number waiting (a thousand tokens starting at once made a Node agent grow to
 * gigabytes). A waiter interrupted in the queue leaves it; one interrupted just after being handed a slot passes it on.
 */
const slots = (max: number) => {
  let running = 0
  const queue = new Set<Waiter>()
  const release = (): void => {
    const next = queue.values().next()
    if (next.done === true) {
      running--
      return
    }
    queue.delete(next.value)
    next.value.granted = true
    next.value.resume()
  }
  const acquire = Effect.async<void>((resume) => {
    if (running < max) {
      running++
      return resume(Effect.void)
    }
    const waiter: Waiter = { resume: () => resume(Effect.void), granted: false }
    queue.add(waiter)
    return Effect.sync(() => (waiter.granted ? release() : queue.delete(waiter)))
  })
  return <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.zipRight(restore(acquire), Effect.ensuring(restore(self), Effect.sync(release)))
    )
}

/**
 * A budget that starts full. Each call reserves the next permit at once (the bucket may go into debt) and then sleeps
 * until its permit is due, outside any lock, so that thousands of waiting callers cost nothing while they wait. A
 * pause cancels the reservations made before it: their holders reserve again when they wake.
 */
export const make = (options: BudgetOptions): Effect.Effect<Budget> =>
  Effect.zipWith(
    Clock.currentTimeMillis,
    Effect.sync(() => slots(Math.max(1, options.maxInFlight ?? defaultMaxInFlight))),
    (start, inFlight) => {
      const capacity = Math.max(1, options.burst)
      const perMillis = options.qps / 1000
      const state = { tokens: capacity, last: start, pausedUntil: -Infinity, epoch: 0 }
      /** Reserves one permit and returns how long to wait for it. */
      const reserve = (now: number): number => {
        const from = Math.max(now, state.pausedUntil)
        state.tokens = Math.min(capacity, state.tokens + Math.max(0, from - state.last) * perMillis)
        state.last = Math.max(state.last, from)
        state.tokens -= 1
        return from - now + (state.tokens >= 0 ? 0 : Math.ceil(-state.tokens / perMillis))
      }
      const take: Effect.Effect<void> = Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const epoch = state.epoch
        const wait = reserve(now)
        if (wait <= 0) return Effect.void
        return AgentMetrics.budgetWaits.pipe(
          Effect.zipRight(Effect.sleep(wait)),
          Effect.zipRight(Effect.suspend(() => state.epoch === epoch ? Effect.void : take)),
        )
      })
      return {
        take,
        inFlight,
        pause: (millis) =>
          Effect.map(Clock.currentTimeMillis, (now) => {
            const until = now + Math.max(0, millis)
            if (until > state.pausedUntil) {
              state.pausedUntil = until
              state.tokens = 0
              state.last = until
              state.epoch++
            }
          }),
      }
    },
  )

/**
 * Wraps a fetcher so that every call takes a permit first and then waits for a free slot (so the fetcher's own timeout
 * starts only when the call is sent), a `TooManyRequests` failure pauses the budget, and the call's duration is
 * recorded in {@link AgentMetrics.requestDuration}.
 */
export const limit = (fetcher: TokenFetcher.TokenFetcher, budget: Budget): TokenFetcher.TokenFetcher =>
  TokenFetcher.make((namespace, name, request) =>
    budget.take.pipe(
      Effect.zipRight(
        fetcher.fetch(namespace, name, request).pipe(
          Effect.tapError((error) =>
            error.reason === "TooManyRequests" ? budget.pause((error.retryAfterSeconds ?? 1) * 1000) : Effect.void
          ),
          AgentMetrics.timed,
          budget.inFlight,
        ),
      ),
    )
  )
