/**
 * The manager's cache: the entries by request, an index by kubelet's key (for `peek`) and an index by pod (so that
 * deleting a pod's tokens touches only its entries), kept in step, with the numbers the hot path needs computed once
 * when an entry is stored.
 *
 * @internal
 */
import * as MetricLabel from "effect/MetricLabel"
import * as Redacted from "effect/Redacted"
import * as RefreshPolicy from "../RefreshPolicy.ts"
import * as Metrics from "../TokenMetrics.ts"
import { fingerprint } from "../TokenRequest.ts"
import type { TokenRequest } from "../TokenRequest.ts"

/** A cached response. */
export interface Entry {
  /** Kubelet's key of the request (`TokenRequest.cacheKey`), for logs, errors and `peek`. */
  readonly key: string
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

/**
 * The map key of a request: the fields of kubelet's key in a fixed order, as JSON, which costs a fraction of
 * rendering kubelet's Go-style string. Two requests have the same id exactly when they have the same kubelet key:
 * absent audiences (`null`) differ from an empty list, an absent `expirationSeconds` counts as 0 and an absent bound
 * object as one with empty fields. (Non-finite lifetimes, the one place the two renderings part, are rejected before
 * anything is cached.)
 */
export const idOf = (name: string, namespace: string, request: TokenRequest): string => {
  const spec = request.spec
  const ref = spec.boundObjectRef
  return JSON.stringify([
    name,
    namespace,
    spec.audiences ?? null,
    spec.expirationSeconds ?? 0,
    ref?.kind ?? "",
    ref?.apiVersion ?? "",
    ref?.name ?? "",
    ref?.uid ?? "",
    request.metadata?.uid ?? "",
  ])
}

/**
 * {@link idOf} with a memory of the last request: a caller that asks again for an equal request (every field the id
 * is made of is the same value, audiences compared one by one against a copy) gets the same id string without
 * rendering it again, and the map finds that string's hash already computed. Any difference renders the id afresh,
 * so a request object changed in place between calls is never mistaken for the old one.
 */
export const memoizedIdOf = (): (name: string, namespace: string, request: TokenRequest) => string => {
  let id: string | undefined
  let name: string | undefined
  let namespace: string | undefined
  let audiences: ReadonlyArray<string> | undefined
  let expirationSeconds: number | undefined
  let kind: string | undefined
  let apiVersion: string | undefined
  let refName: string | undefined
  let refUid: string | undefined
  let uid: string | undefined
  const sameAudiences = (current: ReadonlyArray<string> | undefined): boolean => {
    if (current === undefined || audiences === undefined) return current === audiences
    if (current.length !== audiences.length) return false
    for (let i = 0; i < current.length; i++) if (current[i] !== audiences[i]) return false
    return true
  }
  return (n, ns, request) => {
    const spec = request.spec
    const ref = spec.boundObjectRef
    if (
      id !== undefined && n === name && ns === namespace && spec.expirationSeconds === expirationSeconds &&
      ref?.kind === kind && ref?.apiVersion === apiVersion && ref?.name === refName && ref?.uid === refUid &&
      request.metadata?.uid === uid && sameAudiences(spec.audiences)
    ) return id
    name = n
    namespace = ns
    audiences = spec.audiences === undefined ? undefined : [...spec.audiences]
    expirationSeconds = spec.expirationSeconds
    kind = ref?.kind
    apiVersion = ref?.apiVersion
    refName = ref?.name
    refUid = ref?.uid
    uid = request.metadata?.uid
    return id = idOf(n, ns, request)
  }
}

/** The empty label set. */
export const noTags: ReadonlyArray<MetricLabel.MetricLabel> = []
/** The label sets made so far, by key then value: a text joining the two would give `a=b`, `c` the set of `a`, `b=c`. */
const labels = new Map<string, Map<string, ReadonlyArray<MetricLabel.MetricLabel>>>()

/** A metric label set of one pair, allocated once. */
export const label = (key: string, value: string): ReadonlyArray<MetricLabel.MetricLabel> => {
  let values = labels.get(key)
  if (values === undefined) labels.set(key, values = new Map())
  let tags = values.get(value)
  if (tags === undefined) values.set(value, tags = [MetricLabel.make(key, value)])
  return tags
}

/** The cache's state and its mutations; every mutation keeps the indexes and the entries gauge in step. */
export interface Cache {
  /** The entries by request id ({@link idOf}). */
  readonly entries: Map<string, Entry>
  /** The entry whose kubelet key is `key`. */
  readonly byKey: (key: string) => Entry | undefined
  /** Stores a response under a request id and kubelet key, with its failure count and retry time. */
  readonly put: (id: string, key: string, response: TokenRequest, failures?: number, retryAt?: number) => void
  /** Records a failed refresh on an entry. */
  readonly backOff: (id: string, entry: Entry, failures: number, retryAt: number) => void
  /** Removes an entry, counting an eviction with the cause; false when there was none. */
  readonly remove: (id: string, cause: string) => boolean
  /** Removes every entry bound to the pod; returns how many. */
  readonly removePod: (podUID: string) => number
}

/** An empty cache whose refresh deadlines follow the policy. */
export const make = (policy: RefreshPolicy.RefreshPolicy): Cache => {
  const entries = new Map<string, Entry>()
  const ids = new Map<string, string>()
  const byPod = new Map<string, Set<string>>()

  const unindex = (id: string, podUID: string | undefined) => {
    if (podUID === undefined) return
    const pod = byPod.get(podUID)
    if (pod !== undefined && pod.delete(id) && pod.size === 0) byPod.delete(podUID)
  }

  const put = (id: string, key: string, response: TokenRequest, failures = 0, retryAt = -Infinity): void => {
    const previous = entries.get(id)
    const podUID = response.spec.boundObjectRef?.uid || undefined
    if (previous !== undefined && previous.podUID !== podUID) unindex(id, previous.podUID)
    entries.set(id, {
      key,
      response,
      podUID,
      expiresAt: RefreshPolicy.expiresAt(response),
      deadline: RefreshPolicy.refreshDeadline(response, policy),
      issuedAt: RefreshPolicy.issuedAt(response),
      fingerprint: response.status ? fingerprint(Redacted.value(response.status.token)) : "",
      failures,
      retryAt,
    })
    ids.set(key, id)
    if (podUID !== undefined) {
      let pod = byPod.get(podUID)
      if (pod === undefined) byPod.set(podUID, pod = new Set())
      pod.add(id)
    }
    Metrics.entries.unsafeUpdate(entries.size, noTags)
  }

  const remove = (id: string, cause: string): boolean => {
    const entry = entries.get(id)
    if (entry === undefined) return false
    entries.delete(id)
    ids.delete(entry.key)
    unindex(id, entry.podUID)
    Metrics.evictions.unsafeUpdate(1, label("cause", cause))
    Metrics.entries.unsafeUpdate(entries.size, noTags)
    return true
  }

  return {
    entries,
    byKey: (key) => {
      const id = ids.get(key)
      return id === undefined ? undefined : entries.get(id)
    },
    put,
    backOff: (id, entry, failures, retryAt) => void entries.set(id, { ...entry, failures, retryAt }),
    remove,
    removePod: (podUID) => {
      const pod = byPod.get(podUID)
      if (pod === undefined) return 0
      byPod.delete(podUID)
      for (const id of pod) {
        const entry = entries.get(id)
        if (entry !== undefined) ids.delete(entry.key)
        entries.delete(id)
      }
      Metrics.evictions.unsafeUpdate(pod.size, label("cause", "pod"))
      Metrics.entries.unsafeUpdate(entries.size, noTags)
      return pod.size
    },
  }
}
