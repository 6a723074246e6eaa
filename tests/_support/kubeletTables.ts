/**
 * Kubelet's upstream test tables for the token manager (`pkg/kubelet/token/token_manager_test.go`), written once and
 * used by the main suites (`tests/core`) and by the QuickJS scenario (`tests/system/quickjs/scenario.ts`, which bundles
 * this file). Pure data: no runtime API, so it runs inside QuickJS too.
 */
import type { TokenRequest } from "../../core/TokenRequest.ts"

const second = 1000
const minute = 60 * second
const hour = 60 * minute

/** Kubelet's `getTokenRequest()`: the request of the caching cases. */
export const GTR: TokenRequest = {
  spec: {
    audiences: ["foo1", "foo2"],
    expirationSeconds: 2000,
    boundObjectRef: { kind: "pod", name: "foo-pod", uid: "foo-uid" },
  },
}

/** {@link GTR} for 3600 s, made for the ServiceAccount with `uid`. */
export const withUid = (uid: string): TokenRequest => ({
  metadata: { uid },
  spec: { ...GTR.spec, expirationSeconds: 3600 },
})

/**
 * A step of a `TestTokenCachingAndExpiration` case, taken after the case's first two gets (a fetch, then a hit):
 * move the clock to `at` milliseconds after the first fetch (when given), make fetches fail from now on (when
 * `fails`), get {@link GTR} (or `withUid(uid)`), then expect `calls` fetches in all and, when given, `token`.
 */
export interface CachingStep {
  readonly at?: number
  readonly fails?: boolean
  readonly uid?: string
  readonly calls: number
  readonly token?: string
}

/** A `TestTokenCachingAndExpiration` case: the fetched token (`foo`) lives `lifetime` milliseconds. */
export interface CachingCase {
  readonly name: string
  readonly lifetime: number
  readonly steps: ReadonlyArray<CachingStep>
}

/** `TestTokenCachingAndExpiration`, with the service-account UID cases of Kubernetes 1.34. */
export const cachingCases: ReadonlyArray<CachingCase> = [
  { name: "rotate hour token expires in the last 12 minutes", lifetime: hour, steps: [{ at: 50 * minute, calls: 2 }] },
  { name: "rotate 24 hour token that expires in 40 hours", lifetime: 40 * hour, steps: [{ at: 25 * hour, calls: 2 }] },
  {
    name: "rotate hour token fails, old token is still valid, doesn't error",
    lifetime: hour,
    steps: [{ at: 50 * minute, fails: true, calls: 2, token: "foo" }],
  },
  {
    name: "service account recreated - cache miss due to different UID",
    lifetime: hour,
    steps: [{ uid: "service-account-uid-1", calls: 2 }, { uid: "service-account-uid-2", calls: 3 }],
  },
  {
    name: "service account UID consistent - cache hit",
    lifetime: hour,
    steps: [{ uid: "consistent-service-account-uid", calls: 2 }, { uid: "consistent-service-account-uid", calls: 2 }],
  },
]

/** A `TestRequiresRefresh` case: now, the cached token's expiry, and whether a refresh is due for every jitter 0–9 s. */
export interface RefreshCase {
  readonly now: number
  readonly exp: number
  /** The response has no `spec.expirationSeconds`. */
  readonly nilExpiration?: boolean
  readonly expected: boolean
}

/** `TestRequiresRefresh`, with times relative to `start`. */
export const refreshCases = (start: number): ReadonlyArray<RefreshCase> => [
  { now: start + 10 * minute, exp: start + 60 * minute, expected: false },
  { now: start + 50 * minute, exp: start + 60 * minute, expected: true },
  { now: start + 25 * hour, exp: start + 60 * hour, expected: true },
  { now: start + 70 * minute, exp: start + 60 * minute, expected: true },
  { now: start, exp: start + 60 * minute, nilExpiration: true, expected: false },
]

/** A request of `TestDeleteServiceAccountToken`'s catalogue; `fails` when the fetcher refuses it. */
export interface CatalogueEntry {
  readonly name: string
  readonly namespace: string
  readonly request: TokenRequest
  readonly fails: boolean
}

/** The requests of `TestDeleteServiceAccountToken`: index 3 fails, index 4 is the same request succeeding. */
export const deleteCatalogue: ReadonlyArray<CatalogueEntry> = [1, 2, 3, 4, 4].map((n, index) => ({
  name: `fake-name-${n}`,
  namespace: `fake-namespace-${n}`,
  request: { spec: { boundObjectRef: { uid: `fake-uid-${n}`, name: `fake-name-${n}` } } },
  fails: index === 3,
}))

/** A `TestDeleteServiceAccountToken` case: the catalogue indexes requested, the pod UIDs deleted, the indexes left. */
export interface DeleteCase {
  readonly name: string
  readonly requests: ReadonlyArray<number>
  readonly deletes: ReadonlyArray<string>
  readonly expected: ReadonlyArray<number>
}

