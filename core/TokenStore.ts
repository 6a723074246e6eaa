/**
 * The port through which the manager persists tokens: a store it loads from on a miss and saves to after every
 * successful fetch. Restart adoption (token files written before a restart) and short-lived processes sharing an
 * on-disk cache are stores, so every path shares the manager's one cache, its single fetch per key, its backoff and
 * its metrics.
 *
 * The manager treats what a store loads exactly like a fetched response: an expired or token-less response is
 * ignored, one that is past its refresh point is served only while a refresh fails. A store that fails costs a
 * warning and a count in `TokenMetrics.storeFailures`, never the token: a failed load is a miss, a failed save keeps
 * the fetched token in memory and returns it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import { TokenFetcher, TokenManager, TokenRequest, TokenStore } from "@sa-token/manager"
 * import * as Effect from "effect/Effect"
 * import * as Layer from "effect/Layer"
 * import * as Redacted from "effect/Redacted"
 *
 * const request = { spec: { expirationSeconds: 3600 } }
 * const saved = { ...request, status: { token: Redacted.make("t"), expirationTimestamp: new Date(Date.now() + 3600_000) } }
 * const store = TokenStore.memory([[TokenRequest.cacheKey("builder", "default", request), saved]])
 * const program = Effect.gen(function*() {
 *   const manager = yield* TokenManager.TokenManager
 *   return yield* manager.getServiceAccountToken("default", "builder", request)
 * })
 * const layer = TokenManager.layerWith({ store }).pipe(Layer.provide(TokenFetcher.layerStandalone))
 * const response = await Effect.runPromise(program.pipe(Effect.provide(layer)))
 * assert.ok(Redacted.value(response.status!.token) === "t")
 * ```
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type { TokenStoreError } from "./TokenError.ts"
import type { TokenRequest } from "./TokenRequest.ts"

/** What a store is asked about: the request and its key, as the manager computed them. */
export interface StoreRequest {
  /** Kubelet's cache key of the request (`TokenRequest.cacheKey`): safe to log, never containing a token. */
  readonly key: string
  /** The service account's namespace. */
  readonly namespace: string
  /** The service account's name. */
  readonly name: string
  /** The request as the caller made it. */
  readonly request: TokenRequest
}

/** Loads and saves TokenRequest responses by request. */
export interface TokenStore {
  /** The response saved for the request, if any (the manager checks its expiry and freshness itself). */
  readonly load: (request: StoreRequest) => Effect.Effect<Option.Option<TokenRequest>, TokenStoreError>
  /** Saves a freshly fetched response for the request. */
  readonly save: (request: StoreRequest, response: TokenRequest) => Effect.Effect<void, TokenStoreError>
}

/** The tag of the {@link TokenStore} service. */
export const TokenStore: Context.Tag<TokenStore, TokenStore> = Context.GenericTag<TokenStore>(
  "@sa-token/manager/TokenStore",
)

/** Builds a {@link TokenStore} from its two operations. */
export const make = (load: TokenStore["load"], save: TokenStore["save"]): TokenStore => ({ load, save })

/** The store of a manager without persistence: it loads nothing and saves nothing (the manager's default). */
export const none: TokenStore = make(() => Effect.succeedNone, () => Effect.void)

/**
 * A store in memory, keyed by kubelet's cache key and seeded with `initial`: what a test, or a process that hands
 * tokens from one manager to the next, needs.
 */
export const memory = (initial: Iterable<readonly [string, TokenRequest]> = []): TokenStore => {
  const saved = new Map(initial)
  return make(
    ({ key }) => Effect.sync(() => Option.fromNullable(saved.get(key))),
    ({ key }, response) => Effect.sync(() => void saved.set(key, response)),
  )
}

/** A layer providing a {@link TokenStore}. */
export const layer = (store: TokenStore): Layer.Layer<TokenStore> => Layer.succeed(TokenStore, store)
