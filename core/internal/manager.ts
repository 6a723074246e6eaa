/**
 * The manager's algorithms over its cache: the hit path, single-flight fetches that load from the store first, the
 * fallback to a still-valid token, backoff after failed refreshes, and saving fetched tokens to the store.
 *
 * @internal
 */
import type * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import type * as Scope from "effect/Scope"
import * as Backoff from "../Backoff.ts"
import * as RefreshPolicy from "../RefreshPolicy.ts"
import { FetchFailed, TokenExpired, TokenFetchError } from "../TokenError.ts"
import type { TokenManagerError, TokenStoreError } from "../TokenError.ts"
import type { TokenFetcher } from "../TokenFetcher.ts"
import * as Metrics from "../TokenMetrics.ts"
import { cacheKey, withoutToken } from "../TokenRequest.ts"
import type { TokenRequest } from "../TokenRequest.ts"
import type { StoreRequest, TokenStore } from "../TokenStore.ts"
import * as Validation from "../Validation.ts"
import * as Cache from "./cache.ts"

const { label, noTags } = Cache

/** A fetch in flight: its result, shared by every caller of the request, and the pod it is for. */
interface Flight {
  readonly deferred: Deferred.Deferred<Outcome>
  readonly podUID: string | undefined
  /** Set when the pod was deleted while the fetch ran: the result is returned but not cached. */
  discarded: boolean
}

type Outcome = Either.Either<TokenRequest, TokenFetchError>

/** What the manager needs. */
export interface Deps {
  readonly fetcher: TokenFetcher
  readonly store: TokenStore
  readonly scope: Scope.Scope
  readonly clock: Clock.Clock
  readonly policy: RefreshPolicy.RefreshPolicy
  readonly backoff: Backoff.Backoff
}

const invalidResponse = (description: string): Outcome =>
  Either.left(new TokenFetchError({ reason: "Decode", description }))

/** A response is usable when it carries a non-empty token that has not expired yet. */
const checkResponse = (response: TokenRequest, now: number): Outcome => {
  const problem = RefreshPolicy.unusable(response, now)
  return problem === undefined ? Either.right(response) : invalidResponse(problem)
}

/** A store failure: logged and counted, never the caller's failure. */
const storeFailed = (error: TokenStoreError, key: string): Effect.Effect<void> => {
  Metrics.storeFailures.unsafeUpdate(1, label("operation", error.reason === "Load" ? "load" : "save"))
  return Effect.logWarning("Couldn't use the token store").pipe(
    Effect.annotateLogs({ cacheKey: key, err: error.message }),
  )
}

/** A request as the slow paths see it: its id, its kubelet key and its arguments. */
interface Call extends StoreRequest {
  readonly id: string
}

