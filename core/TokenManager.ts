/**
 * The token manager: kubelet's `pkg/kubelet/token` as an Effect service.
 *
 * `getServiceAccountToken` follows kubelet's contract:
 * - a cached token that does not require a refresh is returned without a fetch;
 * - otherwise a token is fetched and cached;
 * - when the fetch fails and the cached token is still valid, the cached token is returned (and logged as
 *   `Couldn't update token`); when nothing is cached the call fails with `FetchFailed`; when the cached token has
 *   expired it fails with `TokenExpired`.
 *
 * Beyond kubelet: concurrent callers of one key share a single fetch; an expired token is never returned; after a
 * failed refresh the old token is served without calling the API again until an exponential backoff with jitter has
 * passed (never past the token's expiry); a token issued in the future is refreshed; deleting a pod's tokens touches
 * only that pod's entries; requests are validated before any fetch; and every step is counted in `TokenMetrics`.
 *
 * Persistence is a port, `TokenStore`: on a miss the manager loads the request's token from the store (a token that
 * needs no refresh is served without a fetch; one that does is refreshed through the same single fetch and backoff),
 * and after every successful fetch it saves the token there. Restart adoption and a cache shared between processes
 * are stores, so they share the one cache, its rules and its metrics.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import { TokenFetcher, TokenManager } from "@sa-token/manager"
 * import * as Effect from "effect/Effect"
 * import * as Layer from "effect/Layer"
 * import * as Redacted from "effect/Redacted"
 *
 * const fetcher = TokenFetcher.layer((_namespace, _name, request) =>
 *   Effect.succeed({
 *     ...request,
 *     status: { token: Redacted.make("secret"), expirationTimestamp: new Date(Date.now() + 3600_000) },
 *   })
 * )
 * const program = Effect.gen(function*() {
 *   const manager = yield* TokenManager.TokenManager
 *   const response = yield* manager.getServiceAccountToken("default", "builder", { spec: { expirationSeconds: 3600 } })
 *   return Redacted.value(response.status!.token)
 * })
 * const token = await Effect.runPromise(program.pipe(Effect.provide(TokenManager.layer.pipe(Layer.provide(fetcher)))))
 * assert.ok(token === "secret")
 * ```
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Backoff from "./Backoff.ts"
import * as RefreshPolicy from "./RefreshPolicy.ts"
import * as Internal from "./internal/manager.ts"
import type { TokenManagerError } from "./TokenError.ts"
import { TokenFetcher } from "./TokenFetcher.ts"
import type { TokenRequest } from "./TokenRequest.ts"
import * as TokenStore from "./TokenStore.ts"

/** The token manager service. Arguments follow kubelet: namespace first, then the service-account name. */
export interface TokenManager {
  /** A token for the request: cached while fresh, fetched otherwise, the old one while a refresh fails. */
  readonly getServiceAccountToken: (
    namespace: string,
    name: string,
    request: TokenRequest,
  ) => Effect.Effect<TokenRequest, TokenManagerError>
  /**
   * Fetches a new token now, whatever the cached one's age (sharing an in-flight fetch of the same key). On failure
   * the cached token, if any, stays cached, and the call fails with `FetchFailed` (or `TokenExpired`).
   */
  readonly refresh: (
    namespace: string,
    name: string,
    request: TokenRequest,
  ) => Effect.Effect<TokenRequest, TokenManagerError>
  /** Drops the cached token of a request (for callers whose token was refused with a 401). */
  readonly invalidate: (namespace: string, name: string, request: TokenRequest) => Effect.Effect<boolean>
  /** Drops every token bound to the pod (by the cached response's `spec.boundObjectRef.uid`); returns how many. */
  readonly deleteServiceAccountToken: (podUID: string) => Effect.Effect<number>
  /** Drops every expired token; returns how many. Runs every `gcPeriodMillis` while the layer is alive. */
  readonly cleanup: Effect.Effect<number>
  /** The number of cached tokens. */
  readonly size: Effect.Effect<number>
  /** The cached response for a key (see `TokenRequest.cacheKey`), without any fetch or refresh. */
  readonly peek: (key: string) => Effect.Effect<Option.Option<TokenRequest>>
  /**
   * The token of a request that is cached, or else saved in the store (and cached from then on), without fetching;
   * never an expired one. The agent adopts the token files of a previous run with it.
   */
  readonly lookup: (
    namespace: string,
    name: string,
    request: TokenRequest,
  ) => Effect.Effect<Option.Option<TokenRequest>>
}

/** The tag of the {@link TokenManager} service. */
export const TokenManager: Context.Tag<TokenManager, TokenManager> = Context.GenericTag<TokenManager>(
  "@sa-token/manager/TokenManager",
)

/** How a manager is tuned. */
export interface Options {
  /** The refresh rules. @default RefreshPolicy.kubelet */
  readonly policy?: RefreshPolicy.RefreshPolicy | undefined
  /** The backoff after a failed refresh. @default Backoff.standard (1 s doubling to 1 min, 20 % jitter) */
  readonly backoff?: Backoff.Backoff | undefined
  /** Whether `layerWith` runs the garbage collector every `policy.gcPeriodMillis`. @default true */
  readonly gc?: boolean | undefined
  /**
   * Where tokens persist: loaded on a miss (a token that needs no refresh is served without a fetch; one that does is
   * refreshed, and served while the refresh fails and it is valid) and saved after every successful fetch.
   * @default TokenStore.none
   */
  readonly store?: TokenStore.TokenStore | undefined
}

/**
 * Builds a manager over the {@link TokenFetcher} in context. Fetches run in the given scope, so that a caller that is
 * interrupted does not cancel a fetch other callers wait for; closing the scope interrupts them.
 */
export const make = (options: Options = {}): Effect.Effect<TokenManager, never, TokenFetcher | Scope.Scope> =>
  Effect.gen(function* () {
    const fetcher = yield* TokenFetcher
    const scope = yield* Effect.scope
    const clock = yield* Effect.clock
    return TokenManager.of(Internal.make({
      fetcher,
      store: options.store ?? TokenStore.none,
      scope,
      clock,
      policy: options.policy ?? RefreshPolicy.kubelet,
      backoff: options.backoff ?? Backoff.standard,
    }))
  })

/** Runs `cleanup` once now and then `period` after each run completes, until the scope closes. */
export const runGarbageCollector = (
  manager: TokenManager,
  periodMillis: number,
): Effect.Effect<void, never, Scope.Scope> =>
  manager.cleanup.pipe(Effect.zipRight(Effect.sleep(periodMillis)), Effect.forever, Effect.forkScoped, Effect.asVoid)

/** A manager with the given options; unless `gc` is false its garbage collector runs while the layer is alive. */
export const layerWith = (options: Options = {}): Layer.Layer<TokenManager, never, TokenFetcher> =>
  Layer.scoped(
    TokenManager,
    Effect.gen(function* () {
      const manager = yield* make(options)
      if (options.gc !== false) {
        yield* runGarbageCollector(manager, (options.policy ?? RefreshPolicy.kubelet).gcPeriodMillis)
      }
      return manager
    }),
  )

/** {@link layerWith} over the {@link TokenStore.TokenStore} in context. */
export const layerWithStore = (
  options: Omit<Options, "store"> = {},
): Layer.Layer<TokenManager, never, TokenFetcher | TokenStore.TokenStore> =>
  Layer.unwrapEffect(Effect.map(TokenStore.TokenStore, (store) => layerWith({ ...options, store })))

/** A manager with kubelet's policy and its garbage collector running every minute. */
export const layer: Layer.Layer<TokenManager, never, TokenFetcher> = layerWith()
