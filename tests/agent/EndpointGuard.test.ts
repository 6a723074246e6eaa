import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as Redacted from "effect/Redacted"
import * as EndpointGuard from "../../adapters/agent/EndpointGuard.ts"

describe("EndpointGuard", () => {
  it("accepts exactly the bearer token: not a prefix, an extension, another case or another scheme", () => {
    const expected = Redacted.make("s3cret-token")
    assert.equal(EndpointGuard.authorized("Bearer s3cret-token", expected), true)
    assert.equal(EndpointGuard.authorized("bearer \t s3cret-token  ", expected), true)
    for (
      const header of [
        undefined,
        "",
        "Bearer",
        "Bearer ",
        "Bearer s3cret",
        "Bearer s3cret-token2",
        "Bearer S3CRET-TOKEN",
        "Bearer s3cret-tokem",
        "Basic s3cret-token",
        "s3cret-token",
        "Bearer s3cret-tokens3cret-token",
      ]
    ) {
      assert.equal(EndpointGuard.authorized(header, expected), false, String(header))
    }
    assert.equal(EndpointGuard.authorized("Bearer x", Redacted.make("")), false, "an empty token admits nobody")
  })

  it("accepts a Host naming the endpoint and no foreign Origin", () => {
    assert.equal(EndpointGuard.hostMatches("127.0.0.1:8080", "127.0.0.1", 8080), true)
    assert.equal(EndpointGuard.hostMatches("localhost:8080", "127.0.0.1", 8080), true)
    assert.equal(EndpointGuard.hostMatches("[::1]:8080", "::1", 8080), true)
    assert.equal(EndpointGuard.hostMatches("127.0.0.1:8081", "127.0.0.1", 8080), false)
    assert.equal(EndpointGuard.hostMatches("rebound.example:8080", "127.0.0.1", 8080), false)
    assert.equal(EndpointGuard.hostMatches(undefined, "127.0.0.1", 8080), false)
    assert.equal(EndpointGuard.originAllowed(undefined, "127.0.0.1", 8080), true)
    assert.equal(EndpointGuard.originAllowed("http://localhost:8080", "127.0.0.1", 8080), true)
    assert.equal(EndpointGuard.originAllowed("http://rebound.example:8080", "127.0.0.1", 8080), false)
    assert.equal(EndpointGuard.originAllowed("https://127.0.0.1:8080", "127.0.0.1", 8080), false)
  })
})
