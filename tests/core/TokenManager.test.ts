import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as TokenFetcher from "../../core/TokenFetcher.ts"
import * as TokenManager from "../../core/TokenManager.ts"
import { cacheKey } from "../../core/TokenRequest.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import * as TokenStore from "../../core/TokenStore.ts"
import {
  fakeFetcher,
  fetchError,
  GTR,
  hour,
  issued,
  managerWith,
  minute,
  runTest,
  setTime,
  T0,
  tokenOf,
} from "../_support/harness.ts"
import {
  cachingCases,
  cleanupCases,
  deleteCases,
  deleteCatalogue,
  keyCases,
  withUid,
} from "../_support/kubeletTables.ts"

/**
 * A store that hands out each response put in it once, by kubelet's key: `lookup` caches a response the way kubelet's
 * tests `set` one, and later misses find the store empty.
 */
const seedStore = () => {
  const seeds = new Map<string, TokenRequest>()
  const store = TokenStore.make(
    ({ key }) =>
      Effect.sync(() => {
        const response = seeds.get(key)
        seeds.delete(key)
        return Option.fromNullable(response)
      }),
    () => Effect.void,
  )
  /** Caches a response for a request through the store. */
  const seed = (manager: TokenManager.TokenManager, name: string, namespace: string, response: TokenRequest) =>
    Effect.gen(function* () {
      seeds.set(cacheKey(name, namespace, response), response)
      assert.ok(Option.isSome(yield* manager.lookup(namespace, name, response)), "the seeded response is cached")
    })
  return { store, seed }
}

describe("TokenManager caching and expiration (kubelet TestTokenCachingAndExpiration)", () => {
  const setup = (expSeconds: number) =>
    Effect.gen(function* () {
      yield* setTime(T0)
      const fake = fakeFetcher(() =>
        Effect.succeed(issued({ spec: { expirationSeconds: expSeconds } }, "foo", T0 + expSeconds * 1000))
      )
      const manager = yield* managerWith(fake)
      yield* manager.getServiceAccountToken("a", "b", GTR)
      assert.equal(fake.calls, 1)
      yield* manager.getServiceAccountToken("a", "b", GTR)
      assert.equal(fake.calls, 1)
      return { fake, manager }
    })

  for (const { name, lifetime, steps } of cachingCases) {
    it(name, () =>
      runTest(Effect.gen(function* () {
        const { fake, manager } = yield* setup(lifetime / 1000)
        for (const step of steps) {
          if (step.at !== undefined) yield* setTime(T0 + step.at)
          if (step.fails) fake.respond = () => Effect.fail(fetchError("err"))
          const request = step.uid === undefined ? GTR : withUid(step.uid)
          const response = yield* manager.getServiceAccountToken("a", "b", request)
          assert.equal(fake.calls, step.calls)
          if (step.token !== undefined) assert.equal(tokenOf(response), step.token)
        }
      })))
  }
})

describe("TokenManager.deleteServiceAccountToken (kubelet TestDeleteServiceAccountToken)", () => {
  for (const { name: title, requests, deletes, expected } of deleteCases) {
    it(title, () =>
      runTest(Effect.gen(function* () {
        yield* setTime(T0)
        let failing = false
        const fake = fakeFetcher((_ns, _name, request) =>
          failing ? Effect.fail(fetchError("fail tr")) : Effect.succeed(issued(request, "t", T0 + 10 * hour))
        )
        const manager = yield* managerWith(fake)
        for (const index of requests) {
          const { name, namespace, request, fails } = deleteCatalogue[index]!
          failing = fails
          yield* Effect.either(manager.getServiceAccountToken(namespace, name, request))
        }
        for (const uid of deletes) yield* manager.deleteServiceAccountToken(uid)
        assert.equal(yield* manager.size, expected.length)
        for (const index of expected) {
          const { name, namespace, request } = deleteCatalogue[index]!
          assert.ok(Option.isSome(yield* manager.peek(cacheKey(name, namespace, request))), `request ${index}`)
        }
      })))
  }

  it("returns how many entries it removed, and only that pod's", () =>
    runTest(Effect.gen(function* () {
      const fake = fakeFetcher((_ns, _name, request) => Effect.succeed(issued(request, "t", 10 * hour)))
      const manager = yield* managerWith(fake)
      const bound = (pod: string, audience: string): TokenRequest => ({
        spec: { audiences: [audience], boundObjectRef: { kind: "Pod", name: pod, uid: pod } },
      })
      for (const pod of ["p1", "p2"]) {
        for (const audience of ["a", "b", "c"]) yield* manager.getServiceAccountToken("ns", "sa", bound(pod, audience))
      }
      assert.equal(yield* manager.deleteServiceAccountToken("p1"), 3)
      assert.equal(yield* manager.deleteServiceAccountToken("p1"), 0)
      assert.equal(yield* manager.size, 3)
    })))
})

