/**
 * Test helpers shared by every suite: running an Effect under `TestContext` (provided outermost, so the TestClock
 * cannot leak), a scripted and call-counting fetcher, and TokenRequest builders.
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as TestContext from "effect/TestContext"
import type * as TestServices from "effect/TestServices"
import { TokenFetchError } from "../../core/TokenError.ts"
import * as TokenManager from "../../core/TokenManager.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import type { FakeFetcher } from "../../support/fakeFetcher.ts"

/** Runs a test program with TestClock, TestRandom and a scope. */
export const runTest = <A, E>(effect: Effect.Effect<A, E, TestServices.TestServices | Scope.Scope>): Promise<A> =>
  Effect.runPromise(effect.pipe(Effect.scoped, Effect.provide(TestContext.TestContext)))

export { hour, minute, second, setTime, T0 } from "./time.ts"

/** A response: the request plus a status with the given token and expiry. */
export const issued = (request: TokenRequest, token: string, expiresAt: number): TokenRequest => ({
  ...request,
  status: { token: Redacted.make(token), expirationTimestamp: new Date(expiresAt) },
})

/** The token of a response, unwrapped. */
export const tokenOf = (response: TokenRequest): string | undefined =>
  response.status ? Redacted.value(response.status.token) : undefined

/** kubelet's `getTokenRequest()`: audiences foo1/foo2, 2000 s, bound to pod foo-pod/foo-uid (lowercase kind). */
export { GTR } from "./kubeletTables.ts"

export { fakeFetcher } from "../../support/fakeFetcher.ts"
export type { FakeFetcher, Respond } from "../../support/fakeFetcher.ts"

/** A fetch error with the given reason. */
export const fetchError = (description: string, reason: TokenFetchError["reason"] = "ServerError"): TokenFetchError =>
  new TokenFetchError({ reason, description })

/** A manager over a fake fetcher, with options, living in the test's scope (no GC unless asked). */
export const managerWith = (
  fake: FakeFetcher,
  options: TokenManager.Options = {},
): Effect.Effect<TokenManager.TokenManager, never, Scope.Scope> =>
  TokenManager.make(options).pipe(Effect.provide(fake.layer))
