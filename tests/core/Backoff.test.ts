import assert from "node:assert/strict"
import { describe, it } from "node:test"
import fc from "fast-check"
import * as Backoff from "../../core/Backoff.ts"

const plain: Backoff.Backoff = { initialMillis: 500, maxMillis: 10_000, multiplier: 3, jitter: 0 }

describe("Backoff.standard", () => {
  it("is 1 s, doubling, capped at 1 minute, up to 20 % shorter", () => {
    assert.deepEqual(Backoff.standard, { initialMillis: 1000, maxMillis: 60_000, multiplier: 2, jitter: 0.2 })
  })
  it("waits 1, 2, 4, 8, 16, 32 s, then 60 s from the 7th failure on", () => {
    const waits = Array.from({ length: 9 }, (_, i) => Backoff.delay(Backoff.standard, i + 1, 0))
    assert.deepEqual(waits, [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000])
  })
})

describe("Backoff.delay", () => {
  it("multiplies by the backoff's own multiplier and stops at its own cap", () => {
    const waits = Array.from({ length: 6 }, (_, i) => Backoff.delay(plain, i + 1, 0))
    assert.deepEqual(waits, [500, 1500, 4500, 10_000, 10_000, 10_000])
  })

  it("treats a failure count of 0 or below as the first failure", () => {
    for (const failures of [0, -1, -1000]) assert.equal(Backoff.delay(plain, failures, 0), 500, String(failures))
  })

  it("stays at the cap for the largest failure counts, never Infinity or NaN", () => {
    for (const failures of [1100, 1e9, Number.MAX_SAFE_INTEGER, Infinity]) {
      assert.equal(Backoff.delay(Backoff.standard, failures, 0), 60_000, String(failures))
    }
  })

  it("shortens by jitter × random: nothing at random 0, almost the whole jitter as random nears 1", () => {
    assert.equal(Backoff.delay(Backoff.standard, 1, 0), 1000)
    assert.equal(Backoff.delay(Backoff.standard, 1, 0.5), 900)
    assert.equal(Backoff.delay(Backoff.standard, 7, 0.5), 54_000)
    assert.equal(Backoff.delay(Backoff.standard, 7, 0.9999999), 48_000)
    assert.equal(Backoff.delay({ ...Backoff.standard, jitter: 1 }, 3, 0.75), 1000)
  })

  it("rounds a jittered wait to whole milliseconds", () => {
    assert.equal(Backoff.delay({ ...plain, jitter: 0.5 }, 1, 0.001), 500)
    assert.equal(Backoff.delay({ ...plain, jitter: 0.5 }, 1, 0.003), 499)
  })

  it("never undercuts Retry-After, even above the cap, and ignores a Retry-After of 0 or none", () => {
    assert.equal(Backoff.delay(Backoff.standard, 1, 0, 30), 30_000)
    assert.equal(Backoff.delay(Backoff.standard, 1, 0, 120), 120_000)
    assert.equal(Backoff.delay(Backoff.standard, 30, 0.5, 90), 90_000)
    assert.equal(Backoff.delay(Backoff.standard, 3, 0, 0), 4000)
    assert.equal(Backoff.delay(Backoff.standard, 3, 0, undefined), 4000)
    assert.equal(Backoff.delay(Backoff.standard, 3, 0, 2), 4000)
    assert.equal(Backoff.delay(Backoff.standard, 3, 0, 1.5), 4000)
    assert.equal(Backoff.delay(Backoff.standard, 1, 0, 1.5), 1500)
  })

  const backoff: fc.Arbitrary<Backoff.Backoff> = fc.record({
    initialMillis: fc.integer({ min: 1, max: 60_000 }),
    maxMillis: fc.integer({ min: 1, max: 3_600_000 }),
    multiplier: fc.double({ min: 1, max: 10, noNaN: true }),
    jitter: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  const random = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })
  const failures = fc.integer({ min: 1, max: 200 })

  it("is a whole number of milliseconds between the jittered and the full wait, capped, floored by Retry-After", () => {
    fc.assert(
      fc.property(backoff, failures, random, fc.option(fc.integer({ min: 0, max: 7200 }), { nil: undefined }), (
        b,
        n,
        u,
        retryAfter,
      ) => {
        const wait = Backoff.delay(b, n, u, retryAfter)
        const floor = (retryAfter ?? 0) * 1000
        const full = Math.min(b.maxMillis, b.initialMillis * b.multiplier ** (n - 1))
        assert.ok(Number.isInteger(wait), String(wait))
        assert.ok(wait >= floor, `${wait} < Retry-After ${floor}`)
        assert.ok(wait <= Math.max(Math.round(full), floor), `${wait} above the full wait ${full}`)
        assert.ok(wait >= Math.min(Math.round(full * (1 - b.jitter)), Math.round(full)) - 1, `${wait} too short`)
      }),
      { numRuns: 2000 },
    )
  })

  it("never waits less after more failures, nor longer for a larger random number", () => {
    const ordered = <T extends number>(x: T, y: T): [T, T] => x <= y ? [x, y] : [y, x]
    fc.assert(
      fc.property(backoff, failures, failures, random, random, (b, m, n, u, v) => {
        const [fewer, more] = ordered(m, n)
        const [low, high] = ordered(u, v)
        assert.ok(Backoff.delay(b, fewer, u) <= Backoff.delay(b, more, u), `failures ${fewer} then ${more}`)
        assert.ok(Backoff.delay(b, n, high) <= Backoff.delay(b, n, low), `random ${low} then ${high}`)
      }),
      { numRuns: 2000 },
    )
  })
})
