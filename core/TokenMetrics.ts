/**
 * The manager's Effect metrics. None of them has a token in a label or a value; the agent exports them in Prometheus
 * text format.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import { TokenMetrics } from "@sa-token/manager"
 * import * as Effect from "effect/Effect"
 * import * as Metric from "effect/Metric"
 *
 * const hits = Effect.runSync(Metric.value(TokenMetrics.hits))
 * assert.ok(hits.count >= 0)
 * ```
 *
 * @module
 */
import * as Metric from "effect/Metric"
import type * as MetricKeyType from "effect/MetricKeyType"
import type * as MetricState from "effect/MetricState"

/** A monotonically increasing count. */
export type Counter = Metric.Metric.Counter<number>

/** A value that goes up and down. */
export type Gauge = Metric.Metric<
  MetricKeyType.MetricKeyType.Gauge<number>,
  number,
  MetricState.MetricState.Gauge<number>
>

const counter = (name: string, description: string): Counter => Metric.counter(name, { description, incremental: true })

/** Calls answered from the cache without a fetch. */
export const hits: Counter = counter("sa_token_manager_cache_hits_total", "Token requests answered from the cache")
/** Calls that found nothing cached for their key. */
export const misses: Counter = counter("sa_token_manager_cache_misses_total", "Token requests with nothing cached")
/** Misses answered by the `TokenStore` with a token that needed no refresh (restart adoption, a shared disk cache). */
export const storeHits: Counter = counter(
  "sa_token_manager_store_hits_total",
  "Token requests answered from the token store without a fetch",
)
/** Store operations that failed, labelled with `operation`: `load` or `save`. */
export const storeFailures: Counter = counter(
  "sa_token_manager_store_failures_total",
  "Token store loads and saves that failed",
)
/** TokenRequest calls made (one per key at a time, however many callers wait). */
export const fetches: Counter = counter("sa_token_manager_fetches_total", "TokenRequest calls made")
/** TokenRequest calls that failed, labelled with `reason`. */
export const fetchFailures: Counter = counter("sa_token_manager_fetch_failures_total", "TokenRequest calls that failed")
/** Calls answered with a still-valid token after a refresh failed or while backing off. */
export const staleServed: Counter = counter(
  "sa_token_manager_stale_served_total",
  "Still-valid tokens served after a failed refresh",
)
/** Entries removed, labelled with `cause`: `pod`, `expired` or `invalidated`. */
export const evictions: Counter = counter("sa_token_manager_evictions_total", "Cache entries removed")
/** The number of cached entries. */
export const entries: Gauge = Metric.gauge("sa_token_manager_cache_entries", { description: "Cached tokens" })