describe("TokenManager.cleanup (kubelet TestCleanup)", () => {
  const now = -62135510400000
  for (const { what: title, relativeExp: relative, expected: size } of cleanupCases) {
    it(title, () =>
      runTest(Effect.gen(function* () {
        // Cached while valid, then the clock moves on to `now`.
        yield* setTime(Math.min(now, now + relative) - minute)
        const { seed, store } = seedStore()
        const manager = yield* managerWith(fakeFetcher(() => Effect.fail(fetchError("unused"))), { store })
        yield* seed(manager, "sa", "ns", issued({ spec: {} }, "t", now + relative))
        yield* setTime(now)
        yield* manager.cleanup
        assert.equal(yield* manager.size, size)
      })))
  }
})

describe("TokenManager keys (kubelet TestKeyFunc)", () => {
  for (const { name: title, stored, target: { name, namespace, request }, hit } of keyCases) {
    it(title, () =>
      runTest(Effect.gen(function* () {
        yield* setTime(T0)
        const { seed, store } = seedStore()
        const manager = yield* managerWith(fakeFetcher(() => Effect.fail(fetchError("unused"))), { store })
        for (const { name: n, namespace: ns, request: r } of stored) {
          yield* seed(manager, n, ns, issued(r, "t", T0 + 50 * minute))
        }
        assert.equal(Option.isSome(yield* manager.peek(cacheKey(name, namespace, request))), hit)
        // The store is empty now: only a cached entry under the same key answers without the failing fetch.
        const got = yield* Effect.either(manager.getServiceAccountToken(namespace, name, request))
        assert.equal(got._tag === "Right", hit)
      })))
  }
})

describe("TokenManager service-account recreation (kubelet TestServiceAccountRecreationCacheInvalidation)", () => {
  it("a new UID misses, the same UID hits", () =>
    runTest(Effect.gen(function* () {
      yield* setTime(T0)
      const fake = fakeFetcher((_ns, _name, request) =>
        Effect.sync(() =>
          issued({ metadata: request.metadata, spec: { expirationSeconds: 3600 } }, `token-${fake.calls}`, T0 + hour)
        )
      )
      const manager = yield* managerWith(fake)
      const O: TokenRequest = {
        metadata: { uid: "original-sa-uid-123" },
        spec: { audiences: ["test-audience"], expirationSeconds: 3600 },
      }
      const N: TokenRequest = { ...O, metadata: { uid: "recreated-sa-uid-456" } }
      const steps: ReadonlyArray<[TokenRequest, number, string]> = [[O, 1, "token-1"], [O, 1, "token-1"], [
        N,
        2,
        "token-2",
      ], [N, 2, "token-2"]]
      for (const [request, calls, token] of steps) {
        const response = yield* manager.getServiceAccountToken("test-ns", "test-sa", request)
        assert.equal(fake.calls, calls)
        assert.equal(tokenOf(response), token)
      }
    })))
})

