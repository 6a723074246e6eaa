import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as RefreshPolicy from "../../core/RefreshPolicy.ts"
import { TokenFetchError } from "../../core/TokenError.ts"
import * as TokenMetrics from "../../core/TokenMetrics.ts"
import { cacheKey, fingerprint } from "../../core/TokenRequest.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import { fakeFetcher, fetchError, GTR, issued, managerWith, runTest, tokenOf } from "../_support/harness.ts"
import { hour, minute, second, setTime, T0 } from "../_support/time.ts"

const noJitter = { initialMillis: 1000, maxMillis: 60_000, multiplier: 2, jitter: 0 }
const hourResponse = (token: string, iat: number) => issued({ spec: { expirationSeconds: 3600 } }, token, iat + hour)

describe("TokenManager single-flight", () => {
  it("concurrent callers of one key share one fetch and its token", () =>
    runTest(Effect.gen(function* () {
      const fake = fakeFetcher(() => Effect.as(Effect.sleep(second), hourResponse(`t${fake.calls}`, 0)))
      const manager = yield* managerWith(fake)
      const fibers = yield* Effect.forEach(Array.from({ length: 50 }), () =>
        Effect.fork(manager.getServiceAccountToken("a", "b", GTR)))
      yield* TestClock.adjust(second)
      const results = yield* Effect.forEach(fibers, Fiber.join)
      assert.equal(fake.calls, 1)
      assert.ok(results.every((r) =>
        tokenOf(r) === "t1"
      ))
    })))

  it("concurrent callers share a failure too, and the next call fetches again", () =>
    runTest(Effect.gen(function* () {
      const fake = fakeFetcher(() => Effect.zipRight(Effect.sleep(second), Effect.fail(fetchError("down"))))
      const manager = yield* managerWith(fake)
      const fibers = yield* Effect.forEach(Array.from({ length: 10 }), () =>
        Effect.fork(Effect.flip(manager.getServiceAccountToken("a", "b", GTR))))
      yield* TestClock.adjust(second)
      const errors = yield* Effect.forEach(fibers, Fiber.join)
      assert.equal(fake.calls, 1)
      assert.ok(errors.every((e) =>
        e.message === "failed to fetch token: down"
      ))
      const again = yield* Effect.fork(Effect.either(manager.getServiceAccountToken("a", "b", GTR)))
      yield* TestClock.adjust(second)
      yield* Fiber.join(again)
      assert.equal(fake.calls, 2)
    })))

  it("interrupting the first caller does not cancel the fetch the others wait for", () =>
    runTest(Effect.gen(function* () {
      const fake = fakeFetcher(() => Effect.as(Effect.sleep(second), hourResponse("t", 0)))
      const manager = yield* managerWith(fake)
      const first = yield* Effect.fork(manager.getServiceAccountToken("a", "b", GTR))
      const second_ = yield* Effect.fork(manager.getServiceAccountToken("a", "b", GTR))
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(first)
      yield* TestClock.adjust(second)
      assert.equal(tokenOf(yield* Fiber.join(second_)), "t")
      assert.equal(fake.calls, 1)
      assert.equal(yield* manager.size, 1)
    })))

  it("different keys fetch independently", () =>
    runTest(Effect.gen(function* () {
      const fake = fakeFetcher((_ns, name, request) => Effect.as(Effect.sleep(second), issued(request, name, hour)))
      const manager = yield* managerWith(fake)
      const fibers = yield* Effect.forEach(["x", "y", "z"], (name) =>
        Effect.fork(manager.getServiceAccountToken("a", name, GTR)))
      yield* TestClock.adjust(second)
      assert.deepEqual((yield* Effect.forEach(fibers, Fiber.join)).map(tokenOf), ["x", "y", "z"])
      assert.equal(fake.calls, 3)
    })))
})

