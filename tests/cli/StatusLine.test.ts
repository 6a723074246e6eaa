import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import type { TokenStatus } from "../../adapters/agent/AgentState.ts"
import * as Budget from "../../adapters/agent/Budget.ts"
import * as Signals from "../../adapters/platform/Signals.ts"
import * as StatusLine from "../../adapters/cli/StatusLine.ts"
import { runTest, second } from "../_support/harness.ts"

const base: TokenStatus = {
  name: "vault",
  namespace: "default",
  serviceAccount: "vault-auth",
  key: "k",
  phase: "valid",
  refreshes: 2,
  failures: 1,
}

describe("agent status lines", () => {
  it("show name, phase, expiry, last refresh and fingerprint", () => {
    const now = Date.UTC(2030, 0, 1)
    const line = StatusLine.render(
      { ...base, fingerprint: "0123456789ab", expiresAt: new Date(now + 42_000), lastRefresh: new Date(now - 6_000) },
      now,
    )
    assert.match(
      line,
      /^vault\s+valid\s+expires in 42s\s+refreshed 6s ago\s+fp 0123456789ab\s+\(2 refreshes, 1 failures\)$/,
    )
    const stale = StatusLine.render(
      { ...base, phase: "stale", lastError: "boom", expiresAt: new Date(now - 1000) },
      now,
    )
    assert.match(stale, /expired 1s ago.*last error: boom/)
    assert.match(StatusLine.render({ ...base, phase: "pending" }, now), /no token yet\s+never refreshed\s+fp -{12}/)
    const lines = StatusLine.renderAll([base, { ...base, name: "a-much-longer-name" }], now)
    assert.equal(lines[0]!.indexOf("valid"), lines[1]!.indexOf("valid"))
  })
})

describe("agent signals", () => {
  it("fromListener delivers each hangup and removes the listener with the scope", () =>
    runTest(Effect.gen(function* () {
      let handler: (() => void) | undefined
      let removed = false
      const received = yield* Effect.scoped(Effect.gen(function* () {
        const signals = yield* Signals.fromListener((onHangup) => {
          handler = onHangup
          return () => (removed = true)
        })
        const fiber = yield* Effect.fork(Stream.runCollect(Stream.take(signals.hangups, 2)))
        handler!()
        handler!()
        return yield* Fiber.join(fiber)
      }))
      assert.equal(Chunk.size(received), 2)
      assert.ok(removed)
    })))
})

describe("agent request budget", () => {
  it("grants a burst, then qps per second, and pauses entirely after a 429", () =>
    runTest(Effect.gen(function* () {
      const budget = yield* Budget.make({ qps: 2, burst: 3 })
      const times: Array<number> = []
      const clock = yield* Effect.clock
      const stamp = Effect.zipRight(budget.take, Effect.sync(() => times.push(clock.unsafeCurrentTimeMillis())))
      const fiber = yield* Effect.fork(Effect.replicateEffect(stamp, 7, { discard: true }))
      yield* TestClock.adjust(10 * second)
      yield* Fiber.join(fiber)
      assert.deepEqual(times, [0, 0, 0, 500, 1000, 1500, 2000])
      times.length = 0
      yield* budget.pause(30 * second)
      const paused = yield* Effect.fork(Effect.replicateEffect(stamp, 2, { discard: true }))
      yield* TestClock.adjust(29 * second)
      assert.deepEqual(times, [])
      yield* TestClock.adjust(2 * second)
      yield* Fiber.join(paused)
      // after a pause the bucket refills from empty: no burst
      assert.deepEqual(times, [40_500, 41_000])
    })))
})
