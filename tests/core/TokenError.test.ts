import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as TokenError from "../../core/TokenError.ts"

const cause = (reason: TokenError.FetchReason, description = "boom") =>
  new TokenError.TokenFetchError({ reason, description })

describe("TokenError.fetchReasons", () => {
  // A record over the type: the compiler rejects this table when a reason is added to or removed from FetchReason.
  const transient: Record<TokenError.FetchReason, boolean> = {
    Unauthorized: false,
    Forbidden: false,
    NotFound: false,
    Conflict: false,
    Invalid: false,
    BadRequest: false,
    TooManyRequests: true,
    ServerError: true,
    Timeout: true,
    Transport: true,
    Decode: false,
    Unsupported: false,
    Standalone: false,
  }

  it("lists every reason once, the server's eleven first", () => {
    assert.deepEqual([...TokenError.fetchReasons].sort(), Object.keys(transient).sort())
    assert.equal(new Set(TokenError.fetchReasons).size, TokenError.fetchReasons.length)
    assert.deepEqual(TokenError.fetchReasons.slice(8), ["Timeout", "Transport", "Decode", "Unsupported", "Standalone"])
  })

  it("isTransient holds for throttling, server errors, timeouts and transport failures only", () => {
    for (const reason of TokenError.fetchReasons) {
      assert.equal(TokenError.isTransient(reason), transient[reason], reason)
    }
  })
})

describe("TokenError.TokenFetchError", () => {
  it("has the description as its message, and keeps the status and Retry-After it is given", () => {
    const error = new TokenError.TokenFetchError({
      reason: "TooManyRequests",
      description: "rate limited",
      status: 429,
      retryAfterSeconds: 7,
    })
    assert.equal(error._tag, "TokenFetchError")
    assert.equal(error.message, "rate limited")
    assert.equal(error.reason, "TooManyRequests")
    assert.equal(error.status, 429)
    assert.equal(error.retryAfterSeconds, 7)
    assert.equal(cause("Transport").status, undefined)
  })
})

describe("TokenError.FetchFailed and TokenExpired", () => {
  it("take their reason from the cause, for every reason", () => {
    for (const reason of TokenError.fetchReasons) {
      assert.equal(new TokenError.FetchFailed({ key: "k", cause: cause(reason) }).reason, reason)
      assert.equal(new TokenError.TokenExpired({ key: "k", cause: cause(reason) }).reason, reason)
    }
  })

  it("name the key only when the token had been cached: FetchFailed leaves it out, TokenExpired states it", () => {
    const key = '"b"/"a"/[]string(nil)/0/x/""'
    assert.ok(!new TokenError.FetchFailed({ key, cause: cause("Timeout") }).message.includes(key))
    assert.equal(
      new TokenError.TokenExpired({ key, cause: cause("Timeout", "timed out") }).message,
      `token ${key} expired and refresh failed: timed out`,
    )
    assert.equal(new TokenError.TokenExpired({ key, cause: cause("Timeout") })._tag, "TokenExpired")
  })

  it("word the standalone and unsupported failures as kubelet does", () => {
    assert.equal(TokenError.standaloneMessage, "cannot use TokenManager when kubelet is in standalone mode")
    assert.equal(TokenError.unsupportedMessage, "the API server does not have TokenRequest endpoints enabled")
    assert.equal(
      new TokenError.FetchFailed({ key: "k", cause: cause("Unsupported", TokenError.unsupportedMessage) }).message,
      "failed to fetch token: the API server does not have TokenRequest endpoints enabled",
    )
  })
})

describe("TokenError.InvalidTokenRequest", () => {
  it("states the field, the rendered value and the rule, whatever the reason", () => {
    const reasons: ReadonlyArray<TokenError.InvalidReason> = ["Required", "Format", "TooLong", "OutOfRange", "Empty"]
    for (const reason of reasons) {
      const error = new TokenError.InvalidTokenRequest({
        field: "spec.expirationSeconds",
        reason,
        value: "60",
        detail: "may not specify a duration less than 10 minutes",
      })
      assert.equal(error.reason, reason)
      assert.equal(
        error.message,
        "invalid token request: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes",
      )
    }
  })
})

describe("TokenError.TokenStoreError", () => {
  it("says whether loading or saving failed, and why", () => {
    const load = new TokenError.TokenStoreError({ reason: "Load", description: "/var/lib/x: EACCES" })
    const save = new TokenError.TokenStoreError({ reason: "Save", description: "/var/lib/x: ENOSPC" })
    assert.equal(load._tag, "TokenStoreError")
    assert.equal(load.message, "cannot load a token from the store: /var/lib/x: EACCES")
    assert.equal(save.message, "cannot save a token to the store: /var/lib/x: ENOSPC")
  })
})

describe("TokenError classes", () => {
  it("are told apart by their tags when an effect fails with them", () => {
    const errors: ReadonlyArray<TokenError.TokenError> = [
      cause("NotFound"),
      new TokenError.FetchFailed({ key: "k", cause: cause("NotFound") }),
      new TokenError.TokenExpired({ key: "k", cause: cause("NotFound") }),
      new TokenError.InvalidTokenRequest({ field: "name", reason: "Format", value: '"A"', detail: "bad" }),
      new TokenError.TokenStoreError({ reason: "Save", description: "full" }),
    ]
    const tags = errors.map((error) =>
      Effect.runSync(
        Effect.fail(error).pipe(
          Effect.catchTags({
            TokenFetchError: () => Effect.succeed("fetch"),
            FetchFailed: () => Effect.succeed("failed"),
            TokenExpired: () => Effect.succeed("expired"),
            InvalidTokenRequest: () => Effect.succeed("invalid"),
            TokenStoreError: () => Effect.succeed("store"),
          }),
        ),
      )
    )
    assert.deepEqual(tags, ["fetch", "failed", "expired", "invalid", "store"])
  })
})
