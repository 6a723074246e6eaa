import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"
import * as Redacted from "effect/Redacted"
import * as Cache from "../../../core/internal/cache.ts"
import * as RefreshRules from "../../../core/RefreshRules.ts"
import * as Metrics from "../../../core/TokenMetrics.ts"
import { cacheKey, fingerprint } from "../../../core/TokenRequest.ts"
import type { TokenRequest } from "../../../core/TokenRequest.ts"

const iat = Date.UTC(2030, 0, 1)

/** A response for the service account `name`, bound to the pod `pod` when one is given. */
const response = (name: string, pod?: string, token = `token-of-${name}`): TokenRequest => ({
  spec: {
    expirationSeconds: 3600,
    ...(pod === undefined ? {} : { boundObjectRef: { kind: "Pod", name: "p", uid: pod } }),
  },
  status: { token: Redacted.make(token), expirationTimestamp: new Date(iat + 3600_000) },
})
/** Stores `r` under its own id and key, as the manager does; returns the id and the key. */
const store = (cache: Cache.Cache, name: string, r: TokenRequest, failures?: number, retryAt?: number) => {
  const id = Cache.idOf(name, "ns", r)
  const key = cacheKey(name, "ns", r)
  cache.put(id, key, r, failures, retryAt)
  return { id, key }
}

const evictions = (cause: string): number =>
  Effect.runSync(Metric.value(Metric.tagged(Metrics.evictions, "cause", cause))).count
const gauge = (): number => Effect.runSync(Metric.value(Metrics.entries)).value

describe("cache.make: put and byKey", () => {
  it("stores the numbers the hot path needs, computed once from the response and the policy", () => {
    const policy = { ...RefreshRules.kubelet, refreshRemainingPercent: 50 }
    const cache = Cache.make(policy)
    const r = response("a", "pod-1")
    const { id, key } = store(cache, "a", r)
    assert.deepEqual(cache.entries.get(id), {
      key,
      response: r,
      podUID: "pod-1",
      expiresAt: iat + 3600_000,
      deadline: iat + 1800_000,
      issuedAt: iat,
      fingerprint: fingerprint("token-of-a"),
      failures: 0,
      retryAt: -Infinity,
    })
    assert.equal(cache.byKey(key), cache.entries.get(id))
  })

  it("keeps a failure count and retry time it is given, and a response without status has no fingerprint", () => {
    const cache = Cache.make(RefreshRules.kubelet)
    const { id } = store(cache, "a", { spec: {} }, 3, iat + 5)
    const entry = cache.entries.get(id)!
    assert.equal(entry.fingerprint, "")
    assert.equal(entry.failures, 3)
    assert.equal(entry.retryAt, iat + 5)
    assert.equal(entry.deadline, Infinity)
    assert.ok(Number.isNaN(entry.expiresAt))
  })

  it("binds an entry to no pod when the bound object has no UID or an empty one", () => {
    const cache = Cache.make(RefreshRules.kubelet)
    assert.equal(cache.entries.get(store(cache, "a", response("a")).id)?.podUID, undefined)
    assert.equal(cache.entries.get(store(cache, "b", response("b", "")).id)?.podUID, undefined)
    assert.equal(cache.removePod(""), 0)
    assert.equal(cache.entries.size, 2)
  })

  it("finds nothing for a key it never stored", () => {
    const cache = Cache.make(RefreshRules.kubelet)
    store(cache, "a", response("a"))
    assert.equal(cache.byKey(cacheKey("b", "ns", response("b"))), undefined)
  })

  it("replaces an entry stored again under the same id, and keeps the gauge at the number of entries", () => {
    const cache = Cache.make(RefreshRules.kubelet)
    const first = store(cache, "a", response("a", undefined, "old"), 2, iat)
    store(cache, "b", response("b"))
    assert.equal(gauge(), 2)
    store(cache, "a", response("a", undefined, "new"))
    assert.equal(cache.entries.size, 2)
    assert.equal(gauge(), 2)
    assert.equal(cache.byKey(first.key)?.fingerprint, fingerprint("new"))
    assert.equal(cache.byKey(first.key)?.failures, 0)
  })

  it("moves an entry stored again with another pod's UID to that pod's index", () => {
    const cache = Cache.make(RefreshRules.kubelet)
    const id = Cache.idOf("a", "ns", { spec: {} })
    const key = cacheKey("a", "ns", { spec: {} })
    cache.put(id, key, response("a", "pod-1"))
    cache.put(id, key, response("a", "pod-2"))
    assert.equal(cache.removePod("pod-1"), 0)
    assert.equal(cache.entries.size, 1)
    assert.equal(cache.removePod("pod-2"), 1)
    assert.equal(cache.entries.size, 0)
  })
})

