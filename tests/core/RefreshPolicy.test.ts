import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import * as RefreshPolicy from "../../core/RefreshPolicy.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import { hour, minute, second } from "../_support/harness.ts"
import { refreshCases } from "../_support/kubeletTables.ts"

const response = (expirationSeconds: number | undefined, expiresAt: number): TokenRequest => ({
  spec: expirationSeconds === undefined ? {} : { expirationSeconds },
  status: { token: Redacted.make("t"), expirationTimestamp: new Date(expiresAt) },
})

describe("RefreshPolicy.requiresRefresh (kubelet TestRequiresRefresh)", () => {
  const start = Date.UTC(2025, 2, 1, 10, 0, 0)
  const cases = refreshCases(start)
  cases.forEach((c, index) =>
    it(`case ${index} gives ${c.expected} for every jitter 0-9 s`, () => {
      const seconds = c.nilExpiration ? undefined : Math.trunc((c.exp - start) / 1000)
      for (let jitter = 0; jitter < 10; jitter++) {
        assert.equal(RefreshPolicy.requiresRefresh(response(seconds, c.exp), c.now, jitter), c.expected)
      }
    })
  )
})

describe("RefreshPolicy refresh point (80 % of the lifetime, at most 24 h after issue, minus the jitter)", () => {
  const iat = Date.UTC(2030, 0, 1)
  const table: ReadonlyArray<[number, number]> = [
    [600, 480],
    [2000, 1600],
    [3600, 2880],
    [3601, 2881],
    [3607, 2886],
    [7200, 5760],
    [43200, 34560],
    [86400, 69120],
    [108000, 86400],
    [144000, 86400],
    [31536000, 86400],
  ]
  for (const [seconds, after] of table) {
    it(`E = ${seconds} s refreshes strictly after iat + ${after} s, earlier by the jitter`, () => {
      const r = response(seconds, iat + seconds * second)
      assert.equal(RefreshPolicy.refreshDeadline(r), iat + after * second)
      for (const jitter of [0, 5, 9]) {
        const at = iat + (after - jitter) * second
        assert.equal(RefreshPolicy.requiresRefresh(r, at, jitter), false)
        assert.equal(RefreshPolicy.requiresRefresh(r, at + 1, jitter), true)
      }
    })
  }

  it("truncates 20 % to whole seconds: E = 3607 does not refresh at iat + 2886 s, does 1 ms later", () => {
    const r = response(3607, iat + 3607 * second)
    assert.equal(RefreshPolicy.requiresRefresh(r, iat + 2886 * second, 0), false)
    assert.equal(RefreshPolicy.requiresRefresh(r, iat + 2886 * second + 1, 0), true)
  })

  it("refreshes a token whose derived issue time is in the future (clock leapt backwards)", () => {
    const r = response(3600, iat + hour)
    assert.equal(RefreshPolicy.requiresRefresh(r, iat - minute, 0), true)
    assert.equal(RefreshPolicy.requiresRefresh(r, iat, 0), false)
    assert.equal(RefreshPolicy.requiresRefresh(r, iat - minute, 0, RefreshPolicy.upstream), false)
  })

  it("never refreshes a response without expirationSeconds", () => {
    assert.equal(RefreshPolicy.refreshDeadline(response(undefined, iat)), Infinity)
    assert.equal(RefreshPolicy.requiresRefresh(response(undefined, iat), iat + 100 * hour, 9), false)
  })
})

describe("RefreshPolicy.expired", () => {
  const exp = Date.UTC(2030, 0, 1)
  it("is strictly after the expiration timestamp", () => {
    assert.equal(RefreshPolicy.expired(response(600, exp), exp - 1), false)
    assert.equal(RefreshPolicy.expired(response(600, exp), exp), false)
    assert.equal(RefreshPolicy.expired(response(600, exp), exp + 1), true)
  })
  it("treats a response without status or with an invalid date as expired", () => {
    assert.equal(RefreshPolicy.expired({ spec: {} }, exp), true)
    assert.equal(RefreshPolicy.expired(response(600, NaN), exp), true)
  })
})

describe("RefreshPolicy jitter", () => {
  it("maps kubelet's uniform float by truncation: 0 -> 0 s, 0.999... -> 9 s", () => {
    assert.equal(RefreshPolicy.jitterFromUniform(0), 0)
    assert.equal(RefreshPolicy.jitterFromUniform(0.9999999), 9)
    assert.equal(RefreshPolicy.jitterFromUniform(0.5), 5)
  })
  it("draws whole seconds 0-9 through Random, each value occurring", () => {
    const draws = Effect.runSync(
      Effect.replicateEffect(RefreshPolicy.jitter(), 2000).pipe(Effect.withRandom(Random.make(7))),
    )
    assert.ok(draws.every((j) => Number.isInteger(j) && j >= 0 && j <= 9))
    assert.deepEqual([...new Set(draws)].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  })
})
