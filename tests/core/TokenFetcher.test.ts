import assert from "node:assert/strict"
import { describe, it } from "node:test"
import fc from "fast-check"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import { standaloneMessage, TokenFetchError } from "../../core/TokenError.ts"
import * as TokenFetcher from "../../core/TokenFetcher.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"

const request: TokenRequest = { spec: { audiences: ["vault"], expirationSeconds: 3600 } }
const answer = (r: TokenRequest): TokenRequest => ({
  ...r,
  status: { token: Redacted.make("t"), expirationTimestamp: new Date(Date.UTC(2030, 0, 1)) },
})

/** Runs `fetch` through the service that `layer` provides. */
const fetchThrough = (layer: ReturnType<typeof TokenFetcher.layer>, namespace: string, name: string, r: TokenRequest) =>
  Effect.runSyncExit(
    Effect.flatMap(TokenFetcher.TokenFetcher, (fetcher) => fetcher.fetch(namespace, name, r)).pipe(
      Effect.provide(layer),
    ),
  )

describe("TokenFetcher.make and layer", () => {
  it("make wraps the fetch function itself", () => {
    const fetch: TokenFetcher.TokenFetcher["fetch"] = (_namespace, _name, r) => Effect.succeed(answer(r))
    assert.equal(TokenFetcher.make(fetch).fetch, fetch)
  })

  it("layer provides the service under its tag, passing namespace first, then the name, then the request", () => {
    const calls: Array<[string, string, TokenRequest]> = []
    const layer = TokenFetcher.layer((namespace, name, r) => {
      calls.push([namespace, name, r])
      return Effect.succeed(answer(r))
    })
    const exit = fetchThrough(layer, "team-a", "builder", request)
    assert.ok(Exit.isSuccess(exit))
    assert.deepEqual(exit.value.spec, request.spec)
    assert.deepEqual(calls, [["team-a", "builder", request]])
  })

  it("layer passes the fetch function's failure through unchanged", () => {
    const error = new TokenFetchError({ reason: "Forbidden", description: "no", status: 403 })
    const exit = fetchThrough(TokenFetcher.layer(() => Effect.fail(error)), "a", "b", request)
    assert.deepEqual(exit, Exit.fail(error))
  })

  it("the tag's key is the package's", () => {
    assert.equal(TokenFetcher.TokenFetcher.key, "@sa-token/manager/TokenFetcher")
  })
})

describe("TokenFetcher.standalone", () => {
  const text = fc.string({ maxLength: 20 })
  const anyRequest: fc.Arbitrary<TokenRequest> = fc.record({
    spec: fc.record({
      audiences: fc.option(fc.array(text, { maxLength: 3 }), { nil: undefined }),
      expirationSeconds: fc.option(fc.integer(), { nil: undefined }),
    }),
  })

  it("fails every request with reason Standalone and kubelet's message, without a status code", () => {
    fc.assert(
      fc.property(text, text, anyRequest, (namespace, name, r) => {
        const exit = Effect.runSyncExit(TokenFetcher.standalone.fetch(namespace, name, r))
        assert.ok(Exit.isFailure(exit) && exit.cause._tag === "Fail", String(exit))
        const error = exit.cause.error
        assert.ok(error instanceof TokenFetchError)
        assert.equal(error.reason, "Standalone")
        assert.equal(error.message, standaloneMessage)
        assert.equal(error.status, undefined)
        assert.equal(error.retryAfterSeconds, undefined)
      }),
      { numRuns: 200 },
    )
  })

  it("layerStandalone provides that fetcher", () => {
    const fetcher = Effect.runSync(TokenFetcher.TokenFetcher.pipe(Effect.provide(TokenFetcher.layerStandalone)))
    assert.equal(fetcher, TokenFetcher.standalone)
  })
})
