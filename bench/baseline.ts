/**
 * The benchmarks' baseline: a plain-TypeScript port of kubelet's `pkg/kubelet/token` manager, written the way a
 * straightforward port would be — one `Map` from kubelet's key string to the server's response, `Date.now()` and
 * `Math.random()`, a full scan on delete and on cleanup, no request coalescing, no Effect. It exists only to be
 * measured against in the same run as the core; nothing else imports it.
 */

/** The response shape the baseline caches: a TokenRequest with a plain-string token, as a port of the Go struct. */
export interface BaselineTokenRequest {
  readonly metadata?:
    | { readonly name?: string | undefined; readonly namespace?: string | undefined; readonly uid?: string | undefined }
    | undefined
  readonly spec: {
    readonly audiences?: ReadonlyArray<string> | undefined
    readonly expirationSeconds?: number | undefined
    readonly boundObjectRef?: {
      readonly kind?: string | undefined
      readonly apiVersion?: string | undefined
      readonly name?: string | undefined
      readonly uid?: string | undefined
    } | undefined
  }
  readonly status?: { readonly token: string; readonly expirationTimestamp: Date } | undefined
}

/** kubelet's `getToken(name, namespace, tr)`: blocking in Go, so either synchronous or a promise here. */
export type SyncGetToken = (name: string, namespace: string, tr: BaselineTokenRequest) => BaselineTokenRequest
export type AsyncGetToken = (name: string, namespace: string, tr: BaselineTokenRequest) => Promise<BaselineTokenRequest>

const maxTTL = 24 * 60 * 60 * 1000
const maxJitter = 10 * 1000

/** Go's `%q` for the strings that occur here (JSON's escaping is the same for printable ASCII). */
const q = (s: string | undefined): string => JSON.stringify(s ?? "")

/** kubelet's `keyFunc`: `%q/%q/%#v/%#v/%#v` of name, namespace, audiences, expirationSeconds, boundObjectRef (+ uid). */
export const keyFunc = (name: string, namespace: string, tr: BaselineTokenRequest): string => {
  const audiences = tr.spec.audiences
  const ref = tr.spec.boundObjectRef
  return `${q(name)}/${q(namespace)}/${
    audiences === undefined ? "[]string(nil)" : `[]string{${audiences.map(q).join(", ")}}`
  }/${tr.spec.expirationSeconds ?? 0}/v1.BoundObjectReference{Kind:${q(ref?.kind)}, APIVersion:${
    q(ref?.apiVersion)
  }, Name:${q(ref?.name)}, UID:${q(ref?.uid)}}/${q(tr.metadata?.uid)}`
}

/** The kubelet token manager, ported literally. */
export class BaselineManager {
  readonly cache: Map<string, BaselineTokenRequest> = new Map()

  constructor(
    readonly getToken: SyncGetToken | AsyncGetToken,
    readonly now: () => number = Date.now,
    readonly random: () => number = Math.random,
  ) {}

  /** `GetServiceAccountToken` with a synchronous fetcher (Go's blocking call). Throws on failure. */
  getServiceAccountToken(namespace: string, name: string, tr: BaselineTokenRequest): BaselineTokenRequest {
    const key = keyFunc(name, namespace, tr)
    const ctr = this.cache.get(key)
    if (ctr !== undefined && !this.requiresRefresh(ctr)) return ctr
    let fetched: BaselineTokenRequest
    try {
      fetched = (this.getToken as SyncGetToken)(name, namespace, tr)
    } catch (err) {
      return this.fallback(key, ctr, err)
    }
    this.cache.set(key, fetched)
    return fetched
  }

  /** `GetServiceAccountToken` with an asynchronous fetcher: every concurrent miss calls the API (no coalescing). */
  async getServiceAccountTokenAsync(
    namespace: string,
    name: string,
    tr: BaselineTokenRequest,
  ): Promise<BaselineTokenRequest> {
    const key = keyFunc(name, namespace, tr)
    const ctr = this.cache.get(key)
    if (ctr !== undefined && !this.requiresRefresh(ctr)) return ctr
    let fetched: BaselineTokenRequest
    try {
      fetched = await (this.getToken as AsyncGetToken)(name, namespace, tr)
    } catch (err) {
      return this.fallback(key, ctr, err)
    }
    this.cache.set(key, fetched)
    return fetched
  }

  private fallback(key: string, ctr: BaselineTokenRequest | undefined, err: unknown): BaselineTokenRequest {
    if (ctr === undefined) throw new Error(`failed to fetch token: ${String(err)}`)
    if (this.expired(ctr)) throw new Error(`token ${key} expired and refresh failed: ${String(err)}`)
    return ctr
  }

  /** `DeleteServiceAccountToken`: scans every entry for the pod's UID. */
  deleteServiceAccountToken(podUID: string): void {
    for (const [key, tr] of this.cache) {
      if (tr.spec.boundObjectRef?.uid === podUID) this.cache.delete(key)
    }
  }

  /** `cleanup`: scans every entry and drops the expired ones. */
  cleanup(): void {
    for (const [key, tr] of this.cache) {
      if (this.expired(tr)) this.cache.delete(key)
    }
  }

  expired(tr: BaselineTokenRequest): boolean {
    return this.now() > (tr.status?.expirationTimestamp.getTime() ?? 0)
  }

  requiresRefresh(tr: BaselineTokenRequest): boolean {
    const seconds = tr.spec.expirationSeconds
    if (seconds === undefined) return false
    const now = this.now()
    const exp = tr.status!.expirationTimestamp.getTime()
    const iat = exp - seconds * 1000
    const jitter = Math.trunc(this.random() * (maxJitter / 1000)) * 1000
    if (now > iat + maxTTL - jitter) return true
    if (now > exp - Math.trunc((seconds * 20) / 100) * 1000 - jitter) return true
    return false
  }
}

/**
 * The cache a user would write instead of the core, in about ten lines: a `Map` keyed by `JSON.stringify` of the
 * fields of kubelet's key (absent audiences as `null`, so they differ from an empty list), one clock read and one
 * jitter draw per call, and kubelet's refresh rule. No single-flight, no backoff, no metrics, no eviction by pod.
 */
export class HandRolledCache {
  readonly cache: Map<string, BaselineTokenRequest> = new Map()

  constructor(
    readonly getToken: SyncGetToken,
    readonly now: () => number = Date.now,
    readonly random: () => number = Math.random,
  ) {}

  get(namespace: string, name: string, tr: BaselineTokenRequest): BaselineTokenRequest {
    const ref = tr.spec.boundObjectRef
    const key = JSON.stringify([
      name,
      namespace,
      tr.spec.audiences ?? null,
      tr.spec.expirationSeconds ?? 0,
      ref?.kind ?? "",
      ref?.apiVersion ?? "",
      ref?.name ?? "",
      ref?.uid ?? "",
      tr.metadata?.uid ?? "",
    ])
    const now = this.now()
    const jitter = Math.trunc(this.random() * (maxJitter / 1000)) * 1000
    const cached = this.cache.get(key)
    if (cached?.status !== undefined) {
      const exp = cached.status.expirationTimestamp.getTime()
      const seconds = cached.spec.expirationSeconds ?? 0
      const refreshAt = Math.min(exp - seconds * 1000 + maxTTL, exp - Math.trunc((seconds * 20) / 100) * 1000)
      if (now <= refreshAt - jitter) return cached
    }
    const fetched = this.getToken(name, namespace, tr)
    this.cache.set(key, fetched)
    return fetched
  }
}
