/**
 * API faults end to end: the real `KubeTokenFetcher` (this runtime's TLS client) talks over HTTPS to a fault-injecting
 * server on 127.0.0.1 while the core `TokenManager` keeps its time on the TestClock. For every fault the table below
 * checks that the typed `reason` is right, that a still-valid cached token keeps being served, that nothing bad is
 * cached, that no expired token is ever returned, that the fetcher is not called again before the backoff has passed
 * (1 s minus up to 20 % jitter, or the server's `Retry-After`), and that everything recovers as soon as the fault
 * clears: at the next retry while the old token is valid, and at once after it expired.
 */
import assert from "node:assert/strict"
import { inspect } from "node:util"
import { after, before, describe, it } from "node:test"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import * as TestClock from "effect/TestClock"
import * as KubeConnection from "../../adapters/kube/KubeConnection.ts"
import * as KubeTokenFetcher from "../../adapters/kube/KubeTokenFetcher.ts"
import type { FetchReason, TokenManagerError } from "../../core/TokenError.ts"
import * as TokenFetcher from "../../core/TokenFetcher.ts"
import * as TokenManager from "../../core/TokenManager.ts"
import { cacheKey, formatTime } from "../../core/TokenRequest.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import { fakeFetcher, fetchError, managerWith, runTest, second, setTime, tokenOf } from "../_support/harness.ts"
import * as FaultServer from "../_support/reliabilityServer.ts"
import { runtime, tlsLayer } from "../_support/runtime.ts"

const epoch = Date.UTC(2030, 0, 1)
const lifetime = 3600
const timeout = 2 * second
const limit = 4096
const requestA: TokenRequest = { spec: { audiences: ["vault"], expirationSeconds: lifetime } }
const requestB: TokenRequest = { spec: { audiences: ["never-cached"], expirationSeconds: lifetime } }
const keyA = cacheKey("builder", "default", requestA)
const keyB = cacheKey("builder", "default", requestB)

/** What the server issues in good times: a token with a unique marker, valid for the requested lifetime. */
let serial = 0
const issue = (now: number, seen: FaultServer.Seen, patch: (body: Record<string, unknown>) => unknown = (b) => b) => {
  const spec = JSON.parse(seen.body).spec
  return {
    status: 201,
    body: patch({
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      metadata: { name: "builder", namespace: "default" },
      spec,
      status: {
        token: `RELIABILITY-MARKER-${++serial}`,
        expirationTimestamp: formatTime(new Date(now + (spec.expirationSeconds ?? lifetime) * 1000)),
      },
    }),
  } as const
}

const html502 = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>" +
  "<hr><center>nginx</center></body></html>"

/** One fault: how the server misbehaves, the reason the fetcher must report, the shortest backoff. */
interface Scenario {
  readonly name: string
  readonly reason: FetchReason
  /** Sets up the fault (`now` is the TestClock time, for bodies that carry timestamps). */
  readonly fault: (server: FaultServer.FaultServer, now: () => number) => void
  /** The shortest wait before the next call after the first failure, in ms. @default 800 (1 s minus 20 %) */
  readonly minBackoff?: number
  /** The server never answers: advance the TestClock past the request timeout while a call is in flight. */
  readonly hangs?: boolean
  /** Known to misbehave: the failing expectation, reported in docs/reliability.md. */
  readonly todo?: string
}

const answer = (
  server: FaultServer.FaultServer,
  a: FaultServer.Answer | ((seen: FaultServer.Seen) => FaultServer.Answer),
) => {
  server.handler = typeof a === "function" ? a : () => a
}
/** A fault whose answer is the TokenRequest the server would issue, with its body patched (given the current time). */
const patched =
  (patch: (body: Record<string, unknown>, now: number) => unknown) =>
  (server: FaultServer.FaultServer, now: () => number) =>
    answer(server, (seen) => issue(now(), seen, (b) => patch(b, now())))
const statusBody = (code: number, reason: string, message: string) => ({
  kind: "Status",
  apiVersion: "v1",
  status: "Failure",
  message,
  reason,
  code,
})