describe("TokenManager never returns an expired token", () => {
  it("refetches a token without expirationSeconds once it expires (kubelet would keep serving it)", () =>
    runTest(Effect.gen(function* () {
      yield* setTime(T0)
      const fake = fakeFetcher(() =>
        Effect.sync(() => issued({ spec: {} }, `t${fake.calls}`, T0 + fake.calls * 10 * minute))
      )
      const manager = yield* managerWith(fake)
      assert.equal(tokenOf(yield* manager.getServiceAccountToken("a", "b", GTR)), "t1")
      yield* setTime(T0 + 10 * minute)
      assert.equal(tokenOf(yield* manager.getServiceAccountToken("a", "b", GTR)), "t1")
      yield* setTime(T0 + 10 * minute + 1)
      assert.equal(tokenOf(yield* manager.getServiceAccountToken("a", "b", GTR)), "t2")
      fake.respond = () => Effect.fail(fetchError("down"))
      yield* setTime(T0 + 20 * minute + 1)
      const error = yield* Effect.flip(manager.getServiceAccountToken("a", "b", GTR))
      assert.equal(error._tag, "TokenExpired")
    })))

  it("rejects a response that is already expired or has no token, caching nothing", () =>
    runTest(Effect.gen(function* () {
      yield* setTime(hour)
      const fake = fakeFetcher(() => Effect.succeed(issued({ spec: { expirationSeconds: 600 } }, "old", hour - 1)))
      const manager = yield* managerWith(fake)
      const expired = yield* Effect.flip(manager.getServiceAccountToken("a", "b", GTR))
      assert.equal(expired.message, "failed to fetch token: the issued token expired at 1970-01-01T00:59:59Z")
      assert.equal(expired._tag === "FetchFailed" && expired.reason, "Decode")
      fake.respond = () => Effect.succeed({ spec: {} })
      const empty = yield* Effect.flip(manager.getServiceAccountToken("a", "b", GTR))
      assert.equal(empty.message, "failed to fetch token: no token in server response")
      fake.respond = () => Effect.succeed(issued({ spec: {} }, "", 2 * hour))
      assert.equal(
        (yield* Effect.flip(manager.getServiceAccountToken("a", "b", GTR))).message,
        "failed to fetch token: no token in server response",
      )
      assert.equal(yield* manager.size, 0)
    })))

  it("rejects a response whose expirationSeconds is not a positive whole number", () =>
    runTest(Effect.gen(function* () {
      for (const expirationSeconds of [-600, 0, 600.5, NaN]) {
        const fake = fakeFetcher(() => Effect.succeed(issued({ spec: { expirationSeconds } }, "t", hour)))
        const manager = yield* managerWith(fake)
        const error = yield* Effect.flip(manager.getServiceAccountToken("a", "b", GTR))
        assert.equal(error._tag === "FetchFailed" && error.reason, "Decode", String(expirationSeconds))
        assert.equal(yield* manager.size, 0)
      }
    })))

  it("a fetcher's own timeout ends a hanging fetch, and every waiting caller gets the failure", () =>
    runTest(Effect.gen(function* () {
      const fake = fakeFetcher(() =>
        Effect.never.pipe(
          Effect.timeoutFail({ duration: "2 seconds", onTimeout: () => fetchError("timed out", "Timeout") }),
        )
      )
      const manager = yield* managerWith(fake)
      const fibers = yield* Effect.forEach(
        [1, 2],
        () => Effect.fork(Effect.flip(manager.getServiceAccountToken("a", "b", GTR))),
      )
      yield* TestClock.adjust("2 seconds")
      const errors = yield* Effect.forEach(fibers, Fiber.join)
      assert.deepEqual(errors.map((e) => e.message), [
        "failed to fetch token: timed out",
        "failed to fetch token: timed out",
      ])
      assert.equal(fake.calls, 1)
    })))
})

