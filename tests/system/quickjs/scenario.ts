/**
 * The conformance scenario that runs inside QuickJS (bundled with `mod.ts` by `harness.ts`): kubelet's upstream test
 * tables for caching, refresh, fallback, delete, cleanup and the cache key (`pkg/kubelet/token/token_manager_test.go`),
 * driven by TestClock. The TokenFetcher calls into the host (`__host.fetch`), which issues the wire JSON; the results
 * go back to the host through `__host.report`.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import * as TestContext from "effect/TestContext"
import { RefreshPolicy, TokenError, TokenFetcher, TokenManager, TokenRequest, TokenStore } from "../../../mod.ts"
import {
  cachingCases,
  cleanupCases,
  deleteCases,
  deleteCatalogue,
  GTR,
  keyCases,
  refreshCases,
  withUid,
} from "../../_support/kubeletTables.ts"
import type { CatalogueEntry } from "../../_support/kubeletTables.ts"

/** What the host gives the VM (see harness.ts). */
export interface Host {
  /** One TokenRequest call: the request as JSON in, a response body or an error message out (asynchronously). */
  readonly fetch: (requestJson: string, done: (error: string | undefined, body: string | undefined) => void) => void
  /** Replaces the host fetcher's behaviour (the upstream tests swap the fake fetcher the same way). */
  readonly program: (behaviourJson: string) => void
  /** How many fetches the host has served since the scenario started. */
  readonly calls: () => number
  /** Hands the results back. */
  readonly report: (resultsJson: string) => void
}

/** How the host answers fetches. */
export type Behaviour =
  /** Always the same object (TestTokenCachingAndExpiration): spec.expirationSeconds and the expiry are fixed, the token is `token`. */
  | { readonly kind: "fixed"; readonly expirationSeconds: number; readonly expiresAt: number; readonly token: string }
  /** The request itself with an expiry `ttlMillis` after the VM's now (TestDeleteServiceAccountToken; TestRequiresRefresh with
   * `expirationSeconds`). */
  | { readonly kind: "echo"; readonly ttlMillis: number; readonly expirationSeconds?: number }
  /** TestServiceAccountRecreationCacheInvalidation: metadata copied, 3600 s, token `token-<n>` for the n-th call since this behaviour was set, now + 1 h. */
  | { readonly kind: "numbered" }
  /** Every fetch fails with this message. */
  | { readonly kind: "fail"; readonly message: string }

/** The request the VM sends to the host. */
export interface HostRequest {
  readonly namespace: string
  readonly name: string
  readonly now: number
  readonly request: TokenRequest.TokenRequestEncoded
}

/** One checked expectation. */
export interface Check {
  readonly table: string
  readonly name: string
  readonly ok: boolean
  readonly detail: string
}

const host = (globalThis as unknown as { __host: Host }).__host

const second = 1000
const minute = 60 * second
const hour = 60 * minute
/** Go's zero time plus 30 days (0001-01-31T00:00:00Z). */
const T0 = -62133004800000
/** Go's zero time plus 24 hours (0001-01-02T00:00:00Z). */
const goZeroPlusDay = -62135510400000

const checks: Array<Check> = []
const expect = (table: string, name: string, actual: unknown, expected: unknown): void => {
  const a = JSON.stringify(actual)
  const e = JSON.stringify(expected)
  checks.push({ table, name, ok: a === e, detail: a === e ? a : `expected ${e}, got ${a}` })
}

const program = (behaviour: Behaviour): Effect.Effect<void> =>
  Effect.sync(() => host.program(JSON.stringify(behaviour)))
const calls: Effect.Effect<number> = Effect.sync(() => host.calls())
const tokenOf = (response: TokenRequest.TokenRequest): string | undefined =>
  response.status === undefined ? undefined : Redacted.value(response.status.token)

const encodeRequest = Schema.encodeSync(TokenRequest.TokenRequestJson)
const decodeResponse = Schema.decodeUnknown(TokenRequest.TokenRequestJson)

