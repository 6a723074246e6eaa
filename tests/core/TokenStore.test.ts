import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import { TokenStoreError } from "../../core/TokenError.ts"
import * as TokenMetrics from "../../core/TokenMetrics.ts"
import { cacheKey } from "../../core/TokenRequest.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import * as TokenStore from "../../core/TokenStore.ts"
import { fakeFetcher, fetchError, GTR, issued, managerWith, runTest, tokenOf } from "../_support/harness.ts"
import { hour, minute, second } from "../_support/time.ts"

const noJitter = { initialMillis: 1000, maxMillis: 60_000, multiplier: 2, jitter: 0 }
const key = cacheKey("b", "a", GTR)
/** GTR's response issued at `iat` for an hour. */
const hourResponse = (token: string, iat: number): TokenRequest =>
  issued({ ...GTR, spec: { ...GTR.spec, expirationSeconds: 3600 } }, token, iat + hour)

/** A memory store that counts its loads and saves. */
const counting = (initial: ReadonlyArray<readonly [string, TokenRequest]> = []) => {
  const inner = TokenStore.memory(initial)
  const counts = { loads: 0, saves: 0 }
  const store = TokenStore.make(
    (request) => Effect.suspend(() => (counts.loads++, inner.load(request))),
    (request, response) => Effect.suspend(() => (counts.saves++, inner.save(request, response))),
  )
  const saved = Effect.map(inner.load({ key, namespace: "a", name: "b", request: GTR }), Option.map(tokenOf))
  return { store, counts, saved }
}

const count = (metric: TokenMetrics.Counter) => Effect.map(Metric.value(metric), (s) => s.count)
const storeFailures = (operation: string) => count(Metric.tagged(TokenMetrics.storeFailures, "operation", operation))

