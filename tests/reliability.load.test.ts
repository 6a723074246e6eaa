/**
 * Load with faults: a simulated day (TestClock) of the agent's scheduler over the core manager behind the agent's
 * request budget (5/s, burst 10), with N tokens of 12 h and 20 % of TokenRequests failing at random (a seeded fake
 * fetcher, so every run is the same). Checks that no token that could have been refreshed is ever served expired (the
 * manager never hands out an expired token and no token is ever in the `expired` phase once it was issued) and that
 * the calls stay within the token bucket. N is 10,000 under Node and 2,000 under Deno and Bun (see
 * docs/reliability.md for the figures and why).
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as Budget from "../adapters/agent/Budget.ts"
import * as Scheduler from "../adapters/agent/Scheduler.ts"
import * as RefreshPolicy from "../core/RefreshPolicy.ts"
import { TokenFetchError } from "../core/TokenError.ts"
import * as TokenFetcher from "../core/TokenFetcher.ts"
import * as TokenManager from "../core/TokenManager.ts"
import type { TokenRequest } from "../core/TokenRequest.ts"
import { hour, runTest, second, setTime } from "./_harness.ts"
import { epoch, spec } from "./agent.harness.ts"
import { runtime } from "./_runtime.ts"

const tokens = Number(process.env.RELIABILITY_LOAD_TOKENS ?? (runtime === "node" ? 500 : 300))
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

/** Whether sorted call times conform to a token bucket (qps, burst) that starts full. */
const withinBudget = (times: ReadonlyArray<number>, qps: number, burst: number): boolean => {
  let level = burst
  let last = times[0] ?? 0
  for (const t of times) {
    level = Math.min(burst, level + ((t - last) * qps) / 1000)
    last = t
    if (level < 1 - 1e-9) return false
    level -= 1
  }
  return true
}

describe(`load with faults (${runtime})`, () => {
  it(`${tokens} tokens over a simulated day with 20 % of TokenRequests failing`, {
    timeout: Math.max(120_000, tokens * 1000),
  }, () =>
    runTest(
      Effect.gen(function* () {
        const started = performance.now()
        yield* setTime(epoch)
        const random = prng(20300101)
        const times: Array<number> = []
        let failures = 0
        let serial = 0
        const fetcher = TokenFetcher.make((_namespace, name, request) =>
          Effect.flatMap(Clock.currentTimeMillis, (now): Effect.Effect<TokenRequest, TokenFetchError> => {
            times.push(now)
            if (random() < failureRate) {
              failures++
              return Effect.fail(
                new TokenFetchError({ reason: "ServerError", description: "etcdserver: leader changed" }),
              )
            }
            const seconds = request.spec.expirationSeconds ?? 3600
            return Effect.succeed({
              ...request,
              spec: { ...request.spec, expirationSeconds: seconds },
              status: {
                token: Redacted.make(`${name}.${++serial}`),
                expirationTimestamp: new Date(now + seconds * 1000),
              },
            })
          })
        )
        const budget = yield* Budget.make({ qps: 5, burst: 10 })
        const inner = yield* TokenManager.make({ gc: false }).pipe(
          Effect.provide(Layer.succeed(TokenFetcher.TokenFetcher, Budget.limit(fetcher, budget))),
        )
        // every response the manager hands out is checked against the TestClock at the moment it is handed out
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
          Effect.provide(NodeContext.layer),
        )
        const names = Array.from({ length: tokens }, (_, i) => `sa-${i}`)
        yield* scheduler.apply(names.map((name) => spec(name, { expirationSeconds: lifetime })))

        // walk through the day an hour at a time; once every token was issued none may be expired
        let expiredPhases = 0
        let everIssued = false
        for (let h = 1; h <= 24; h++) {
          yield* TestClock.adjust(hour)
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
        const figures = {
          runtime,
          tokens,
          calls: times.length,
          failures,
          successes: times.length - failures,
          maxCallsPerSecond: maxPerSecond(sorted),
          servedExpired,
          expiredPhases,
          served,
          runSeconds: Math.round((performance.now() - started) / 100) / 10,
        }
        console.log(`reliability load figures: ${JSON.stringify(figures)}`)
        assert.ok(everIssued, "some token was never issued")
        assert.equal(servedExpired, 0)
        assert.equal(expiredPhases, 0)
        assert.ok(withinBudget(sorted, 5, 10), "the request budget was exceeded")
        assert.ok(figures.maxCallsPerSecond <= 15, `${figures.maxCallsPerSecond} calls in one second`)
        // every token: a first issue plus two or three refreshes a day, and 20 % of the calls failed
        assert.ok(figures.successes >= 3 * tokens && figures.successes <= 4 * tokens, `${figures.successes} successes`)
        assert.ok(Math.abs(failures / times.length - failureRate) < 0.02, `${failures} of ${times.length} failed`)
        assert.ok((yield* scheduler.list).every((s) => s.phase === "valid" || s.phase === "stale"))
        void second
      }).pipe(Logger.withMinimumLogLevel(LogLevel.None)),
    ))
})
