import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as Redacted from "effect/Redacted"
import * as TokenReply from "../../adapters/agent/TokenReply.ts"

describe("TokenReply", () => {
  it("reads what it writes, the expiry with whole seconds", () => {
    const reply = { name: "a b/c", token: Redacted.make("x.y.z"), expirationTimestamp: new Date(Date.UTC(2030, 0, 1)) }
    const read = TokenReply.decode(JSON.stringify(TokenReply.encode(reply)))
    assert.ok(read !== undefined)
    assert.equal(read.name, "a b/c")
    assert.equal(Redacted.value(read.token), "x.y.z")
    assert.equal(read.expirationTimestamp.getTime(), Date.UTC(2030, 0, 1))
  })

  it("refuses anything but an object with a name, a non-empty token and an RFC 3339 expiry", () => {
    const good = { name: "n", token: "t", expirationTimestamp: "2030-01-01T00:00:00Z" }
    assert.ok(TokenReply.decode(JSON.stringify({ ...good, extra: 1 })) !== undefined)
    const bad: ReadonlyArray<unknown> = [
      null,
      [good],
      "t",
      { ...good, name: 1 },
      { ...good, token: "" },
      { ...good, token: 7 },
      { name: "n", token: "t" },
      { ...good, expirationTimestamp: "2030-01-01" },
      { ...good, expirationTimestamp: 1893456000 },
    ]
    for (const value of bad) assert.equal(TokenReply.decode(JSON.stringify(value)), undefined, JSON.stringify(value))
    assert.equal(TokenReply.decode("{not json"), undefined)
  })

  it("asks for the name percent-encoded, as JSON", () => {
    assert.equal(TokenReply.path("a b/c"), "/v1/tokens/a%20b%2Fc?format=json")
  })
})
