import assert from "node:assert/strict"
import { describe, it } from "node:test"
import fc from "fast-check"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as TestClock from "effect/TestClock"
import * as Backoff from "../../../core/Backoff.ts"
import * as Internal from "../../../core/internal/manager.ts"
import * as RefreshRules from "../../../core/RefreshRules.ts"
import { cacheKey } from "../../../core/TokenRequest.ts"
import * as TokenStore from "../../../core/TokenStore.ts"
import type { FakeFetcher } from "../../_support/harness.ts"
import { fakeFetcher, fetchError, GTR, issued, runTest, second, setTime, T0, tokenOf } from "../../_support/harness.ts"

/** The manager's operations over a fake fetcher, in the test's scope and on its TestClock. */
const managerOf = (fake: FakeFetcher, store: TokenStore.TokenStore = TokenStore.none) =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const clock = yield* Effect.clock
    return Internal.make({
      fetcher: fake.fetcher,
      store,
      scope,
      clock,
      policy: RefreshRules.kubelet,
      backoff: Backoff.standard,
    })
  })

/** Every log line written while `effect` runs, as its message and annotations. */
const logged = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const lines: Array<{ message: unknown; annotations: Record<string, unknown> }> = []
    const logger = Logger.make(({ message, annotations }) => {
      lines.push({ message, annotations: Object.fromEntries(annotations) })
    })
    const result = yield* Effect.either(effect.pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger))))
    return { lines, result }
  })

describe("the manager's fast path", () => {
  it("fetches again exactly when the token is due for the jitter drawn, whichever path answers", async () => {
    const lifetime = fc.constantFrom(600, 3600, 7207, 200_000)
    // Within 1.5 s of where the jitter drawn puts the refresh point, of where the largest jitter would put it, and of
    // the issue time (before it, the clock leapt backwards).
    const near = fc.record({
      from: fc.constantFrom("jittered deadline", "earliest deadline", "issue time"),
      millis: fc.integer({ min: -1500, max: 1500 }),
    })
    await fc.assert(
      fc.asyncProperty(lifetime, near, fc.integer({ min: 0, max: 9 }), async (seconds, at, jitter) => {
        const response = issued({ spec: { ...GTR.spec, expirationSeconds: seconds } }, "t", T0 + seconds * second)
        const deadline = RefreshRules.refreshDeadline(response)
        const from = at.from === "issue time" ? T0 : deadline - (at.from === "jittered deadline" ? jitter : 9) * second
        const now = from + at.millis
        const calls = await runTest(
          Effect.gen(function* () {
            yield* setTime(T0)
            const fake = fakeFetcher(() => Effect.succeed(response))
            const manager = yield* managerOf(fake)
            yield* manager.getServiceAccountToken("a", "b", GTR)
            yield* setTime(now)
            yield* manager.getServiceAccountToken("a", "b", GTR)
            return fake.calls
          }).pipe(Effect.withRandom(Random.fixed([jitter]))),
        )
        const due = RefreshRules.requiresRefresh(response, now, jitter)
        assert.equal(calls, due ? 2 : 1, `lifetime ${seconds} s, ${at.millis} ms from the ${at.from}, jitter ${jitter}`)
      }),
      { numRuns: 300 },
    )
  })
})

describe("the manager's slow paths", () => {
  /** A manager that cached GTR's token at T0, valid for 2000 s, and whose fetcher has failed with "down" since. */
  const cachedThenDown = Effect.gen(function* () {
    yield* setTime(T0)
    const fake = fakeFetcher(() => Effect.succeed(issued(GTR, "t", T0 + 2000 * second)))
    const manager = yield* managerOf(fake)
    yield* manager.getServiceAccountToken("a", "b", GTR)
    fake.respond = () => Effect.fail(fetchError("down"))
    return { fake, manager }
  })

  it("a forced refresh that fails on an expired token reports the expiry, not a plain fetch failure", () =>
    runTest(Effect.gen(function* () {
      const { manager } = yield* cachedThenDown
      const valid = yield* Effect.flip(manager.refresh("a", "b", GTR))
      assert.equal(valid._tag, "FetchFailed")
      yield* setTime(T0 + 2000 * second + 1)
      const expired = yield* Effect.flip(manager.refresh("a", "b", GTR))
      assert.equal(expired._tag, "TokenExpired")
      assert.equal(expired.message, `token ${cacheKey("b", "a", GTR)} expired and refresh failed: down`)
    })))

  it("backs off only a token it can still serve: a failure after expiry records no backoff", () =>
    runTest(Effect.gen(function* () {
      const { fake, manager } = yield* cachedThenDown
      yield* setTime(T0 + 1900 * second)
      const valid = yield* logged(manager.getServiceAccountToken("a", "b", GTR))
      assert.deepEqual(valid.lines.map((line) => line.message), [["Couldn't update token"]])
      yield* setTime(T0 + 2000 * second + 1)
      const expired = yield* logged(manager.getServiceAccountToken("a", "b", GTR))
      assert.deepEqual(expired.lines, [])
      assert.equal(fake.calls, 3)
    })))

  it("deleting another pod's tokens during a fetch leaves that fetch's token cached", () =>
    runTest(Effect.gen(function* () {
      const fake = fakeFetcher((_ns, _name, request) =>
        Effect.as(Effect.sleep(second), issued(request, "t", T0 + 2000 * second))
      )
      yield* setTime(T0)
      const manager = yield* managerOf(fake)
      const fiber = yield* Effect.fork(manager.getServiceAccountToken("a", "b", GTR))
      yield* Effect.yieldNow()
      assert.equal(yield* manager.deleteServiceAccountToken("another-uid"), 0)
      yield* TestClock.adjust(second)
      assert.equal(tokenOf(yield* Fiber.join(fiber)), "t")
      assert.equal(yield* manager.size, 1)
    })))

  it("logs a response without expirationSeconds with its key and without its token, and still saves it", () =>
    runTest(Effect.gen(function* () {
      yield* setTime(T0)
      const store = TokenStore.memory()
      const fake = fakeFetcher(() => Effect.succeed(issued({ spec: { audiences: ["x"] } }, "SECRET-MARKER", T0 + 1)))
      const manager = yield* managerOf(fake, store)
      const { lines, result } = yield* logged(manager.getServiceAccountToken("a", "b", GTR))
      assert.equal(result._tag, "Right")
      assert.equal(lines.length, 1)
      assert.deepEqual(lines[0]!.message, ["Expiration seconds was nil for token request"])
      assert.equal(lines[0]!.annotations.cacheKey, cacheKey("b", "a", GTR))
      assert.deepEqual(lines[0]!.annotations.tokenRequest, { spec: { audiences: ["x"] } })
      assert.ok(!JSON.stringify(lines).includes("SECRET-MARKER"))
      const saved = yield* store.load({ key: cacheKey("b", "a", GTR), namespace: "a", name: "b", request: GTR })
      assert.deepEqual(Option.map(saved, tokenOf), Option.some("SECRET-MARKER"))
    })))
})