describe("TokenManager backoff after a failed refresh", () => {
  const setup = Effect.gen(function* () {
    yield* setTime(T0)
    const fake = fakeFetcher(() => Effect.succeed(hourResponse("old", T0)))
    const manager = yield* managerWith(fake, { backoff: noJitter })
    yield* manager.getServiceAccountToken("a", "b", GTR)
    fake.respond = () => Effect.fail(fetchError("down"))
    yield* setTime(T0 + 50 * minute)
    return { fake, manager }
  })

  it("serves the old token without calling the API until the backoff has passed, doubling each time", () =>
    runTest(Effect.gen(function* () {
      const { fake, manager } = yield* setup
      const get = manager.getServiceAccountToken("a", "b", GTR)
      assert.equal(tokenOf(yield* get), "old")
      assert.equal(fake.calls, 2)
      let at = T0 + 50 * minute
      for (const wait of [1, 2, 4, 8, 16]) {
        yield* setTime(at + wait * second - 1)
        yield* get
        assert.equal(fake.calls - 2, [1, 2, 4, 8, 16].indexOf(wait), `before ${wait} s`)
        at += wait * second
        yield* setTime(at)
        assert.equal(tokenOf(yield* get), "old")
      }
      assert.equal(fake.calls, 7)
    })))

  it("caps the wait at a minute and never waits past the token's expiry", () =>
    runTest(Effect.gen(function* () {
      const { fake, manager } = yield* setup
      const get = manager.getServiceAccountToken("a", "b", GTR)
      let at = T0 + 50 * minute
      yield* get
      for (const wait of [1, 2, 4, 8, 16, 32, 60, 60, 60]) {
        at += wait * second
        yield* setTime(at)
        yield* get
      }
      assert.equal(fake.calls, 11)
      // 50 min + 243 s = 54:03; the next attempts at 55:03, 56:03, 57:03, 58:03, 59:03 and the expiry 60:00
      for (const next of [55 * 60 + 3, 56 * 60 + 3, 57 * 60 + 3, 58 * 60 + 3, 59 * 60 + 3, 3600]) {
        yield* setTime(T0 + next * second - 1)
        yield* get
        yield* setTime(T0 + next * second)
        yield* get
      }
      assert.equal(fake.calls, 17)
      yield* setTime(T0 + hour + 1)
      assert.equal((yield* Effect.flip(get))._tag, "TokenExpired")
      assert.equal(fake.calls, 18)
    })))

  it("honours Retry-After as a floor, and a success resets the backoff", () =>
    runTest(Effect.gen(function* () {
      const { fake, manager } = yield* setup
      fake.respond = () =>
        Effect.fail(new TokenFetchError({ reason: "TooManyRequests", description: "slow down", retryAfterSeconds: 30 }))
      const get = manager.getServiceAccountToken("a", "b", GTR)
      yield* get
      yield* setTime(T0 + 50 * minute + 30 * second - 1)
      yield* get
      assert.equal(fake.calls, 2)
      yield* setTime(T0 + 50 * minute + 30 * second)
      fake.respond = () => Effect.succeed(hourResponse("new", T0 + 50 * minute))
      assert.equal(tokenOf(yield* get), "new")
      assert.equal(fake.calls, 3)
      fake.respond = () => Effect.fail(fetchError("down"))
      yield* setTime(T0 + 99 * minute)
      yield* get
      yield* setTime(T0 + 99 * minute + second)
      yield* get
      assert.equal(fake.calls, 5, "after a success the first wait is 1 s again")
    })))

  it("jitters the wait down by at most the configured fraction", () =>
    runTest(Effect.gen(function* () {
      yield* setTime(T0)
      const fake = fakeFetcher(() => Effect.succeed(hourResponse("old", T0)))
      const manager = yield* managerWith(fake)
      yield* manager.getServiceAccountToken("a", "b", GTR)
      fake.respond = () => Effect.fail(fetchError("down"))
      yield* setTime(T0 + 50 * minute)
      yield* manager.getServiceAccountToken("a", "b", GTR)
      yield* setTime(T0 + 50 * minute + 800 - 1)
      yield* manager.getServiceAccountToken("a", "b", GTR)
      assert.equal(fake.calls, 2, "no retry before 80 % of the first wait")
      yield* setTime(T0 + 50 * minute + 1000)
      yield* manager.getServiceAccountToken("a", "b", GTR)
      assert.equal(fake.calls, 3, "a retry by the full first wait")
    })))
})

