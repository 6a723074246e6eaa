/**
 * Load with faults: a simulated day of the agent's scheduler over the core manager, tokens of 12 h, 20 % of
 * TokenRequests failing at random (a seeded fake fetcher, so every run gives the same figures). Checks that no token
 * that could have been refreshed is ever served expired (the manager never hands out an expired token and no token is
 * in the `expired` phase once all were issued) and that the calls conform to the 5/s burst-10 token bucket.
 *
 * Three runs: 10,000 tokens (2,000 under Deno and Bun, see below) on a discrete-event clock (`support/simClock.ts`)
 * behind a reserving token bucket with the Budget's semantics; 400 tokens on the same clock behind the agent's own
 * `Budget`; 150 tokens on TestClock behind the agent's `Budget`, as a cross-check of the simulated clock. Why not 10,000 through TestClock or through `Budget`:
 * docs/reliability.md (both cost grows faster than linearly with the number of waiting fibres).
 *
 * The large run is pure computation on a simulated clock, with no I/O and no runtime API: its figures do not depend on
 * the runtime, only its cost does (10 to 20 s of CPU on each runtime, repeating the same figures). The 10,000-token
 * scale figure is therefore taken once, under Node; Deno and Bun run the same scenario with 2,000 tokens, which still
 * keeps the 5/s budget saturated for the first several minutes of the day (2,000 first issues plus the retries of the
 * 20 % that fail take over 400 simulated seconds at 5/s), so the same waiting, ordering and retry paths are exercised.
 * `RELIABILITY_LOAD_TOKENS` overrides the count on every runtime.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as Budget from "../../adapters/agent/Budget.ts"
import * as Scheduler from "../../adapters/agent/Scheduler.ts"
import * as RefreshPolicy from "../../core/RefreshPolicy.ts"
import { TokenFetchError } from "../../core/TokenError.ts"
import * as TokenFetcher from "../../core/TokenFetcher.ts"
import * as TokenManager from "../../core/TokenManager.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import { hour, runTest, setTime } from "../_support/harness.ts"
import { epoch, spec, withinBudget } from "../_support/agent.ts"
import { runtime } from "../_support/runtime.ts"
import { Exit, simulate } from "../../support/simClock.ts"
import { platform } from "../_support/platform.ts"

/** The scale run: 10,000 tokens under Node; 2,000 under Deno and Bun, the same computation at a fifth of the size. */
const bigTokens = Number(process.env.RELIABILITY_LOAD_TOKENS ?? (runtime === "node" ? 10_000 : 2_000))
/** Through the agent's own Budget: its mutex wakes every waiter on each permit (see docs/reliability.md). */
const budgetTokens = 400
/** The TestClock cross-check stays small: TestClock's cost per wake-up grows with the number of sleeping fibres. */
const smallTokens = 150

/**
 * The same token bucket as the agent's Budget (5/s, burst 10, starts full, served in arrival order) as a reservation
 * counter: each take reserves the next slot and sleeps until it, in O(1), without a mutex that many fibres wait on.
 */
const reservingLimit = (fetcher: TokenFetcher.TokenFetcher, qps: number, burst: number) =>
  Effect.map(Clock.currentTimeMillis, (start) => {
    let level = burst
    let last = start
    const take = Effect.flatMap(Clock.currentTimeMillis, (now) => {
      level = Math.min(burst, level + (Math.max(0, now - last) * qps) / 1000)
      last = Math.max(last, now)
      level -= 1
      return level >= 0 ? Effect.void : Effect.sleep(Math.ceil((-level * 1000) / qps))
    })
    return TokenFetcher.make((namespace, name, request) =>
      Effect.zipRight(take, fetcher.fetch(namespace, name, request))
    )
  })
const lifetime = 12 * 3600
const failureRate = 0.2

/** A small seeded PRNG (mulberry32), independent of the TestRandom the manager and scheduler draw jitter from. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** Sorted call times → the most calls in any window [t, t + 1 s). */
const maxPerSecond = (times: ReadonlyArray<number>): number => {
  let best = 0
  for (let i = 0, j = 0; j < times.length; j++) {
    while (times[j]! - times[i]! >= 1000) i++
    best = Math.max(best, j - i + 1)
  }
  return best
}

/** The figures of one simulated day. */
interface Figures {
  readonly clock: string
  readonly tokens: number
  readonly calls: number
  readonly failures: number
  readonly successes: number
  readonly maxCallsPerSecond: number
  readonly servedExpired: number
  readonly expiredPhases: number
  readonly served: number
  readonly everIssued: boolean
  readonly withinBudget: boolean
  readonly allValid: boolean
}

