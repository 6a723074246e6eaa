/**
 * The manager's state and algorithms: the cache, the pod index, the in-flight fetches and the backoff bookkeeping.
 *
 * @internal
 */
import type * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Backoff from "../Backoff.ts"
import * as RefreshPolicy from "../RefreshPolicy.ts"
import { FetchFailed, TokenExpired, TokenFetchError } from "../TokenError.ts"
import type { TokenManagerError } from "../TokenError.ts"
import type { TokenFetcher } from "../TokenFetcher.ts"
import type { TokenManager } from "../TokenManager.ts"
import * as Metrics from "../TokenMetrics.ts"
import { cacheKey, fingerprint, formatTime, withoutToken } from "../TokenRequest.ts"
import type { TokenRequest } from "../TokenRequest.ts"
import * as Validation from "../Validation.ts"

/** A cached response with the numbers the hot path needs, computed once when it is stored. */
interface Entry {
  readonly response: TokenRequest
  readonly podUID: string | undefined
  readonly expiresAt: number
  readonly deadline: number
  readonly issuedAt: number
  readonly fingerprint: string
  /** Consecutive failed refreshes. */
  readonly failures: number
  /** No fetch before this time (epoch ms) while the token is valid. */
  readonly retryAt: number
}

/** A fetch in flight: its result, shared by every caller of the key, and the pod it is for. */
interface Flight {
  readonly deferred: Deferred.Deferred<Outcome>
  readonly podUID: string | undefined
  /** Set when the pod was deleted while the fetch ran: the result is returned but not cached. */
  discarded: boolean
}

type Outcome = Either.Either<TokenRequest, TokenFetchError>

/** What the store needs. */
export interface Deps {
  readonly fetcher: TokenFetcher
  readonly scope: Scope.Scope
  readonly clock: Clock.Clock
  readonly policy: RefreshPolicy.RefreshPolicy
  readonly backoff: Backoff.Backoff
}

const noTags: ReadonlyArray<MetricLabel.MetricLabel> = []
const labels = new Map<string, ReadonlyArray<MetricLabel.MetricLabel>>()
const label = (key: string, value: string): ReadonlyArray<MetricLabel.MetricLabel> => {
  const id = `${key}=${value}`
  let tags = labels.get(id)
  if (tags === undefined) labels.set(id, tags = [MetricLabel.make(key, value)])
  return tags
}

const invalidResponse = (description: string): Outcome =>
  Either.left(new TokenFetchError({ reason: "Decode", description }))

/** A response is usable when it carries a non-empty token that has not expired yet. */
const checkResponse = (response: TokenRequest, now: number): Outcome => {
  if (response.status === undefined) return invalidResponse("no token in server response")
  if (Redacted.value(response.status.token).length === 0) return invalidResponse("no token in server response")
  const seconds = response.spec.expirationSeconds
  if (seconds !== undefined && !(Number.isInteger(seconds) && seconds > 0)) {
    return invalidResponse(`the response's spec.expirationSeconds is not a positive whole number: ${seconds}`)
  }
  if (RefreshPolicy.expired(response, now)) {
    const at = response.status.expirationTimestamp
    return invalidResponse(
      `the issued token expired at ${Number.isNaN(at.getTime()) ? "an invalid time" : formatTime(at)}`,
    )
  }
  return Either.right(response)
}

