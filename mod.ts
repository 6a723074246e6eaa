/**
 * A Kubernetes service-account token manager with kubelet's semantics, built on Effect: a cache of TokenRequest
 * responses that refreshes at 80 % of a token's lifetime (or after 24 hours), keeps serving a still-valid token while
 * a refresh fails, and evicts tokens by pod. Time comes from `Clock`, randomness from `Random` and tokens from a
 * `TokenFetcher`, so the core runs anywhere JavaScript runs and is deterministic under `TestClock`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import { TokenFetcher, TokenManager } from "@sa-token/manager"
 * import * as Effect from "effect/Effect"
 * import * as Layer from "effect/Layer"
 * import * as Redacted from "effect/Redacted"
 *
 * let calls = 0
 * const fetcher = TokenFetcher.layer((_namespace, _name, request) =>
 *   Effect.sync(() => ({
 *     ...request,
 *     status: { token: Redacted.make(`token-${++calls}`), expirationTimestamp: new Date(Date.now() + 3600_000) },
 *   }))
 * )
 * const program = Effect.gen(function*() {
 *   const manager = yield* TokenManager.TokenManager
 *   const request = { spec: { audiences: ["vault"], expirationSeconds: 3600 } }
 *   yield* manager.getServiceAccountToken("default", "builder", request)
 *   yield* manager.getServiceAccountToken("default", "builder", request)
 * })
 * await Effect.runPromise(Effect.scoped(program.pipe(Effect.provide(TokenManager.layer.pipe(Layer.provide(fetcher))))))
 * assert.ok(calls === 1)
 * ```
 *
 * @module
 */
export * as Backoff from "./core/Backoff.ts"
export * as ErrorBase from "./core/ErrorBase.ts"
export * as RefreshPolicy from "./core/RefreshPolicy.ts"
export * as Status from "./core/Status.ts"
export * as TokenError from "./core/TokenError.ts"
export * as TokenFetcher from "./core/TokenFetcher.ts"
export * as TokenManager from "./core/TokenManager.ts"
export * as TokenMetrics from "./core/TokenMetrics.ts"
export * as TokenRequest from "./core/TokenRequest.ts"
export * as TokenStore from "./core/TokenStore.ts"
export * as Validation from "./core/Validation.ts"