/** A simulated day of `tokens` tokens; `advance` moves the clock on by an hour. */
const day = (
  tokens: number,
  clockName: string,
  advance: Effect.Effect<void>,
  budget: "agent" | "reserving" = "agent",
): Effect.Effect<Figures> =>
  Effect.gen(function* () {
    const random = prng(20300101)
    const times: Array<number> = []
    let failures = 0
    let serial = 0
    const fetcher = TokenFetcher.make((_namespace, name, request) =>
      Effect.flatMap(Clock.currentTimeMillis, (now): Effect.Effect<TokenRequest, TokenFetchError> => {
        times.push(now)
        if (random() < failureRate) {
          failures++
          return Effect.fail(new TokenFetchError({ reason: "ServerError", description: "etcdserver: leader changed" }))
        }
        const seconds = request.spec.expirationSeconds ?? 3600
        return Effect.succeed({
          ...request,
          spec: { ...request.spec, expirationSeconds: seconds },
          status: { token: Redacted.make(`${name}.${++serial}`), expirationTimestamp: new Date(now + seconds * 1000) },
        })
      })
    )
    const limited = budget === "agent"
      ? Budget.limit(fetcher, yield* Budget.make({ qps: 5, burst: 10 }))
      : yield* reservingLimit(fetcher, 5, 10)
    const inner = yield* TokenManager.make({ gc: false }).pipe(
      Effect.provide(Layer.succeed(TokenFetcher.TokenFetcher, limited)),
    )
    // every response the manager hands out is checked against the clock at the moment it is handed out
    let served = 0
    let servedExpired = 0
    const inspect = <E>(effect: Effect.Effect<TokenRequest, E>) =>
      Effect.tap(effect, (response) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          served++
          if (RefreshPolicy.expired(response, now)) servedExpired++
        }))
    const manager: TokenManager.TokenManager = {
      ...inner,
      getServiceAccountToken: (ns, name, request) => inspect(inner.getServiceAccountToken(ns, name, request)),
      refresh: (ns, name, request) => inspect(inner.refresh(ns, name, request)),
    }
    const scheduler = yield* Scheduler.make().pipe(
      Effect.provideService(TokenManager.TokenManager, manager),
      Effect.provide(platform),
    )
    const names = Array.from({ length: tokens }, (_, i) => `sa-${i}`)
    yield* scheduler.apply(names.map((name) => spec(name, { expirationSeconds: lifetime })))

    // walk through the day an hour at a time; once every token was issued none may be expired
    let expiredPhases = 0
    let everIssued = false
    for (let h = 1; h <= 24; h++) {
      yield* advance
      const list = yield* scheduler.list
      if (!everIssued) everIssued = list.every((s) => s.phase !== "pending" && s.phase !== "failed")
      if (everIssued) expiredPhases += list.filter((s) => s.phase === "expired").length
      for (const name of [names[0]!, names[Math.floor(tokens / 2)]!, names[tokens - 1]!]) {
        const entry = yield* scheduler.token(name)
        if (entry._tag === "Some" && RefreshPolicy.expired(entry.value.response, yield* Clock.currentTimeMillis)) {
          servedExpired++
        }
      }
    }
    const sorted = times.toSorted((a, b) => a - b)
    return {
      clock: clockName,
      tokens,
      calls: times.length,
      failures,
      successes: times.length - failures,
      maxCallsPerSecond: maxPerSecond(sorted),
      servedExpired,
      expiredPhases,
      served,
      everIssued,
      withinBudget: withinBudget(sorted, 5, 10),
      allValid: (yield* scheduler.list).every((s) => s.phase === "valid" || s.phase === "stale"),
    }
  }).pipe(Effect.scoped, Logger.withMinimumLogLevel(LogLevel.None))

const check = (figures: Figures, started: number) => {
  const runSeconds = Math.round((performance.now() - started) / 100) / 10
  console.log(`reliability load figures: ${JSON.stringify({ runtime, ...figures, runSeconds })}`)
  assert.ok(figures.everIssued, "some token was never issued")
  assert.equal(figures.servedExpired, 0)
  assert.equal(figures.expiredPhases, 0)
  assert.ok(figures.withinBudget, "the request budget was exceeded")
  assert.ok(figures.maxCallsPerSecond <= 15, `${figures.maxCallsPerSecond} calls in one second`)
  // every token: a first issue plus two or three refreshes a day, and 20 % of the calls failed
  const { tokens, successes, failures, calls } = figures
  assert.ok(successes >= 3 * tokens && successes <= 4 * tokens, `${successes} successes`)
  assert.ok(Math.abs(failures / calls - failureRate) < 0.02, `${failures} of ${calls} failed`)
  assert.ok(figures.allValid, "a token is not valid at the end of the day")
}

describe(`load with faults (${runtime})`, () => {
  const simulated = [
    [bigTokens, "reserving budget", "simulated, reserving budget", "reserving"],
    [budgetTokens, "agent's Budget", "simulated, agent budget", undefined],
  ] as const
  for (const [tokens, budget, label, mode] of simulated) {
    it(
      `${tokens} tokens over a simulated day, 20 % of TokenRequests failing (discrete-event clock, ${budget})`,
      { timeout: 120_000 },
      () => {
        const started = performance.now()
        const { exit } = simulate(
          epoch,
          "reliability",
          () =>
            mode === undefined ? day(tokens, label, Effect.sleep(hour)) : day(tokens, label, Effect.sleep(hour), mode),
        )
        if (Exit.isFailure(exit)) assert.fail(String(exit.cause))
        check(exit.value, started)
      },
    )
  }

  it(`${smallTokens} tokens over a simulated day, 20 % of TokenRequests failing (TestClock)`, {
    timeout: 120_000,
  }, () => {
    const started = performance.now()
    return runTest(Effect.gen(function* () {
      yield* setTime(epoch)
      check(yield* day(smallTokens, "TestClock, agent budget", TestClock.adjust(hour)), started)
    }))
  })
})
