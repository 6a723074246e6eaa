import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import type * as MetricKey from "effect/MetricKey"
import * as MetricState from "effect/MetricState"
import * as Option from "effect/Option"
import * as TokenMetrics from "../../core/TokenMetrics.ts"

const counters: Record<string, TokenMetrics.Counter> = {
  sa_token_manager_cache_hits_total: TokenMetrics.hits,
  sa_token_manager_cache_misses_total: TokenMetrics.misses,
  sa_token_manager_store_hits_total: TokenMetrics.storeHits,
  sa_token_manager_store_failures_total: TokenMetrics.storeFailures,
  sa_token_manager_fetches_total: TokenMetrics.fetches,
  sa_token_manager_fetch_failures_total: TokenMetrics.fetchFailures,
  sa_token_manager_stale_served_total: TokenMetrics.staleServed,
  sa_token_manager_evictions_total: TokenMetrics.evictions,
}

// The metrics live in the process-wide registry, which other tests in the same process also update: each test here
// works on its own label value, so that it reads only what it wrote.
let run = 0
const fresh = (): string => `token-metrics-test-${run++}`

/** The registry's entry of the metric tagged `test=<id>`. */
const entry = (id: string): { key: MetricKey.MetricKey.Untyped; state: MetricState.MetricState.Untyped } => {
  const pairs = Effect.runSync(Metric.snapshot)
  const found = pairs.filter((pair) => pair.metricKey.tags.some((tag) => tag.key === "test" && tag.value === id))
  assert.equal(found.length, 1, `entries tagged ${id}: ${found.length}`)
  return { key: found[0]!.metricKey, state: found[0]!.metricState }
}

describe("TokenMetrics", () => {
  it("names each counter as Prometheus counters are named, with a description", () => {
    for (const [name, counter] of Object.entries(counters)) {
      const id = fresh()
      Effect.runSync(Metric.increment(Metric.tagged(counter, "test", id)))
      const { key } = entry(id)
      assert.equal(key.name, name)
      assert.match(key.name, /^sa_token_manager_[a-z_]+_total$/)
      assert.ok(Option.isSome(key.description) && key.description.value.length > 0, name)
    }
  })

  it("names the entries gauge and describes it", () => {
    const id = fresh()
    Effect.runSync(Metric.set(Metric.tagged(TokenMetrics.entries, "test", id), 3))
    const { key } = entry(id)
    assert.equal(key.name, "sa_token_manager_cache_entries")
    assert.deepEqual(key.description, Option.some("Cached tokens"))
  })

  it("counters only go up: a negative update is ignored", () => {
    for (const [name, counter] of Object.entries(counters)) {
      const id = fresh()
      const tagged = Metric.tagged(counter, "test", id)
      Effect.runSync(Effect.zipRight(Metric.incrementBy(tagged, 5), Metric.incrementBy(tagged, -3)))
      const { state } = entry(id)
      assert.ok(MetricState.isCounterState(state), name)
      assert.equal(state.count, 5, name)
    }
  })

  it("counts each label value apart", () => {
    const id = fresh()
    const labelled = Metric.tagged(TokenMetrics.fetchFailures, "test", id)
    Effect.runSync(Effect.all([
      Metric.incrementBy(Metric.tagged(labelled, "reason", "Timeout"), 2),
      Metric.incrementBy(Metric.tagged(labelled, "reason", "NotFound"), 1),
    ]))
    const pairs = Effect.runSync(Metric.snapshot).filter((pair) =>
      pair.metricKey.tags.some((tag) => tag.key === "test" && tag.value === id)
    )
    const counts = Object.fromEntries(pairs.map((pair) => [
      pair.metricKey.tags.find((tag) => tag.key === "reason")?.value,
      MetricState.isCounterState(pair.metricState) ? pair.metricState.count : NaN,
    ]))
    assert.deepEqual(counts, { Timeout: 2, NotFound: 1 })
  })

  it("the entries gauge goes down as well as up", () => {
    const id = fresh()
    const gauge = Metric.tagged(TokenMetrics.entries, "test", id)
    Effect.runSync(Effect.zipRight(Metric.set(gauge, 4), Metric.set(gauge, 1)))
    const { state } = entry(id)
    assert.ok(MetricState.isGaugeState(state))
    assert.equal(state.value, 1)
  })
})
