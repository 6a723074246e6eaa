/**
 * The port through which the manager obtains tokens: one TokenRequest call. The Kubernetes adapter implements it over
 * HTTPS; tests implement it with a function.
 *
 * @example
 * ```ts
 * import { TokenFetcher } from "@sa-token/manager"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * const fake = TokenFetcher.layer((_namespace, _name, request) =>
 *   Effect.succeed({
 *     ...request,
 *     status: { token: Redacted.make("t"), expirationTimestamp: new Date(Date.UTC(2030, 0, 1)) },
 *   })
 * )
 * ```
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { standaloneMessage, TokenFetchError } from "./TokenError.ts"
import type { TokenRequest } from "./TokenRequest.ts"

/** Obtains a token for a service account: `POST /api/v1/namespaces/{namespace}/serviceaccounts/{name}/token`. */
export interface TokenFetcher {
  /**
   * Requests a token. The returned response carries `spec` (as the server defaulted and capped it) and `status`.
   * Arguments are in kubelet's order: namespace first, then the service-account name.
   */
  readonly fetch: (
    namespace: string,
    name: string,
    request: TokenRequest,
  ) => Effect.Effect<TokenRequest, TokenFetchError>
}

/** The tag of the {@link TokenFetcher} service. */
export const TokenFetcher: Context.Tag<TokenFetcher, TokenFetcher> = Context.GenericTag<TokenFetcher>(
  "@sa-token/manager/TokenFetcher",
)

/** Builds a {@link TokenFetcher} from its fetch function. */
export const make = (fetch: TokenFetcher["fetch"]): TokenFetcher => ({ fetch })

/** A layer providing a {@link TokenFetcher} built from a fetch function. */
export const layer = (fetch: TokenFetcher["fetch"]): Layer.Layer<TokenFetcher> =>
  Layer.succeed(TokenFetcher, make(fetch))

/** The fetcher of a manager with no API server (kubelet's standalone mode): every fetch fails with `Standalone`. */
export const standalone: TokenFetcher = make(() =>
  Effect.fail(new TokenFetchError({ reason: "Standalone", description: standaloneMessage }))
)

/** A layer providing {@link standalone}. */
export const layerStandalone: Layer.Layer<TokenFetcher> = Layer.succeed(TokenFetcher, standalone)
