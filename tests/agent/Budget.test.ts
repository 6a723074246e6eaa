/**
 * The agent's budget with many callers waiting at once: permits are granted at exactly the bucket's rate, in arrival
 * order, a pause holds back every reservation made before it, and no more than `maxInFlight` calls run at once, the
 * wait for a slot not counting against the call's own timeout.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"
import * as Budget from "../../adapters/agent/Budget.ts"
import * as TokenFetcher from "../../core/TokenFetcher.ts"
import { TokenFetchError } from "../../core/TokenError.ts"
import { runTest } from "../_support/harness.ts"

describe("Budget with many waiting callers", () => {
  it(
    "grants a burst of 10, then 5 per second, in arrival order, to 500 callers",
    { timeout: 30_000 },
    () =>
      runTest(Effect.gen(function* () {
        const budget = yield* Budget.make({ qps: 5, burst: 10 })
        const granted: Array<number> = []
        const fibers = yield* Effect.forEach(
          Array.from({ length: 500 }, (_, i) => i),
          (i) => Effect.fork(Effect.zipRight(budget.take, Effect.sync(() => granted.push(i)))),
        )
        yield* Effect.yieldNow()
        assert.equal(granted.length, 10)
        for (const seconds of [1, 10, 60]) {
          yield* TestClock.setTime(seconds * 1000)
          yield* Effect.yieldNow()
          assert.equal(granted.length, 10 + 5 * seconds, `after ${seconds} s`)
        }
        yield* TestClock.setTime(98 * 1000)
        yield* Effect.forEach(fibers, Fiber.join, { discard: true })
        assert.deepEqual(granted, Array.from({ length: 500 }, (_, i) => i))
      })),
  )

  it("a pause holds back the permits reserved before it", () =>
    runTest(Effect.gen(function* () {
      const budget = yield* Budget.make({ qps: 1, burst: 1 })
      yield* budget.take
      const waiting = yield* Effect.fork(budget.take)
      yield* budget.pause(10_000)
      yield* TestClock.adjust(9_999)
      assert.equal((yield* Fiber.poll(waiting))._tag, "None")
      yield* TestClock.adjust(1_001)
      yield* Fiber.join(waiting)
    })))
  it("runs at most maxInFlight calls at once; a call's timeout starts when it is sent", () =>
    runTest(Effect.gen(function* () {
      const budget = yield* Budget.make({ qps: 1000, burst: 1000, maxInFlight: 3 })
      let running = 0
      let most = 0
      // Each call takes 4 s and gives up after 5 s of its own: with 12 calls and 3 slots, the last ones wait 12 s.
      const slow = TokenFetcher.make((_namespace, _name, request) =>
        Effect.acquireUseRelease(
          Effect.sync(() => (most = Math.max(most, ++running))),
          () => Effect.as(Effect.sleep(4_000), { ...request }),
          () => Effect.sync(() => running--),
        ).pipe(
          Effect.timeoutFail({
            duration: 5_000,
            onTimeout: () => new TokenFetchError({ reason: "Timeout", description: "timed out" }),
          }),
        )
      )
      const limited = Budget.limit(slow, budget)
      const calls = yield* Effect.fork(
        Effect.all(Array.from({ length: 12 }, () => Effect.either(limited.fetch("ns", "sa", { spec: {} }))), {
          concurrency: "unbounded",
        }),
      )
      yield* TestClock.adjust(16_000)
      const results = yield* Fiber.join(calls)
      assert.equal(most, 3)
      assert.equal(results.filter((r) => r._tag === "Left").length, 0)
    })))

  it("hands slots over in arrival order to 2,000 waiting callers; a caller interrupted while waiting leaves the line", () =>
    runTest(Effect.gen(function* () {
      const budget = yield* Budget.make({ qps: 1e9, burst: 1e9, maxInFlight: 2 })
      const gate = yield* Effect.makeLatch(false)
      const started: Array<number> = []
      let running = 0
      let most = 0
      const call = (i: number) =>
        budget.inFlight(Effect.gen(function* () {
          started.push(i)
          most = Math.max(most, ++running)
          yield* gate.await
          yield* Effect.yieldNow()
          running--
        }))
      const fibers = yield* Effect.forEach(Array.from({ length: 2000 }, (_, i) => i), (i) => Effect.fork(call(i)))
      yield* Effect.yieldNow()
      assert.deepEqual(started, [0, 1])
      // Callers 5 and 6 give up while they wait; their turns go to the next in line.
      yield* Fiber.interrupt(fibers[5]!)
      yield* Fiber.interrupt(fibers[6]!)
      yield* gate.open
      yield* Effect.forEach(fibers, Fiber.await, { discard: true })
      assert.equal(most, 2)
      assert.deepEqual(started, Array.from({ length: 2000 }, (_, i) => i).filter((i) => i !== 5 && i !== 6))
    })))
})