/** The TokenFetcher of the scenario: every call goes to the host. */
const fetcher: TokenFetcher.TokenFetcher = TokenFetcher.make((namespace, name, request) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.async<string, TokenError.TokenFetchError>((resume) => {
      const message: HostRequest = { namespace, name, now, request: encodeRequest(request) }
      host.fetch(JSON.stringify(message), (error, body) => {
        resume(
          error !== undefined
            ? Effect.fail(new TokenError.TokenFetchError({ reason: "ServerError", description: error }))
            : Effect.succeed(body ?? ""),
        )
      })
    })).pipe(
      Effect.flatMap((body) =>
        decodeResponse(JSON.parse(body)).pipe(
          Effect.mapError((e) => new TokenError.TokenFetchError({ reason: "Decode", description: e.message })),
        )
      ),
    )
)

/**
 * A fresh manager with upstream kubelet's policy, at the given time, over a store holding `saved` (by kubelet's key):
 * `manager.lookup` caches a saved response the way kubelet's tests `set` one.
 */
const freshManager = (
  at: number,
  saved: ReadonlyArray<readonly [string, TokenRequest.TokenRequest]> = [],
): Effect.Effect<TokenManager.TokenManager, never, Scope.Scope> =>
  TestClock.setTime(at).pipe(
    Effect.zipRight(TokenManager.make({ policy: RefreshPolicy.upstream, gc: false, store: TokenStore.memory(saved) })),
    Effect.provideService(TokenFetcher.TokenFetcher, fetcher),
  )

// ---------------------------------------------------------------------------------------------------------------------
// TestTokenCachingAndExpiration (+ TestServiceAccountRecreationCacheInvalidation)

const cachingCase = (
  name: string,
  exp: number,
  body: (manager: TokenManager.TokenManager, c0: number) => Effect.Effect<void, TokenError.TokenManagerError>,
) =>
  Effect.scoped(Effect.gen(function* () {
    const table = "caching"
    yield* program({ kind: "fixed", expirationSeconds: exp / second, expiresAt: T0 + exp, token: "foo" })
    const manager = yield* freshManager(T0)
    const c0 = yield* calls
    yield* manager.getServiceAccountToken("a", "b", GTR)
    expect(table, `${name}: first get fetches`, (yield* calls) - c0, 1)
    yield* manager.getServiceAccountToken("a", "b", GTR)
    expect(table, `${name}: second get is a cache hit`, (yield* calls) - c0, 1)
    yield* body(manager, c0)
  }))

const caching = Effect.gen(function* () {
  const table = "caching"
  for (const { name, lifetime, steps } of cachingCases) {
    yield* cachingCase(name, lifetime, (manager, c0) =>
      Effect.gen(function* () {
        for (const [index, step] of steps.entries()) {
          if (step.at !== undefined) yield* TestClock.setTime(T0 + step.at)
          if (step.fails) yield* program({ kind: "fail", message: "err" })
          const request = step.uid === undefined ? GTR : withUid(step.uid)
          const response = yield* Effect.either(manager.getServiceAccountToken("a", "b", request))
          expect(table, `${name}: step ${index + 1}: fetches`, (yield* calls) - c0, step.calls)
          if (step.token !== undefined) {
            expect(table, `${name}: step ${index + 1}: token`, Either.map(response, tokenOf), Either.right(step.token))
          } else expect(table, `${name}: step ${index + 1}: succeeds`, Either.isRight(response), true)
        }
      }))
  }

  // TestServiceAccountRecreationCacheInvalidation
  yield* Effect.scoped(Effect.gen(function* () {
    const name = "service account recreation invalidates the cache"
    yield* program({ kind: "numbered" })
    const manager = yield* freshManager(T0)
    const c0 = yield* calls
    const request = (uid: string): TokenRequest.TokenRequest => ({
      metadata: { uid },
      spec: { audiences: ["test-audience"], expirationSeconds: 3600 },
    })
    const steps: ReadonlyArray<readonly [string, number, string]> = [
      ["original-sa-uid-123", 1, "token-1"],
      ["original-sa-uid-123", 1, "token-1"],
      ["recreated-sa-uid-456", 2, "token-2"],
      ["recreated-sa-uid-456", 2, "token-2"],
    ]
    for (const [i, [uid, count, token]] of steps.entries()) {
      const response = yield* manager.getServiceAccountToken("test-ns", "test-sa", request(uid))
      expect(table, `${name}: step ${i + 1}`, [(yield* calls) - c0, tokenOf(response)], [count, token])
    }
  }))
})