/** `TestDeleteServiceAccountToken`, with upstream's names (typo included). */
export const deleteCases: ReadonlyArray<DeleteCase> = [
  { name: "delete none with all success requests", requests: [0, 1, 2], deletes: [], expected: [0, 1, 2] },
  { name: "delete one with all success requests", requests: [0, 1, 2], deletes: ["fake-uid-1"], expected: [1, 2] },
  {
    name: "delete two with all success requests",
    requests: [0, 1, 2],
    deletes: ["fake-uid-1", "fake-uid-3"],
    expected: [1],
  },
  {
    name: "delete all with all suceess requests",
    requests: [0, 1, 2],
    deletes: ["fake-uid-1", "fake-uid-2", "fake-uid-3"],
    expected: [],
  },
  { name: "delete no pod with failed requests", requests: [0, 1, 2, 3], deletes: [], expected: [0, 1, 2] },
  { name: "delete other pod with failed requests", requests: [0, 1, 2, 3], deletes: ["fake-uid-2"], expected: [0, 2] },
  {
    name: "delete no pod with request which success after failure",
    requests: [0, 1, 2, 3, 4],
    deletes: [],
    expected: [0, 1, 2, 4],
  },
  {
    name: "delete the pod which success after failure",
    requests: [0, 1, 2, 3, 4],
    deletes: ["fake-uid-4"],
    expected: [0, 1, 2],
  },
  {
    name: "delete other pod with request which success after failure",
    requests: [0, 1, 2, 3, 4],
    deletes: ["fake-uid-1"],
    expected: [1, 2, 4],
  },
  {
    name: "delete some pod not in the set",
    requests: [0, 1, 2],
    deletes: ["fake-uid-100", "fake-uid-200"],
    expected: [0, 1, 2],
  },
]

/** A `TestCleanup` case: upstream's name (swapped against its data), what it checks, the expiry relative to now. */
export interface CleanupCase {
  readonly name: string
  readonly what: string
  readonly relativeExp: number
  readonly expected: number
}

/** `TestCleanup`. */
export const cleanupCases: ReadonlyArray<CleanupCase> = [
  { name: "don't cleanup unexpired tokens", what: "expired token is removed", relativeExp: -hour, expected: 0 },
  { name: "cleanup expired tokens", what: "valid token is kept", relativeExp: hour, expected: 1 },
]

/** A service account and request of `TestKeyFunc`. */
export interface KeyUnit {
  readonly name: string
  readonly namespace: string
  readonly request: TokenRequest
}

/** `foo` or `ame`: `<p>-sa` in `<p>-ns`, audiences `<p>1`, `<p>2`, 2000 s, bound to pod `<p>-pod` (uid `<p>-uid`). */
const unit = (p: string): KeyUnit => ({
  name: `${p}-sa`,
  namespace: `${p}-ns`,
  request: {
    spec: {
      audiences: [`${p}1`, `${p}2`],
      expirationSeconds: 2000,
      boundObjectRef: { kind: "pod", name: `${p}-pod`, uid: `${p}-uid` },
    },
  },
})
const F: KeyUnit = unit("foo")
const A: KeyUnit = unit("ame")
const tweak = (unit: KeyUnit, request: TokenRequest): KeyUnit => ({ ...unit, request })
const fUid = (uid: string): KeyUnit => tweak(F, { ...F.request, metadata: { uid } })

/** A `TestKeyFunc` case: what is cached, what is looked up, and whether it is found. */
export interface KeyCase {
  readonly name: string
  readonly stored: ReadonlyArray<KeyUnit>
  readonly target: KeyUnit
  readonly hit: boolean
}

/** `TestKeyFunc`, with the service-account UID cases of Kubernetes 1.34. */
export const keyCases: ReadonlyArray<KeyCase> = [
  { name: "hit", stored: [F, A], target: F, hit: true },
  {
    name: "not hit due to different ExpirationSeconds",
    stored: [F],
    target: tweak(F, { spec: { ...F.request.spec, expirationSeconds: 2001 } }),
    hit: false,
  },
  {
    name: "not hit due to different BoundObjectRef",
    stored: [F],
    target: tweak(F, {
      spec: { ...F.request.spec, boundObjectRef: { kind: "pod", name: "diff-pod", uid: "foo-uid" } },
    }),
    hit: false,
  },
  {
    name: "not hit due to different service account UID",
    stored: [fUid("old-service-account-uid-123")],
    target: fUid("new-service-account-uid-456"),
    hit: false,
  },
  {
    name: "hit with same service account UID",
    stored: [fUid("same-service-account-uid-123")],
    target: fUid("same-service-account-uid-123"),
    hit: true,
  },
  { name: "hit with empty UID (backward compatibility)", stored: [F], target: F, hit: true },
  {
    name: "not hit when one has UID and other doesn't",
    stored: [fUid("service-account-uid-123")],
    target: F,
    hit: false,
  },
]
