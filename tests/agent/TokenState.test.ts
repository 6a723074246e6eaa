import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as Redacted from "effect/Redacted"
import * as TokenState from "../../adapters/agent/TokenState.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import { epoch, spec } from "../_support/agent.ts"

const hour = 3600_000

/** A response issued at `issued` for an hour. */
const response = (issued: number): TokenRequest => ({
  spec: { expirationSeconds: 3600 },
  status: { token: Redacted.make("a.b.c"), expirationTimestamp: new Date(issued + hour) },
})

describe("agent token state", () => {
  it("goes from pending to valid, stale after a failure, expired, and failed without a token", () => {
    const start = TokenState.initial(spec("a"))
    assert.equal(TokenState.phaseOf(start, epoch), "pending")
    assert.equal(TokenState.phaseOf(TokenState.failed(start, "boom", undefined), epoch), "failed")
    const valid = TokenState.installed(start, response(epoch), "fp", true, epoch)
    assert.equal(TokenState.phaseOf(valid, epoch), "valid")
    assert.ok(TokenState.isValid(valid, epoch))
    const stale = TokenState.failed(valid, "boom", 7)
    assert.equal(TokenState.phaseOf(stale, epoch), "stale")
    assert.equal(stale.retryAfterSeconds, 7)
    assert.equal(TokenState.phaseOf(stale, epoch + hour + 1), "expired")
    assert.ok(TokenState.isValid(stale, epoch + hour), "valid up to its expiry, inclusive")
    assert.ok(!TokenState.isValid(stale, epoch + hour + 1))
    const recovered = TokenState.installed(stale, response(epoch + 1000), "fp2", true, epoch + 1000)
    assert.equal(recovered.consecutiveFailures, 0)
    assert.equal(TokenState.statusOf(recovered, epoch + 1000).lastError, undefined)
  })

  it("counts refreshes and failures; an adopted token is no refresh and dates from its issue", () => {
    const start = TokenState.initial(spec("a"))
    const adopted = TokenState.installed(start, response(epoch - hour / 2), "fp", false, epoch)
    assert.equal(adopted.status.refreshes, 0)
    assert.equal(adopted.status.lastRefresh?.getTime(), epoch - hour / 2)
    const refreshed = TokenState.installed(
      TokenState.failed(adopted, "x", undefined),
      response(epoch),
      "fp2",
      true,
      epoch,
    )
    assert.deepEqual(
      [refreshed.status.refreshes, refreshed.status.failures, refreshed.status.lastRefresh?.getTime()],
      [1, 1, epoch],
    )
    assert.equal(TokenState.scheduled(refreshed, epoch + 5).status.refreshAt?.getTime(), epoch + 5)
    assert.equal(TokenState.statusOf(refreshed, epoch).fingerprint, "fp2")
  })
})