// ---------------------------------------------------------------------------------------------------------------------
// TestRequiresRefresh, as a pure function for every jitter and through the manager under TestClock

const refresh = Effect.gen(function* () {
  const table = "refresh"
  const start = Date.UTC(2026, 0, 1)
  const cases = refreshCases(start)
  for (const [idx, c] of cases.entries()) {
    const spec = c.nilExpiration ? {} : { expirationSeconds: Math.trunc((c.exp - start) / second) }
    const cached: TokenRequest.TokenRequest = {
      spec,
      status: { token: Redacted.make(`cached-${idx}`), expirationTimestamp: new Date(c.exp) },
    }
    const pure = Array.from(
      { length: 10 },
      (_, jitter) => RefreshPolicy.requiresRefresh(cached, c.now, jitter, RefreshPolicy.upstream),
    )
    expect(table, `requiresRefresh case ${idx}, jitter 0-9`, pure, Array.from({ length: 10 }, () => c.expected))

    yield* Effect.scoped(Effect.gen(function* () {
      yield* program({ kind: "echo", ttlMillis: hour, expirationSeconds: 3600 })
      const request: TokenRequest.TokenRequest = { spec }
      const manager = yield* freshManager(start, [[TokenRequest.cacheKey("sa", "ns", request), cached]])
      yield* manager.lookup("ns", "sa", request)
      yield* TestClock.setTime(c.now)
      const c0 = yield* calls
      const response = yield* manager.getServiceAccountToken("ns", "sa", request)
      const fetched = (yield* calls) - c0
      expect(table, `case ${idx} through the manager: fetched`, fetched, c.expected ? 1 : 0)
      expect(
        table,
        `case ${idx} through the manager: the returned token is valid`,
        response.status !== undefined && response.status.expirationTimestamp.getTime() >= c.now,
        true,
      )
    }))
  }
})

// ---------------------------------------------------------------------------------------------------------------------
// Fallback: kubelet's error texts (`failed to fetch token: …`, `token … expired and refresh failed: …`) and one fetch for concurrent callers

const fallback = Effect.gen(function* () {
  const table = "fallback"
  yield* Effect.scoped(Effect.gen(function* () {
    yield* program({ kind: "fail", message: "err" })
    const manager = yield* freshManager(T0)
    const result = yield* Effect.either(manager.getServiceAccountToken("a", "b", GTR))
    expect(
      table,
      "miss and fetch fails: FetchFailed",
      Either.mapLeft(Either.map(result, tokenOf), (e) => [e._tag, e.message]),
      Either.left(["FetchFailed", "failed to fetch token: err"]),
    )
  }))
  yield* Effect.scoped(Effect.gen(function* () {
    yield* program({ kind: "fixed", expirationSeconds: 3600, expiresAt: T0 + hour, token: "foo" })
    const manager = yield* freshManager(T0)
    yield* manager.getServiceAccountToken("a", "b", GTR)
    yield* TestClock.setTime(T0 + 2 * hour)
    yield* program({ kind: "fail", message: "err" })
    const result = yield* Effect.either(manager.getServiceAccountToken("a", "b", GTR))
    expect(
      table,
      "cached token expired and refresh fails: TokenExpired",
      Either.mapLeft(Either.map(result, tokenOf), (e) => [e._tag, e.message]),
      Either.left(["TokenExpired", `token ${TokenRequest.cacheKey("b", "a", GTR)} expired and refresh failed: err`]),
    )
  }))
  yield* Effect.scoped(Effect.gen(function* () {
    yield* program({ kind: "numbered" })
    const manager = yield* freshManager(T0)
    const c0 = yield* calls
    const responses = yield* Effect.forEach(
      Array.from({ length: 5 }),
      () => manager.getServiceAccountToken("a", "b", GTR),
      { concurrency: "unbounded" },
    )
    expect(table, "five concurrent callers of a cold key: one fetch, one token", [
      (yield* calls) - c0,
      responses.map(tokenOf),
    ], [1, Array.from({ length: 5 }, () => "token-1")])
  }))
})

// ---------------------------------------------------------------------------------------------------------------------
// TestDeleteServiceAccountToken