export const scenarios: ReadonlyArray<Scenario> = [
  {
    name: "500 Internal Server Error",
    reason: "ServerError",
    fault: (s) => answer(s, { status: 500, body: statusBody(500, "InternalError", "etcdserver: request timed out") }),
  },
  {
    name: "503 Service Unavailable",
    reason: "ServerError",
    fault: (s) => answer(s, { status: 503, body: statusBody(503, "ServiceUnavailable", "apiserver is shutting down") }),
  },
  {
    name: "429 with Retry-After: 5",
    reason: "TooManyRequests",
    minBackoff: 5000,
    fault: (s) =>
      answer(s, {
        status: 429,
        headers: { "retry-after": "5" },
        body: statusBody(429, "TooManyRequests", "Too many requests, please try again later."),
      }),
  },
  {
    name: "429 without Retry-After",
    reason: "TooManyRequests",
    fault: (s) => answer(s, { status: 429, body: statusBody(429, "TooManyRequests", "slow down") }),
  },
  {
    name: "latency past the request timeout",
    reason: "Timeout",
    hangs: true,
    fault: (s) => answer(s, "hang"),
  },
  {
    name: "connection reset in the middle of the body",
    reason: "Transport",
    fault: (s) =>
      answer(s, {
        resetAfter: '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","status":{"token":"RELIABILITY-MAR',
        declaredLength: 900,
      }),
  },
  {
    name: "TLS handshake failure",
    reason: "Transport",
    fault: (s) => {
      s.handshakeFault = true
    },
  },
  {
    name: "non-JSON body: an HTML 502 page",
    reason: "ServerError",
    fault: (s) => answer(s, { status: 502, headers: { "content-type": "text/html" }, body: html502 }),
  },
  {
    name: "non-JSON body with 201",
    reason: "Decode",
    fault: (s) => answer(s, { status: 201, headers: { "content-type": "text/html" }, body: html502 }),
  },
  {
    name: "JSON without status.token",
    reason: "Decode",
    fault: patched((b) => ({ ...b, status: { expirationTimestamp: "2031-01-01T00:00:00Z" } })),
  },
  {
    name: "unparseable expirationTimestamp",
    reason: "Decode",
    fault: patched((b) => ({ ...b, status: { ...(b.status as object), expirationTimestamp: "next tuesday" } })),
  },
  {
    name: "negative spec.expirationSeconds",
    reason: "Decode",
    fault: patched((b) => ({ ...b, spec: { ...(b.spec as object), expirationSeconds: -lifetime } })),
  },
  {
    name: "expiry already in the past",
    reason: "Decode",
    fault: patched((b, now) => ({
      ...b,
      status: { ...(b.status as object), expirationTimestamp: formatTime(new Date(now - 60 * second)) },
    })),
  },
  {
    name: "body over the size limit (Content-Length)",
    reason: "Decode",
    fault: patched((b) => ({ ...b, padding: "x".repeat(2 * limit) })),
  },
  {
    name: "body over the size limit (chunked)",
    reason: "Decode",
    fault: (s, now) =>
      answer(s, (seen) => ({ ...issue(now(), seen, (b) => ({ ...b, padding: "x".repeat(2 * limit) })), chunks: 8 })),
  },
  {
    name: "wrong content type (text/html around a valid TokenRequest)",
    reason: "Decode",
    fault: (s, now) => answer(s, (seen) => ({ ...issue(now(), seen), headers: { "content-type": "text/html" } })),
  },
]

let server: FaultServer.FaultServer
before(async () => {
  server = await FaultServer.start(() => ({ status: 500 }))
})
after(() => server.close())

let faulty = false
const healthy = (now: () => number) => {
  faulty = false
  server.handshakeFault = false
  server.handler = (seen) => issue(now(), seen)
}

/** Token POSTs that reached the server plus connections refused during the handshake. */
const attempts = () => server.requests.filter((r) => r.path.endsWith("/token")).length + server.handshakesRefused

const connection = (): KubeConnection.KubeConnection => FaultServer.connection(server, "reliability")