describe("TokenManager over a TokenStore", () => {
  it("a stored token that needs no refresh is served without a fetch, loaded once and counted as a store hit", () =>
    runTest(Effect.gen(function* () {
      const { counts, store } = counting([[key, hourResponse("stored", 0)]])
      const fake = fakeFetcher(() => Effect.succeed(hourResponse("fetched", 0)))
      const manager = yield* managerWith(fake, { store })
      const hits = yield* count(TokenMetrics.storeHits)
      yield* TestClock.adjust(10 * minute)
      assert.equal(tokenOf(yield* manager.getServiceAccountToken("a", "b", GTR)), "stored")
      assert.equal(tokenOf(yield* manager.getServiceAccountToken("a", "b", GTR)), "stored")
      assert.equal(fake.calls, 0)
      assert.equal(counts.loads, 1)
      assert.equal(counts.saves, 0)
      assert.equal((yield* count(TokenMetrics.storeHits)) - hits, 1)
    })))

  it("a stored token past its refresh point is refreshed once, and the new token is saved", () =>
    runTest(Effect.gen(function* () {
      const { counts, saved, store } = counting([[key, hourResponse("stored", 0)]])
      const fake = fakeFetcher(() => Effect.succeed(hourResponse("fetched", 50 * minute)))
      const manager = yield* managerWith(fake, { store })
      yield* TestClock.adjust(50 * minute)
      assert.equal(tokenOf(yield* manager.getServiceAccountToken("a", "b", GTR)), "fetched")
      assert.equal(fake.calls, 1)
      assert.equal(counts.saves, 1)
      assert.deepEqual(yield* saved, Option.some("fetched"))
    })))

  it("a stored token past its refresh point is served while the refresh fails, with backoff between fetches", () =>
    runTest(Effect.gen(function* () {
      const { store } = counting([[key, hourResponse("stored", 0)]])
      const fake = fakeFetcher(() => Effect.fail(fetchError("down")))
      const manager = yield* managerWith(fake, { store, backoff: noJitter })
      yield* TestClock.adjust(50 * minute)
      assert.equal(tokenOf(yield* manager.getServiceAccountToken("a", "b", GTR)), "stored")
      assert.equal(fake.calls, 1)
      assert.equal(tokenOf(yield* manager.getServiceAccountToken("a", "b", GTR)), "stored")
      assert.equal(fake.calls, 1, "no fetch during the backoff")
      yield* TestClock.adjust(second)
      assert.equal(tokenOf(yield* manager.getServiceAccountToken("a", "b", GTR)), "stored")
      assert.equal(fake.calls, 2)
    })))

  it("an expired or token-less stored response is a miss", () =>
    runTest(Effect.gen(function* () {
      for (const stale of [hourResponse("expired", -2 * hour), { ...GTR, status: undefined }]) {
        const { store } = counting([[key, stale]])
        const fake = fakeFetcher(() => Effect.succeed(hourResponse("fetched", 0)))
        const manager = yield* managerWith(fake, { store })
        assert.equal(tokenOf(yield* manager.getServiceAccountToken("a", "b", GTR)), "fetched")
        assert.equal(fake.calls, 1)
      }
    })))

  it("a failing load is a miss and a failing save keeps the fetched token; both are counted", () =>
    runTest(Effect.gen(function* () {
      const failing = TokenStore.make(
        () => Effect.fail(new TokenStoreError({ reason: "Load", description: "disk gone" })),
        () => Effect.fail(new TokenStoreError({ reason: "Save", description: "disk full" })),
      )
      const fake = fakeFetcher(() => Effect.succeed(hourResponse("fetched", 0)))
      const manager = yield* managerWith(fake, { store: failing })
      const [loads, saves] = [yield* storeFailures("load"), yield* storeFailures("save")]
      assert.equal(tokenOf(yield* manager.getServiceAccountToken("a", "b", GTR)), "fetched")
      assert.equal(tokenOf(yield* manager.getServiceAccountToken("a", "b", GTR)), "fetched")
      assert.equal(fake.calls, 1, "the fetched token is cached although it could not be saved")
      assert.equal((yield* storeFailures("load")) - loads, 1)
      assert.equal((yield* storeFailures("save")) - saves, 1)
    })))

  it("concurrent callers of a missing key share one load and one fetch", () =>
    runTest(Effect.gen(function* () {
      let loads = 0
      const slow = TokenStore.make(
        () => Effect.as(Effect.sleep(second), Option.none()).pipe(Effect.ensuring(Effect.sync(() => loads++))),
        () => Effect.void,
      )
      const fake = fakeFetcher(() => Effect.as(Effect.sleep(second), hourResponse("fetched", 0)))
      const manager = yield* managerWith(fake, { store: slow })
      const fibers = yield* Effect.forEach(
        Array.from({ length: 20 }),
        () => Effect.fork(manager.getServiceAccountToken("a", "b", GTR)),
      )
      yield* TestClock.adjust(2 * second)
      const tokens = yield* Effect.forEach(fibers, (fiber) => Effect.map(Fiber.join(fiber), tokenOf))
      assert.deepEqual(new Set(tokens), new Set(["fetched"]))
      assert.equal(loads, 1)
      assert.equal(fake.calls, 1)
    })))

  it("lookup returns the cached or stored token without fetching, and never an expired one", () =>
    runTest(Effect.gen(function* () {
      const { counts, store } = counting([[key, hourResponse("stored", 0)]])
      const fake = fakeFetcher(() => Effect.succeed(hourResponse("fetched", 0)))
      const manager = yield* managerWith(fake, { store })
      yield* TestClock.adjust(55 * minute)
      // Past its refresh point but valid: lookup does not refresh.
      assert.deepEqual(Option.map(yield* manager.lookup("a", "b", GTR), tokenOf), Option.some("stored"))
      assert.deepEqual(Option.map(yield* manager.lookup("a", "b", GTR), tokenOf), Option.some("stored"))
      assert.equal(counts.loads, 1)
      assert.equal(yield* manager.size, 1)
      yield* TestClock.adjust(6 * minute)
      assert.ok(Option.isNone(yield* manager.lookup("a", "b", GTR)))
      assert.ok(Option.isNone(yield* manager.lookup("a", "../b", GTR)), "an invalid request is not looked up")
      assert.equal(fake.calls, 0)
    })))

  it("refresh fetches without loading, and saves", () =>
    runTest(Effect.gen(function* () {
      const { counts, saved, store } = counting([[key, hourResponse("stored", 0)]])
      const fake = fakeFetcher(() => Effect.succeed(hourResponse("fetched", 0)))
      const manager = yield* managerWith(fake, { store })
      assert.equal(tokenOf(yield* manager.refresh("a", "b", GTR)), "fetched")
      assert.equal(counts.loads, 0)
      assert.deepEqual(yield* saved, Option.some("fetched"))
    })))
})