describe("cache.make: backOff", () => {
  it("records the failures and the retry time, and leaves the rest of the entry as it was", () => {
    const cache = Cache.make(RefreshRules.kubelet)
    const { id, key } = store(cache, "a", response("a", "pod-1"))
    const before = cache.entries.get(id)!
    cache.backOff(id, before, 4, iat + 60_000)
    assert.deepEqual(cache.byKey(key), { ...before, failures: 4, retryAt: iat + 60_000 })
    assert.equal(cache.removePod("pod-1"), 1)
  })
})

describe("cache.make: remove", () => {
  it("removes an entry once, from every index, counting one eviction with the cause", () => {
    const cause = "cache-entries-test-remove"
    const cache = Cache.make(RefreshRules.kubelet)
    const { id, key } = store(cache, "a", response("a", "pod-1"))
    store(cache, "b", response("b"))
    const counted = evictions(cause)
    assert.equal(cache.remove(id, cause), true)
    assert.equal(evictions(cause), counted + 1)
    assert.equal(gauge(), 1)
    assert.equal(cache.byKey(key), undefined)
    assert.equal(cache.removePod("pod-1"), 0)
    assert.equal(cache.remove(id, cause), false)
    assert.equal(evictions(cause), counted + 1)
    assert.equal(cache.entries.size, 1)
  })
})

describe("cache.make: removePod", () => {
  it("removes exactly the pod's entries from every index, counting them as evictions for cause pod", () => {
    const cache = Cache.make(RefreshRules.kubelet)
    const a = store(cache, "a", response("a", "pod-1"))
    const b = store(cache, "b", response("b", "pod-1"))
    const c = store(cache, "c", response("c", "pod-2"))
    const d = store(cache, "d", response("d"))
    const counted = evictions("pod")
    assert.equal(cache.removePod("pod-1"), 2)
    assert.equal(evictions("pod"), counted + 2)
    assert.equal(gauge(), 2)
    assert.equal(cache.byKey(a.key), undefined)
    assert.equal(cache.byKey(b.key), undefined)
    assert.deepEqual([...cache.entries.keys()].sort(), [c.id, d.id].sort())
    assert.equal(cache.byKey(c.key)?.podUID, "pod-2")
  })

  it("removes nothing and counts nothing for a pod it does not know, or one already removed", () => {
    const cache = Cache.make(RefreshRules.kubelet)
    store(cache, "a", response("a", "pod-1"))
    assert.equal(cache.removePod("pod-1"), 1)
    const counted = evictions("pod")
    assert.equal(cache.removePod("pod-1"), 0)
    assert.equal(cache.removePod("pod-3"), 0)
    assert.equal(evictions("pod"), counted)
  })
})

describe("cache.label and noTags", () => {
  it("allocates a label set once per pair, holding that one pair", () => {
    const first = Cache.label("cause", "expired")
    assert.equal(Cache.label("cause", "expired"), first)
    assert.deepEqual(first, [MetricLabel.make("cause", "expired")])
    assert.notEqual(Cache.label("cause", "pod"), first)
    assert.notEqual(Cache.label("reason", "expired"), first)
  })
  it("gives each distinct pair its own label set, even when the key or the value holds '='", () => {
    assert.deepEqual(Cache.label("a=b", "c"), [MetricLabel.make("a=b", "c")])
    assert.deepEqual(Cache.label("a", "b=c"), [MetricLabel.make("a", "b=c")])
  })
  it("noTags is empty", () => {
    assert.deepEqual(Cache.noTags, [])
  })
})