/** What the test remembers of one scenario, for the report. */
export interface Outcome {
  readonly reason: string
  readonly servedStale: boolean
  readonly poisoned: boolean
  readonly backedOff: boolean
  readonly recovered: boolean
}

const realPause = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 2)))

/** Runs one scenario; returns what happened instead of asserting, so that a `todo` case can report it. */
const play = (scenario: Scenario) =>
  Effect.gen(function* () {
    yield* setTime(epoch)
    const rt = yield* Effect.runtime<never>()
    const now = () => Runtime.runSync(rt)(Clock.currentTimeMillis)
    server.requests.length = 0
    server.handshakesRefused = 0
    healthy(now)
    const fetcher = yield* KubeTokenFetcher.scoped({ timeout, maxResponseBytes: limit }).pipe(
      Effect.provide(KubeConnection.layerFrom(connection())),
      Effect.provide(tlsLayer),
    )
    const manager = yield* TokenManager.make({ gc: false }).pipe(
      Effect.provideService(TokenFetcher.TokenFetcher, fetcher),
    )
    const issuedTokens: Array<string> = []
    const problems: Array<string> = []
    const check = (ok: boolean, what: string) => {
      if (!ok) problems.push(what)
    }
    /** A get that advances the TestClock past the timeout while a request hangs; checks what it returns. */
    const get = (request: TokenRequest) =>
      Effect.gen(function* () {
        const fiber = yield* Effect.fork(Effect.either(manager.getServiceAccountToken("default", "builder", request)))
        let waited = -1
        let spins = 0
        const sent = attempts()
        while (true) {
          const done = yield* Fiber.poll(fiber)
          if (Option.isSome(done)) break
          // the deadline passes only once the request is on the server (or after a few real seconds, should it never be)
          const arrived = attempts() > sent || ++spins > 2000
          if (scenario.hangs && faulty && waited < 0 && arrived && (yield* TestClock.sleeps()).length > 0) {
            yield* TestClock.adjust(timeout)
            waited = 0
          } else yield* realPause
          if (waited >= 0 && ++waited === 250) {
            // the timeout has elapsed but the call is still running: let the server go so that the test can end
            check(false, "the call was still running after the request timeout elapsed")
            server.releaseHung()
          }
        }
        const result: Either.Either<TokenRequest, TokenManagerError> = yield* Fiber.join(fiber)
        const at = now()
        if (Either.isRight(result)) {
          const expiry = result.right.status?.expirationTimestamp.getTime() ?? NaN
          check(at <= expiry, `an expired token was returned at ${new Date(at).toISOString()}`)
        } else {
          for (const text of [String(result.left), inspect(result.left), JSON.stringify(result.left)]) {
            check(!issuedTokens.some((t) => text.includes(t)), `a token leaked into an error: ${text}`)
          }
        }
        return result
      })
    const fresh = (request: TokenRequest) =>
      Effect.gen(function* () {
        const result = yield* get(request)
        if (Either.isLeft(result)) throw new Error(`healthy server failed: ${result.left.message}`)
        const token = tokenOf(result.right)!
        issuedTokens.push(token)
        return token
      })

    // 1. a healthy server issues T1, valid for an hour
    const t1 = yield* fresh(requestA)
    check(attempts() === 1, "first fetch")
    // 2. past the refresh point (80 %), the fault starts: T1 keeps being served
    yield* TestClock.adjust(3000 * second)
    scenario.fault(server, now)
    faulty = true
    // a key with nothing cached reports the typed reason and caches nothing
    const none = yield* get(requestB)
    const reason = Either.isLeft(none) ? `${none.left._tag}/${none.left.reason}` : "accepted"
    const poisonedB = Option.isSome(yield* manager.peek(keyB))
    let calls = attempts()
    const stale = yield* get(requestA)
    const servedStale = Either.isRight(stale) && tokenOf(stale.right) === t1
    check(attempts() === calls + 1, `the refresh was attempted once (${attempts() - calls})`)
    const failedAt = now()
    // 3. backoff: no call before the shortest backoff, one call once it passed
    calls = attempts()
    const minBackoff = scenario.minBackoff ?? 800
    yield* get(requestA)
    yield* TestClock.setTime(failedAt + minBackoff - 1)
    const early = yield* get(requestA)
    let backedOff = attempts() === calls && Either.isRight(early) && tokenOf(early.right) === t1
    yield* TestClock.setTime(failedAt + Math.max(minBackoff, 1000))
    const retried = yield* get(requestA)
    backedOff = backedOff && attempts() === calls + 1
    const cachedA = yield* manager.peek(keyA)
    const poisoned = poisonedB || Option.isNone(cachedA) || tokenOf(cachedA.value) !== t1 ||
      !(Either.isRight(retried) && tokenOf(retried.right) === t1)
    // 5. the fault clears: the next retry (at most 2 s later, or Retry-After) gets T2
    healthy(now)
    const retryAt = now() + Math.max(scenario.minBackoff ?? 0, 2000)
    yield* TestClock.setTime(retryAt)
    const second2 = yield* get(requestA)
    const t2 = Either.isRight(second2) ? tokenOf(second2.right) : undefined
    if (t2 !== undefined) issuedTokens.push(t2)
    let recovered = t2 !== undefined && t2 !== t1
    // 6. the fault returns until T2 expires: never served expired, TokenExpired with the reason
    scenario.fault(server, now)
    faulty = true
    const t2Expiry = Either.isRight(second2) ? second2.right.status!.expirationTimestamp.getTime() : now()
    yield* TestClock.setTime(t2Expiry + 1)
    const expired = yield* get(requestA)
    const expiredReason = Either.isLeft(expired) ? `${expired.left._tag}/${expired.left.reason}` : "served"
    // 7. cleared again: a new token at once, without waiting for any backoff
    healthy(now)
    const third = yield* get(requestA)
    recovered = recovered && Either.isRight(third) && !issuedTokens.includes(tokenOf(third.right)!)
    return {
      outcome: { reason, servedStale, poisoned, backedOff, recovered } satisfies Outcome,
      expiredReason,
      problems,
    }
  }).pipe(Logger.withMinimumLogLevel(LogLevel.None))

