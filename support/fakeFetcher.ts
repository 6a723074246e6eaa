/**
 * A TokenFetcher for tests and benches whose behaviour can be replaced at any time and that counts its calls.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { TokenFetchError } from "../core/TokenError.ts"
import * as TokenFetcher from "../core/TokenFetcher.ts"
import type { TokenRequest } from "../core/TokenRequest.ts"

export type Respond = (
  namespace: string,
  name: string,
  request: TokenRequest,
) => Effect.Effect<TokenRequest, TokenFetchError>

/** A fetcher whose behaviour can be replaced at any time and that counts its calls. */
export interface FakeFetcher {
  readonly fetcher: TokenFetcher.TokenFetcher
  readonly layer: Layer.Layer<TokenFetcher.TokenFetcher>
  calls: number
  respond: Respond
}

export const fakeFetcher = (respond: Respond): FakeFetcher => {
  const fake: FakeFetcher = {
    calls: 0,
    respond,
    fetcher: TokenFetcher.make((namespace, name, request) =>
      Effect.suspend(() => {
        fake.calls++
        return fake.respond(namespace, name, request)
      })
    ),
    layer: Layer.suspend(() => Layer.succeed(TokenFetcher.TokenFetcher, fake.fetcher)),
  }
  return fake
}
