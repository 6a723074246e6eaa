import assert from "node:assert/strict"
import { describe, it } from "node:test"
import fc from "fast-check"
import * as Redacted from "effect/Redacted"
import * as RefreshRules from "../../core/RefreshRules.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"

const second = 1000
const iat = Date.UTC(2030, 0, 1)

const response = (expirationSeconds: number | undefined, expiresAt: number, token = "t"): TokenRequest => ({
  spec: expirationSeconds === undefined ? {} : { expirationSeconds },
  status: { token: Redacted.make(token), expirationTimestamp: new Date(expiresAt) },
})

describe("RefreshRules policies", () => {
  it("kubelet is 24 h, 20 %, 0-9 s of jitter, GC every minute, with the clock-leap rule", () => {
    assert.deepEqual(RefreshRules.kubelet, {
      maxTTLSeconds: 86_400,
      refreshRemainingPercent: 20,
      maxJitterSeconds: 10,
      gcPeriodMillis: 60_000,
      refreshIssuedInFuture: true,
    })
  })
  it("upstream differs from kubelet only by leaving the clock-leap rule out", () => {
    assert.deepEqual(RefreshRules.upstream, { ...RefreshRules.kubelet, refreshIssuedInFuture: false })
  })
})

describe("RefreshRules.expiresAt and issuedAt", () => {
  it("read the expiry and derive the issue time from spec.expirationSeconds", () => {
    const r = response(3600, iat + 3600 * second)
    assert.equal(RefreshRules.expiresAt(r), iat + 3600 * second)
    assert.equal(RefreshRules.issuedAt(r), iat)
  })
  it("are NaN without status, and the issue time is NaN without spec.expirationSeconds", () => {
    assert.ok(Number.isNaN(RefreshRules.expiresAt({ spec: { expirationSeconds: 600 } })))
    assert.ok(Number.isNaN(RefreshRules.issuedAt({ spec: { expirationSeconds: 600 } })))
    assert.ok(Number.isNaN(RefreshRules.issuedAt(response(undefined, iat))))
  })
})

describe("RefreshRules.unusable", () => {
  const exp = iat + 600 * second
  it("serves a token until its expiry, inclusive, with or without spec.expirationSeconds", () => {
    assert.equal(RefreshRules.unusable(response(600, exp), exp), undefined)
    assert.equal(RefreshRules.unusable(response(undefined, exp), exp), undefined)
    assert.equal(
      RefreshRules.unusable(response(undefined, exp), exp + 1),
      "the issued token expired at 2030-01-01T00:10:00Z",
    )
  })
  it("names a missing or empty token before any other problem", () => {
    assert.equal(RefreshRules.unusable({ spec: { expirationSeconds: -1 } }, iat), "no token in server response")
    assert.equal(RefreshRules.unusable(response(-1, exp, ""), exp + 1), "no token in server response")
  })
  it("refuses a spec.expirationSeconds that is zero, negative, fractional or not a number, naming the value", () => {
    for (const seconds of [0, -600, 600.5, NaN, Infinity]) {
      assert.equal(
        RefreshRules.unusable(response(seconds, exp), iat),
        `the response's spec.expirationSeconds is not a positive whole number: ${seconds}`,
      )
    }
    assert.equal(RefreshRules.unusable(response(1, exp), iat), undefined)
  })
  it("says when an expired token expired, in whole seconds UTC, or that the time is invalid", () => {
    assert.equal(
      RefreshRules.unusable(response(600, exp + 999), exp + 1000),
      "the issued token expired at 2030-01-01T00:10:00Z",
    )
    assert.equal(RefreshRules.unusable(response(600, NaN), iat), "the issued token expired at an invalid time")
  })
})

describe("RefreshRules.refreshDeadline with other policies", () => {
  it("follows maxTTLSeconds and refreshRemainingPercent, truncating the remaining part to whole seconds", () => {
    const policy = { ...RefreshRules.kubelet, maxTTLSeconds: 1000, refreshRemainingPercent: 50 }
    assert.equal(RefreshRules.refreshDeadline(response(1999, iat + 1999 * second), policy), iat + 1000 * second)
    assert.equal(RefreshRules.refreshDeadline(response(1001, iat + 1001 * second), policy), iat + 501 * second)
    assert.equal(RefreshRules.refreshDeadline(response(2001, iat + 2001 * second), policy), iat + 1000 * second)
  })
  it("is the expiry at 0 % and the issue time at 100 %", () => {
    const r = response(3600, iat + 3600 * second)
    assert.equal(
      RefreshRules.refreshDeadline(r, { ...RefreshRules.kubelet, refreshRemainingPercent: 0 }),
      iat + 3600 * second,
    )
    assert.equal(RefreshRules.refreshDeadline(r, { ...RefreshRules.kubelet, refreshRemainingPercent: 100 }), iat)
  })
})

describe("RefreshRules.requiresRefresh over every instant", () => {
  const lifetime = fc.integer({ min: 1, max: 3 * 86_400 })
  it("is true exactly after the deadline minus the jitter, or, with the clock-leap rule, before the issue time", () => {
    fc.assert(
      fc.property(
        lifetime,
        fc.integer({ min: -86_400_000, max: 4 * 86_400_000 }),
        fc.integer({ min: 0, max: 9 }),
        fc.boolean(),
        (seconds, offset, jitter, leap) => {
          const policy = leap ? RefreshRules.kubelet : RefreshRules.upstream
          const r = response(seconds, iat + seconds * second)
          const now = iat + offset
          const remaining = Math.trunc(seconds / 5)
          const deadline = Math.min(iat + 86_400 * second, iat + (seconds - remaining) * second)
          const expected = now > deadline - jitter * second || (leap && now < iat)
          assert.equal(RefreshRules.requiresRefresh(r, now, jitter, policy), expected)
        },
      ),
      { numRuns: 5000 },
    )
  })
})

describe("RefreshRules.jitterFromUniform", () => {
  it("truncates u × maxJitterSeconds for any policy, staying below maxJitterSeconds", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 3600 }),
        (u, max) => {
          const j = RefreshRules.jitterFromUniform(u, { ...RefreshRules.kubelet, maxJitterSeconds: max })
          assert.ok(Number.isInteger(j) && j >= 0 && j < max, `${u} × ${max} gave ${j}`)
          assert.equal(j, Math.floor(u * max))
        },
      ),
      { numRuns: 2000 },
    )
  })
  it("is always 0 with a maxJitterSeconds of 0 or 1", () => {
    for (const max of [0, 1]) {
      assert.equal(RefreshRules.jitterFromUniform(0.999, { ...RefreshRules.kubelet, maxJitterSeconds: max }), 0)
    }
  })
})