describe("TokenManager errors and edge cases (kubelet's error texts and expiry boundary)", () => {
  const hourToken = (token = "foo") => Effect.succeed(issued({ spec: { expirationSeconds: 3600 } }, token, T0 + hour))

  /** A manager holding an hour token fetched at T0, whose fetcher fails from then on. */
  const cachedThenFailing = Effect.gen(function* () {
    yield* setTime(T0)
    const fake = fakeFetcher(() => hourToken())
    const manager = yield* managerWith(fake)
    yield* manager.getServiceAccountToken("a", "b", GTR)
    fake.respond = () => Effect.fail(fetchError("err"))
    return manager
  })

  it("a token at exactly its expiry is not expired: a failed refresh returns it", () =>
    runTest(Effect.gen(function* () {
      const manager = yield* cachedThenFailing
      yield* setTime(T0 + hour)
      assert.equal(tokenOf(yield* manager.getServiceAccountToken("a", "b", GTR)), "foo")
    })))

  it("an expired token whose refresh fails gives `token <key> expired and refresh failed: <err>`", () =>
    runTest(Effect.gen(function* () {
      const manager = yield* cachedThenFailing
      yield* setTime(T0 + hour + 1)
      const error = yield* Effect.flip(manager.getServiceAccountToken("a", "b", GTR))
      assert.equal(error._tag, "TokenExpired")
      assert.equal(error.message, `token ${cacheKey("b", "a", GTR)} expired and refresh failed: err`)
    })))

  it("a miss whose fetch fails gives `failed to fetch token: <err>` and caches nothing", () =>
    runTest(Effect.gen(function* () {
      const fake = fakeFetcher(() => Effect.fail(fetchError("err")))
      const manager = yield* managerWith(fake)
      const error = yield* Effect.flip(manager.getServiceAccountToken("a", "b", GTR))
      assert.equal(error.message, "failed to fetch token: err")
      assert.equal(yield* manager.size, 0)
      yield* Effect.flip(manager.getServiceAccountToken("a", "b", GTR))
      assert.equal(fake.calls, 2)
    })))

  it("standalone mode fails with kubelet's message", () =>
    runTest(Effect.gen(function* () {
      const manager = yield* TokenManager.make().pipe(Effect.provide(TokenFetcher.layerStandalone))
      const error = yield* Effect.flip(manager.getServiceAccountToken("a", "b", GTR))
      assert.equal(error.message, "failed to fetch token: cannot use TokenManager when kubelet is in standalone mode")
      assert.equal(error._tag === "FetchFailed" && error.reason, "Standalone")
    })))

  it("null audiences and [] are different keys (two fetches)", () =>
    runTest(Effect.gen(function* () {
      const fake = fakeFetcher((_ns, _name, request) => Effect.succeed(issued(request, "t", hour)))
      const manager = yield* managerWith(fake)
      yield* manager.getServiceAccountToken("a", "b", { spec: {} })
      yield* manager.getServiceAccountToken("a", "b", { spec: { audiences: [] } })
      yield* manager.getServiceAccountToken("a", "b", { spec: {} })
      assert.equal(fake.calls, 2)
    })))

  it("the garbage collector runs at start, then every minute after each run, and stops with the layer", () =>
    runTest(Effect.gen(function* () {
      const fake = fakeFetcher(() => Effect.fail(fetchError("unused")))
      const { seed, store } = seedStore()
      const manager = yield* Effect.scoped(
        Effect.gen(function* () {
          const manager = yield* TokenManager.TokenManager
          yield* seed(manager, "k1", "ns", issued({ spec: {} }, "t", 30_000))
          yield* TestClock.adjust(59_999)
          assert.equal(yield* manager.size, 1)
          yield* TestClock.adjust(1)
          assert.equal(yield* manager.size, 0)
          yield* seed(manager, "k2", "ns", issued({ spec: {} }, "t", 61_000))
          yield* TestClock.adjust(59_999)
          assert.equal(yield* manager.size, 1)
          yield* TestClock.adjust(1)
          assert.equal(yield* manager.size, 0)
          return manager
        }).pipe(Effect.provide(TokenManager.layerWith({ store }).pipe(Layer.provide(fake.layer)))),
      )
      yield* seed(manager, "k3", "ns", issued({ spec: {} }, "t", 121_000))
      yield* TestClock.adjust(10 * minute)
      assert.equal(yield* manager.size, 1)
    })))

  it("the garbage collector's first run happens immediately", () =>
    runTest(Effect.gen(function* () {
      const { seed, store } = seedStore()
      const manager = yield* managerWith(fakeFetcher(() => Effect.fail(fetchError("unused"))), { store })
      yield* seed(manager, "old", "ns", issued({ spec: {} }, "t", minute))
      yield* setTime(hour)
      yield* TokenManager.runGarbageCollector(manager, minute)
      yield* Effect.yieldNow()
      assert.equal(yield* manager.size, 0)
    })))
})