describe("TokenManager clock leap", () => {
  it("refreshes a token whose derived issue time is after now", () =>
    runTest(Effect.gen(function* () {
      yield* setTime(T0)
      const fake = fakeFetcher(() => Effect.sync(() => hourResponse(`t${fake.calls}`, T0)))
      const manager = yield* managerWith(fake)
      yield* manager.getServiceAccountToken("a", "b", GTR)
      yield* setTime(T0 - 5 * minute)
      yield* manager.getServiceAccountToken("a", "b", GTR)
      assert.equal(fake.calls, 2)
      const upstream = yield* managerWith(fake, { policy: RefreshPolicy.upstream })
      yield* setTime(T0)
      yield* upstream.getServiceAccountToken("a", "b", GTR)
      yield* setTime(T0 - 5 * minute)
      yield* upstream.getServiceAccountToken("a", "b", GTR)
      assert.equal(fake.calls, 3, "upstream kubelet keeps the token")
    })))
})

describe("TokenManager.invalidate, refresh and pod deletion during a fetch", () => {
  it("invalidate drops the key so that the next call fetches", () =>
    runTest(Effect.gen(function* () {
      const fake = fakeFetcher(() => Effect.sync(() => hourResponse(`t${fake.calls}`, 0)))
      const manager = yield* managerWith(fake)
      yield* manager.getServiceAccountToken("a", "b", GTR)
      assert.equal(yield* manager.invalidate("a", "b", GTR), true)
      assert.equal(yield* manager.invalidate("a", "b", GTR), false)
      assert.equal(tokenOf(yield* manager.getServiceAccountToken("a", "b", GTR)), "t2")
    })))

  it("refresh fetches a fresh token now, and on failure keeps the cached one but reports the error", () =>
    runTest(Effect.gen(function* () {
      const fake = fakeFetcher(() => Effect.sync(() => hourResponse(`t${fake.calls}`, 0)))
      const manager = yield* managerWith(fake)
      yield* manager.getServiceAccountToken("a", "b", GTR)
      assert.equal(tokenOf(yield* manager.refresh("a", "b", GTR)), "t2")
      fake.respond = () => Effect.fail(fetchError("down"))
      assert.equal((yield* Effect.flip(manager.refresh("a", "b", GTR))).message, "failed to fetch token: down")
      assert.equal(tokenOf(yield* manager.getServiceAccountToken("a", "b", GTR)), "t2")
      assert.equal((yield* Effect.flip(manager.refresh("a", "b/c", GTR)))._tag, "InvalidTokenRequest")
    })))

  it("a token fetched for a pod deleted meanwhile is returned but not cached", () =>
    runTest(Effect.gen(function* () {
      const fake = fakeFetcher((_ns, _name, request) => Effect.as(Effect.sleep(second), issued(request, "t", hour)))
      const manager = yield* managerWith(fake)
      const fiber = yield* Effect.fork(manager.getServiceAccountToken("a", "b", GTR))
      yield* Effect.yieldNow()
      yield* manager.deleteServiceAccountToken("foo-uid")
      yield* TestClock.adjust(second)
      assert.equal(tokenOf(yield* Fiber.join(fiber)), "t")
      assert.equal(yield* manager.size, 0)
    })))
})