/** Builds the manager's operations over fresh state. */
export const make = ({ fetcher, scope, clock, policy, backoff }: Deps): TokenManager => {
  const entries = new Map<string, Entry>()
  const byPod = new Map<string, Set<string>>()
  const inflight = new Map<string, Flight>()
  // A token is certainly fresh when even the largest jitter would not make it due.
  const jitterWindowMillis = Math.max(0, policy.maxJitterSeconds - 1) * 1000
  const now = () => clock.unsafeCurrentTimeMillis()

  const isFresh = (entry: Entry, at: number): boolean =>
    at <= entry.expiresAt && at <= entry.deadline - jitterWindowMillis &&
    !(policy.refreshIssuedInFuture && at < entry.issuedAt)

  const unindex = (key: string, podUID: string | undefined) => {
    if (podUID === undefined) return
    const keys = byPod.get(podUID)
    if (keys !== undefined && keys.delete(key) && keys.size === 0) byPod.delete(podUID)
  }

  const put = (key: string, response: TokenRequest, failures = 0, retryAt = -Infinity): void => {
    const previous = entries.get(key)
    const podUID = response.spec.boundObjectRef?.uid || undefined
    if (previous !== undefined && previous.podUID !== podUID) unindex(key, previous.podUID)
    entries.set(key, {
      response,
      podUID,
      expiresAt: RefreshPolicy.expiresAt(response),
      deadline: RefreshPolicy.refreshDeadline(response, policy),
      issuedAt: RefreshPolicy.issuedAt(response),
      fingerprint: response.status ? fingerprint(Redacted.value(response.status.token)) : "",
      failures,
      retryAt,
    })
    if (podUID !== undefined) {
      let keys = byPod.get(podUID)
      if (keys === undefined) byPod.set(podUID, keys = new Set())
      keys.add(key)
    }
    Metrics.entries.unsafeUpdate(entries.size, noTags)
  }

  const remove = (key: string, cause: string): boolean => {
    const entry = entries.get(key)
    if (entry === undefined) return false
    entries.delete(key)
    unindex(key, entry.podUID)
    Metrics.evictions.unsafeUpdate(1, label("cause", cause))
    Metrics.entries.unsafeUpdate(entries.size, noTags)
    return true
  }

  const recordFailure = (key: string, cause: TokenFetchError, at: number): Effect.Effect<void> => {
    Metrics.fetchFailures.unsafeUpdate(1, label("reason", cause.reason))
    const entry = entries.get(key)
    if (entry === undefined || RefreshPolicy.expired(entry.response, at)) return Effect.void
    return Effect.flatMap(Random.next, (u) => {
      const failures = entry.failures + 1
      const retryAt = Math.min(at + Backoff.delay(backoff, failures, u, cause.retryAfterSeconds), entry.expiresAt)
      entries.set(key, { ...entry, failures, retryAt })
      return Effect.logError("Couldn't update token").pipe(
        Effect.annotateLogs({
          cacheKey: key,
          fingerprint: entry.fingerprint,
          reason: cause.reason,
          err: cause.message,
        }),
      )
    })
  }

  const fetchOnce = (key: string, namespace: string, name: string, request: TokenRequest, flight: Flight) =>
    Effect.suspend(() => {
      Metrics.fetches.unsafeUpdate(1, noTags)
      return Effect.either(fetcher.fetch(namespace, name, request))
    }).pipe(Effect.flatMap((result): Effect.Effect<Outcome> => {
      const at = now()
      const outcome = Either.flatMap(result, (response) => checkResponse(response, at))
      if (Either.isLeft(outcome)) return Effect.as(recordFailure(key, outcome.left, at), outcome)
      if (!flight.discarded) put(key, outcome.right)
      return outcome.right.spec.expirationSeconds === undefined
        ? Effect.logError("Expiration seconds was nil for token request").pipe(
          Effect.annotateLogs({ cacheKey: key, tokenRequest: withoutToken(outcome.right) }),
          Effect.as(outcome),
        )
        : Effect.succeed(outcome)
    }))

  /** Joins the fetch in flight for the key, or starts one in the manager's scope. */
  const shared = (key: string, namespace: string, name: string, request: TokenRequest): Effect.Effect<Outcome> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.withFiberRuntime<Outcome>((fiber) => {
        const running = inflight.get(key)
        if (running !== undefined) return restore(Deferred.await(running.deferred))
        const flight: Flight = {
          deferred: Deferred.unsafeMake<Outcome>(fiber.id()),
          podUID: request.spec.boundObjectRef?.uid || undefined,
          discarded: false,
        }
        inflight.set(key, flight)
        const run = fetchOnce(key, namespace, name, request, flight).pipe(
          Effect.onExit((exit) =>
            Effect.suspend(() => {
              inflight.delete(key)
              return Deferred.done(flight.deferred, exit)
            })
          ),
        )
        // The fetch runs interruptibly in the manager's scope: a fetcher's own timeout can end it, closing the scope
        // interrupts it, and interrupting one caller leaves it running for the others.
        return Effect.zipRight(
          Effect.forkIn(Effect.interruptible(run), scope),
          restore(Deferred.await(flight.deferred)),
        )
      })
    )

  /** Turns a fetch outcome into the caller's answer, falling back to a still-valid cached token. */
  const settle = (key: string, outcome: Outcome, forced: boolean): Effect.Effect<TokenRequest, TokenManagerError> => {
    if (Either.isRight(outcome)) return Effect.succeed(outcome.right)
    const cause = outcome.left
    const entry = entries.get(key)
    if (entry === undefined) return Effect.fail(new FetchFailed({ key, cause }))
    if (RefreshPolicy.expired(entry.response, now())) return Effect.fail(new TokenExpired({ key, cause }))
    if (forced) return Effect.fail(new FetchFailed({ key, cause }))
    Metrics.staleServed.unsafeUpdate(1, noTags)
    return Effect.succeed(entry.response)
  }

  const fetchAndSettle = (key: string, namespace: string, name: string, request: TokenRequest, forced: boolean) =>
    Effect.flatMap(shared(key, namespace, name, request), (outcome) => settle(key, outcome, forced))

  const slowGet = (key: string, namespace: string, name: string, request: TokenRequest) =>
    Effect.flatMap(RefreshPolicy.jitter(policy), (jitter): Effect.Effect<TokenRequest, TokenManagerError> => {
      const at = now()
      const entry = entries.get(key)
      if (entry === undefined) {
        Metrics.misses.unsafeUpdate(1, noTags)
        const problem = Validation.check(namespace, name, request)
        if (problem !== undefined) return Effect.fail(problem)
      } else if (!RefreshPolicy.expired(entry.response, at)) {
        if (!RefreshPolicy.requiresRefresh(entry.response, at, jitter, policy)) {
          Metrics.hits.unsafeUpdate(1, noTags)
          return Effect.succeed(entry.response)
        }
        if (at < entry.retryAt) {
          Metrics.staleServed.unsafeUpdate(1, noTags)
          return Effect.succeed(entry.response)
        }
      }
      return fetchAndSettle(key, namespace, name, request, false)
    })

  return {
    getServiceAccountToken: (namespace, name, request) =>
      Effect.suspend(() => {
        const key = cacheKey(name, namespace, request)
        const entry = entries.get(key)
        if (entry !== undefined && isFresh(entry, now())) {
          Metrics.hits.unsafeUpdate(1, noTags)
          return Effect.succeed(entry.response)
        }
        return slowGet(key, namespace, name, request)
      }),
    refresh: (namespace, name, request) =>
      Effect.suspend(() => {
        const problem = Validation.check(namespace, name, request)
        if (problem !== undefined) return Effect.fail(problem)
        return fetchAndSettle(cacheKey(name, namespace, request), namespace, name, request, true)
      }),
    invalidate: (namespace, name, request) =>
      Effect.sync(() => remove(cacheKey(name, namespace, request), "invalidated")),
    deleteServiceAccountToken: (podUID) =>
      Effect.sync(() => {
        for (const flight of inflight.values()) if (flight.podUID === podUID) flight.discarded = true
        const keys = byPod.get(podUID)
        if (keys === undefined) return 0
        byPod.delete(podUID)
        for (const key of keys) entries.delete(key)
        Metrics.evictions.unsafeUpdate(keys.size, label("cause", "pod"))
        Metrics.entries.unsafeUpdate(entries.size, noTags)
        return keys.size
      }),
    cleanup: Effect.sync(() => {
      const at = now()
      let removed = 0
      for (const [key, entry] of entries) if (!(at <= entry.expiresAt) && remove(key, "expired")) removed++
      return removed
    }),
    size: Effect.sync(() => entries.size),
    peek: (key) => Effect.sync(() => Option.fromNullable(entries.get(key)?.response)),
    set: (key, response) => Effect.sync(() => put(key, response)),
  }
}