describe(`API faults end to end (${runtime})`, () => {
  for (const scenario of scenarios) {
    const body = async () => {
      const result = await runTest(play(scenario))
      assert.deepEqual(result.problems, [])
      assert.deepEqual(result.outcome, {
        reason: `FetchFailed/${scenario.reason}`,
        servedStale: true,
        poisoned: false,
        backedOff: true,
        recovered: true,
      })
      assert.equal(result.expiredReason, `TokenExpired/${scenario.reason}`)
    }
    if (scenario.todo !== undefined) {
      it(scenario.name, { todo: scenario.todo }, async () => {
        // still run it, so that the report stays true; a todo failure does not fail the suite
        await body()
      })
    } else {
      it(scenario.name, body)
    }
  }

  // A TokenFetcher that relies on being interrupted (Effect.timeout around a call) gets its timeout through the manager.
  it("a fetcher's own Effect.timeout ends a hanging fetch made through the manager", { timeout: 30_000 }, async () => {
    // the call never ends by itself: only the fetcher's timeout, on the TestClock, can end it
    const fake = fakeFetcher(() =>
      Effect.never.pipe(
        Effect.timeoutFail({ duration: timeout, onTimeout: () => fetchError("request timed out", "Timeout") }),
      )
    )
    const result = await runTest(Effect.gen(function* () {
      const manager = yield* managerWith(fake)
      const fiber = yield* Effect.fork(Effect.either(manager.getServiceAccountToken("default", "builder", requestA)))
      while ((yield* TestClock.sleeps()).length === 0) yield* Effect.yieldNow()
      yield* TestClock.adjust(timeout)
      return yield* Fiber.join(fiber)
    }))
    assert.ok(Either.isLeft(result), "the call did not end when its timeout elapsed")
    assert.equal(result.left.reason, "Timeout")
  })
})