describe("TokenManager validation", () => {
  for (
    const [namespace, name, request, field] of [
      ["a/b", "x", GTR, "namespace"],
      ["default", "..", GTR, "name"],
      ["default", "x", { spec: { audiences: [""] } }, "spec.audiences[0]"],
      ["default", "x", { spec: { expirationSeconds: 60 } }, "spec.expirationSeconds"],
    ] as const
  ) {
    it(`rejects ${field} before any fetch`, () =>
      runTest(Effect.gen(function* () {
        const fake = fakeFetcher(() => Effect.succeed(hourResponse("t", 0)))
        const manager = yield* managerWith(fake)
        const error = yield* Effect.flip(manager.getServiceAccountToken(namespace, name, request as TokenRequest))
        assert.equal(error._tag, "InvalidTokenRequest")
        assert.equal(error._tag === "InvalidTokenRequest" && error.field, field)
        assert.equal(fake.calls, 0)
      })))
  }
})

describe("TokenManager observability", () => {
  const count = (metric: TokenMetrics.Counter) => Effect.map(Metric.value(metric), (s) => s.count)

  it("counts hits, misses, fetches, failures, stale tokens served and evictions", () =>
    runTest(Effect.gen(function* () {
      yield* setTime(T0)
      const counters = Effect.all([
        count(TokenMetrics.hits),
        count(TokenMetrics.misses),
        count(TokenMetrics.fetches),
        count(Metric.tagged(TokenMetrics.fetchFailures, "reason", "ServerError")),
        count(TokenMetrics.staleServed),
        count(Metric.tagged(TokenMetrics.evictions, "cause", "invalidated")),
      ])
      const before = yield* counters
      const fake = fakeFetcher(() => Effect.succeed(hourResponse("t", T0)))
      const manager = yield* managerWith(fake, { backoff: noJitter })
      yield* manager.getServiceAccountToken("a", "b", GTR)
      yield* manager.getServiceAccountToken("a", "b", GTR)
      fake.respond = () => Effect.fail(fetchError("down"))
      yield* setTime(T0 + 50 * minute)
      yield* manager.getServiceAccountToken("a", "b", GTR)
      yield* manager.getServiceAccountToken("a", "b", GTR)
      yield* manager.invalidate("a", "b", GTR)
      const after = yield* counters
      assert.deepEqual(after.map((n, i) => n - before[i]!), [1, 1, 2, 1, 2, 1])
    })))

  it("logs `Couldn't update token` with the cache key and a fingerprint, never the token", () =>
    runTest(Effect.gen(function* () {
      const lines: Array<string> = []
      const logger = Logger.make(({ message, annotations, logLevel }) => {
        lines.push(JSON.stringify({ level: logLevel.label, message, annotations: Object.fromEntries(annotations) }))
      })
      yield* setTime(T0)
      const token = "eyJ.SECRET-MARKER.sig"
      const fake = fakeFetcher(() => Effect.succeed(hourResponse(token, T0)))
      const manager = yield* managerWith(fake)
      yield* manager.getServiceAccountToken("a", "b", GTR)
      fake.respond = () => Effect.fail(fetchError("down"))
      yield* setTime(T0 + 50 * minute)
      yield* manager.getServiceAccountToken("a", "b", GTR).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
      )
      assert.equal(lines.length, 1)
      const line = JSON.parse(lines[0]!)
      assert.equal(line.level, "ERROR")
      assert.deepEqual(line.message, ["Couldn't update token"])
      assert.equal(line.annotations.cacheKey, cacheKey("b", "a", GTR))
      assert.equal(line.annotations.fingerprint, fingerprint(token))
      assert.equal(line.annotations.err, "down")
      assert.ok(!lines[0]!.includes("SECRET-MARKER"))
    })))

  it("peek and size see the cache without fetching", () =>
    runTest(Effect.gen(function* () {
      const fake = fakeFetcher(() => Effect.succeed(hourResponse("t", 0)))
      const manager = yield* managerWith(fake)
      assert.ok(Option.isNone(yield* manager.peek(cacheKey("b", "a", GTR))))
      yield* manager.getServiceAccountToken("a", "b", GTR)
      assert.equal(tokenOf(Option.getOrThrow(yield* manager.peek(cacheKey("b", "a", GTR)))), "t")
      assert.equal(yield* manager.size, 1)
      assert.equal(fake.calls, 1)
    })))
})