const keyOf = (c: CatalogueEntry): string => TokenRequest.cacheKey(c.name, c.namespace, c.request)

const deletion = Effect.forEach(deleteCases, (c) =>
  Effect.scoped(Effect.gen(function* () {
    const manager = yield* freshManager(T0)
    for (const index of c.requests) {
      const r = deleteCatalogue[index]
      yield* program(r.fails ? { kind: "fail", message: "fail tr" } : { kind: "echo", ttlMillis: 10 * hour })
      yield* Effect.either(manager.getServiceAccountToken(r.namespace, r.name, r.request))
    }
    for (const uid of c.deletes) yield* manager.deleteServiceAccountToken(uid)
    // Index 3 shares index 4's key and never succeeds, so the present keys are looked up through 0, 1, 2 and 4.
    const present: Array<number> = []
    for (const index of [0, 1, 2, 4]) {
      if (Option.isSome(yield* manager.peek(keyOf(deleteCatalogue[index])))) present.push(index)
    }
    expect("delete", c.name, [yield* manager.size, present], [c.expected.length, c.expected])
  })), { discard: true })

// ---------------------------------------------------------------------------------------------------------------------
// TestCleanup (names as upstream, swapped against the data)

const cleanup = Effect.forEach(
  cleanupCases,
  (c) =>
    Effect.scoped(Effect.gen(function* () {
      // Cached while valid, then the clock moves on to the test's time.
      const request: TokenRequest.TokenRequest = { spec: {} }
      const manager = yield* freshManager(Math.min(goZeroPlusDay, goZeroPlusDay + c.relativeExp) - minute, [[
        TokenRequest.cacheKey("sa", "ns", request),
        {
          spec: {},
          status: { token: Redacted.make("t"), expirationTimestamp: new Date(goZeroPlusDay + c.relativeExp) },
        },
      ]])
      yield* manager.lookup("ns", "sa", request)
      yield* TestClock.setTime(goZeroPlusDay)
      yield* manager.cleanup
      expect("cleanup", c.name, yield* manager.size, c.expected)
    })),
  { discard: true },
)

/** The garbage collector of `TokenManager.layer` runs under TestClock: once at start, then every minute. */
const collector = Effect.scoped(Effect.gen(function* () {
  const request: TokenRequest.TokenRequest = { spec: {} }
  const manager = yield* freshManager(T0, [[
    TokenRequest.cacheKey("sa", "ns", request),
    { spec: {}, status: { token: Redacted.make("t"), expirationTimestamp: new Date(T0 + 30 * second) } },
  ]])
  yield* manager.lookup("ns", "sa", request)
  yield* TokenManager.runGarbageCollector(manager, RefreshPolicy.upstream.gcPeriodMillis)
  yield* TestClock.adjust(45 * second)
  const before = yield* manager.size
  yield* TestClock.adjust(30 * second)
  expect("cleanup", "the GC loop removes an expired token on its next minute", [before, yield* manager.size], [1, 0])
}))

// ---------------------------------------------------------------------------------------------------------------------
// TestKeyFunc

const keys = Effect.forEach(keyCases, (c) =>
  Effect.scoped(Effect.gen(function* () {
    const manager = yield* freshManager(
      T0,
      c.stored.map((unit) => [TokenRequest.cacheKey(unit.name, unit.namespace, unit.request), {
        ...unit.request,
        status: { token: Redacted.make("t"), expirationTimestamp: new Date(T0 + 50 * minute) },
      }]),
    )
    for (const unit of c.stored) yield* manager.lookup(unit.namespace, unit.name, unit.request)
    const found = yield* manager.peek(TokenRequest.cacheKey(c.target.name, c.target.namespace, c.target.request))
    expect("key", c.name, Option.isSome(found), c.hit)
  })), { discard: true })

// ---------------------------------------------------------------------------------------------------------------------

const scenario = Effect.gen(function* () {
  yield* caching
  yield* refresh
  yield* fallback
  yield* deletion
  yield* cleanup
  yield* collector
  yield* keys
})

Effect.runPromise(scenario.pipe(Effect.provide(TestContext.TestContext))).then(
  () => host.report(JSON.stringify({ checks })),
  (error) => host.report(JSON.stringify({ checks, error: String(error) })),
)
