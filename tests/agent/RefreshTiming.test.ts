import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as RefreshTiming from "../../adapters/agent/RefreshTiming.ts"
import * as TokenState from "../../adapters/agent/TokenState.ts"
import * as Backoff from "../../core/Backoff.ts"
import * as RefreshPolicy from "../../core/RefreshPolicy.ts"
import { epoch, spec } from "../_support/agent.ts"
import { hour, issued, minute } from "../_support/harness.ts"

const backoff = Backoff.standard
const policy = RefreshPolicy.kubelet

/** A response issued at `epoch` for an hour. */
const response = issued({ spec: { expirationSeconds: 3600 } }, "a.b.c", epoch + hour)

describe("agent refresh timing", () => {
  it("refreshes a token without a response at once", () => {
    const state = TokenState.initial(spec("a"))
    assert.equal(RefreshTiming.nextRefreshAt(state, 0.1, 0.5, epoch, backoff, policy), epoch)
  })

  it("refreshes a held token at its jittered refresh point", () => {
    const state = TokenState.installed(TokenState.initial(spec("a")), response, "fp", true, epoch)
    const at = RefreshTiming.nextRefreshAt(state, 0.1, 0.5, epoch, backoff, policy)
    assert.equal(at, RefreshTiming.refreshAt(response, 0.1, 0.5, epoch, policy))
    assert.equal(at, epoch + 48 * minute - 3 * minute)
  })

  it("waits the backoff of the consecutive failures, or the server's Retry-After, while refreshes fail", () => {
    const held = TokenState.installed(TokenState.initial(spec("a")), response, "fp", true, epoch)
    const twice = TokenState.failed(TokenState.failed(held, "boom", undefined), "boom", undefined)
    assert.equal(
      RefreshTiming.nextRefreshAt(twice, 0.1, 0.5, epoch, backoff, policy),
      epoch + Backoff.delay(backoff, 2, 0.5),
    )
    const throttled = TokenState.failed(held, "429", 30)
    assert.equal(
      RefreshTiming.nextRefreshAt(throttled, 0.1, 0.5, epoch, backoff, policy),
      epoch + Backoff.delay(backoff, 1, 0.5, 30),
    )
    assert.ok(Backoff.delay(backoff, 1, 0.5, 30) >= 30_000, "Retry-After is honoured")
  })
})