/** Builds the manager's operations over a fresh cache. */
export const make = ({ fetcher, store, scope, clock, policy, backoff }: Deps) => {
  const cache = Cache.make(policy)
  const entries = cache.entries
  const inflight = new Map<string, Flight>()
  // A token is certainly fresh when even the largest jitter would not make it due.
  const jitterWindowMillis = Math.max(0, policy.maxJitterSeconds - 1) * 1000
  const now = () => clock.unsafeCurrentTimeMillis()
  const hitId = Cache.memoizedIdOf()

  const isFresh = (entry: Cache.Entry, at: number): boolean =>
    at <= entry.expiresAt && at <= entry.deadline - jitterWindowMillis &&
    !(policy.refreshIssuedInFuture && at < entry.issuedAt)

  const callOf = (namespace: string, name: string, request: TokenRequest, id?: string): Call => ({
    id: id ?? Cache.idOf(name, namespace, request),
    key: cacheKey(name, namespace, request),
    namespace,
    name,
    request,
  })

  const recordFailure = (call: Call, cause: TokenFetchError, at: number): Effect.Effect<void> => {
    Metrics.fetchFailures.unsafeUpdate(1, label("reason", cause.reason))
    const entry = entries.get(call.id)
    if (entry === undefined || RefreshPolicy.expired(entry.response, at)) return Effect.void
    return Effect.flatMap(Random.next, (u) => {
      const failures = entry.failures + 1
      const retryAt = Math.min(at + Backoff.delay(backoff, failures, u, cause.retryAfterSeconds), entry.expiresAt)
      cache.backOff(call.id, entry, failures, retryAt)
      return Effect.logError("Couldn't update token").pipe(
        Effect.annotateLogs({
          cacheKey: call.key,
          fingerprint: entry.fingerprint,
          reason: cause.reason,
          err: cause.message,
        }),
      )
    })
  }

  const fetchOnce = (call: Call, flight: Flight): Effect.Effect<Outcome> =>
    Effect.suspend(() => {
      Metrics.fetches.unsafeUpdate(1, noTags)
      return Effect.either(fetcher.fetch(call.namespace, call.name, call.request))
    }).pipe(Effect.flatMap((result): Effect.Effect<Outcome> => {
      const at = now()
      const outcome = Either.flatMap(result, (response) => checkResponse(response, at))
      if (Either.isLeft(outcome)) return Effect.as(recordFailure(call, outcome.left, at), outcome)
      const response = outcome.right
      if (!flight.discarded) cache.put(call.id, call.key, response)
      const saved = Effect.catchAll(store.save(call, response), (error) => storeFailed(error, call.key))
      return response.spec.expirationSeconds === undefined
        ? Effect.logError("Expiration seconds was nil for token request").pipe(
          Effect.annotateLogs({ cacheKey: call.key, tokenRequest: withoutToken(response) }),
          Effect.zipRight(saved),
          Effect.as(outcome),
        )
        : Effect.as(saved, outcome)
    }))

  /**
   * The store's response for a request, cached when it is usable and nothing newer is; a store failure or an unusable
   * response is a miss.
   */
  const load = (call: Call): Effect.Effect<Option.Option<Cache.Entry>> =>
    store.load(call).pipe(
      Effect.catchAll((error) => Effect.as(storeFailed(error, call.key), Option.none<TokenRequest>())),
      Effect.map((loaded) => {
        if (Option.isNone(loaded) || Either.isLeft(checkResponse(loaded.value, now()))) return Option.none()
        const current = entries.get(call.id)
        if (current === undefined || RefreshPolicy.expired(current.response, now())) {
          cache.put(call.id, call.key, loaded.value)
        }
        return Option.fromNullable(entries.get(call.id))
      }),
    )

  /** On a miss: the store's token when it needs no refresh (a store hit), else a fetch with it as the fallback. */
  const loadOrFetch = (call: Call, flight: Flight, jitter: number): Effect.Effect<Outcome> =>
    Effect.flatMap(load(call), (loaded) => {
      if (Option.isSome(loaded) && !RefreshPolicy.requiresRefresh(loaded.value.response, now(), jitter, policy)) {
        Metrics.storeHits.unsafeUpdate(1, noTags)
        return Effect.succeed(Either.right(loaded.value.response))
      }
      return fetchOnce(call, flight)
    })

  /** Joins the flight for the request, or starts one in the manager's scope (loading from the store first on a miss). */
  const shared = (call: Call, jitter: number | undefined): Effect.Effect<Outcome> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.withFiberRuntime<Outcome>((fiber) => {
        const running = inflight.get(call.id)
        if (running !== undefined) return restore(Deferred.await(running.deferred))
        const flight: Flight = {
          deferred: Deferred.unsafeMake<Outcome>(fiber.id()),
          podUID: call.request.spec.boundObjectRef?.uid || undefined,
          discarded: false,
        }
        inflight.set(call.id, flight)
        const run = (jitter === undefined ? fetchOnce(call, flight) : loadOrFetch(call, flight, jitter)).pipe(
          Effect.onExit((exit) =>
            Effect.suspend(() => {
              inflight.delete(call.id)
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
  const settle = (call: Call, outcome: Outcome, forced: boolean): Effect.Effect<TokenRequest, TokenManagerError> => {
    if (Either.isRight(outcome)) return Effect.succeed(outcome.right)
    const cause = outcome.left
    const key = call.key
    const entry = entries.get(call.id)
    if (entry === undefined) return Effect.fail(new FetchFailed({ key, cause }))
    if (RefreshPolicy.expired(entry.response, now())) return Effect.fail(new TokenExpired({ key, cause }))
    if (forced) return Effect.fail(new FetchFailed({ key, cause }))
    Metrics.staleServed.unsafeUpdate(1, noTags)
    return Effect.succeed(entry.response)
  }

  const fetchAndSettle = (call: Call, forced: boolean, jitter?: number) =>
    Effect.flatMap(shared(call, jitter), (outcome) => settle(call, outcome, forced))

  const slowGet = (id: string, namespace: string, name: string, request: TokenRequest) =>
    Effect.flatMap(RefreshPolicy.jitter(policy), (jitter): Effect.Effect<TokenRequest, TokenManagerError> => {
      const at = now()
      const entry = entries.get(id)
      if (entry === undefined) {
        Metrics.misses.unsafeUpdate(1, noTags)
        const problem = Validation.check(namespace, name, request)
        if (problem !== undefined) return Effect.fail(problem)
        return fetchAndSettle(callOf(namespace, name, request, id), false, jitter)
      }
      if (!RefreshPolicy.expired(entry.response, at)) {
        if (!RefreshPolicy.requiresRefresh(entry.response, at, jitter, policy)) {
          Metrics.hits.unsafeUpdate(1, noTags)
          return Effect.succeed(entry.response)
        }
        if (at < entry.retryAt) {
          Metrics.staleServed.unsafeUpdate(1, noTags)
          return Effect.succeed(entry.response)
        }
      }
      return fetchAndSettle(callOf(namespace, name, request, id), false)
    })

  return {
    getServiceAccountToken: (
      namespace: string,
      name: string,
      request: TokenRequest,
    ): Effect.Effect<TokenRequest, TokenManagerError> =>
      Effect.suspend(() => {
        const id = hitId(name, namespace, request)
        const entry = entries.get(id)
        if (entry !== undefined && isFresh(entry, now())) {
          Metrics.hits.unsafeUpdate(1, noTags)
          return Effect.succeed(entry.response)
        }
        return slowGet(id, namespace, name, request)
      }),
    refresh: (namespace: string, name: string, request: TokenRequest): Effect.Effect<TokenRequest, TokenManagerError> =>
      Effect.suspend(() => {
        const problem = Validation.check(namespace, name, request)
        if (problem !== undefined) return Effect.fail(problem)
        return fetchAndSettle(callOf(namespace, name, request), true)
      }),
    lookup: (namespace: string, name: string, request: TokenRequest): Effect.Effect<Option.Option<TokenRequest>> =>
      Effect.suspend(() => {
        const id = Cache.idOf(name, namespace, request)
        const entry = entries.get(id)
        if (entry !== undefined && !RefreshPolicy.expired(entry.response, now())) {
          return Effect.succeed(Option.some(entry.response))
        }
        if (Validation.check(namespace, name, request) !== undefined) return Effect.succeedNone
        return Effect.map(load(callOf(namespace, name, request, id)), (loaded) => {
          if (Option.isSome(loaded)) Metrics.storeHits.unsafeUpdate(1, noTags)
          return Option.map(loaded, (entry) => entry.response)
        })
      }),
    invalidate: (namespace: string, name: string, request: TokenRequest): Effect.Effect<boolean> =>
      Effect.sync(() => cache.remove(Cache.idOf(name, namespace, request), "invalidated")),
    deleteServiceAccountToken: (podUID: string): Effect.Effect<number> =>
      Effect.sync(() => {
        for (const flight of inflight.values()) if (flight.podUID === podUID) flight.discarded = true
        return cache.removePod(podUID)
      }),
    cleanup: Effect.sync(() => {
      const at = now()
      let removed = 0
      for (const [id, entry] of entries) if (!(at <= entry.expiresAt) && cache.remove(id, "expired")) removed++
      return removed
    }),
    size: Effect.sync(() => entries.size),
    peek: (key: string): Effect.Effect<Option.Option<TokenRequest>> =>
      Effect.sync(() => Option.fromNullable(cache.byKey(key)?.response)),
  }
}
