/**
 * The agent's Effect metrics, beside the manager's (`core/TokenMetrics.ts`): every counter and histogram the agent
 * records, and the helpers that record them. `Metrics.ts` renders them (and every other registered metric) for
 * `/metrics`. Labels hold declared token names, routes, codes and outcomes only, never a token. Seconds to expiry are
 * not a metric: `AgentState.list` has each token's `expiresAt`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import { AgentMetrics } from "@sa-token/manager/agent"
 * import * as Effect from "effect/Effect"
 * import * as Metric from "effect/Metric"
 *
 * const count = await Effect.gen(function* () {
 *   yield* AgentMetrics.countFor(AgentMetrics.refreshes, "example-token")
 *   return yield* Metric.value(AgentMetrics.refreshes.pipe(Metric.tagged("token", "example-token")))
 * }).pipe(Effect.runPromise)
 * assert.equal(count.count, 1)
 * ```
 *
 * @module
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import type * as MetricKeyType from "effect/MetricKeyType"
import * as MetricLabel from "effect/MetricLabel"
import type * as MetricState from "effect/MetricState"

/** A monotonically increasing count. */
export type Counter = Metric.Metric.Counter<number>

/** A histogram of durations in seconds. */
export type Histogram = Metric.Metric<
  MetricKeyType.MetricKeyType.Histogram,
  number,
  MetricState.MetricState.Histogram
>

/** Successful scheduled refreshes, labelled with `token` (the declared name). */
export const refreshes: Counter = Metric.counter("sa_token_agent_refreshes_total", {
  description: "Tokens refreshed by the agent",
  incremental: true,
})

/** Failed scheduled refreshes or writes, labelled with `token`. */
export const failures: Counter = Metric.counter("sa_token_agent_refresh_failures_total", {
  description: "Failed token refreshes or file writes",
  incremental: true,
})

/** Times a TokenRequest call waited for the budget. */
export const budgetWaited: Counter = Metric.counter("sa_token_agent_budget_waits_total", {
  description: "TokenRequest calls delayed by the request budget",
  incremental: true,
})

/** TokenRequest latency in seconds, labelled with `outcome` (`success` or `failure`). */
export const requestDuration: Histogram = Metric.histogram(
  "sa_token_agent_token_request_duration_seconds",
  MetricBoundaries.exponential({ start: 0.005, factor: 2, count: 14 }),
  "TokenRequest call latency",
)

/** The name of {@link staleServed}, whose series `/metrics` folds into per-token ones. */
export const staleServedName: string = "sa_token_agent_stale_served_total"

/** Still-valid tokens served while their refresh was failing, labelled with `token`. */
export const staleServed: Counter = Metric.counter(staleServedName, {
  description: "Still-valid tokens served by the agent after a failed refresh",
  incremental: true,
})

/** Requests answered by the local endpoint, labelled with `route` (`token`, `healthz`, `readyz`, `metrics`, `other`) and `code`. */
export const endpointRequests: Counter = Metric.counter("sa_token_agent_endpoint_requests_total", {
  description: "Requests answered by the local endpoint",
  incremental: true,
})

/** Counts one budget wait. */
export const budgetWaits: Effect.Effect<void> = Metric.increment(budgetWaited)

/** Increments a counter labelled with a token's declared name. */
export const countFor = (counter: Counter, token: string): Effect.Effect<void> =>
  Metric.increment(counter).pipe(Effect.tagMetrics("token", token))

/** Records an effect's duration (by `Clock`) in {@link requestDuration}, labelled with its outcome. */
export const timed = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(
    Clock.currentTimeMillis,
    (start) =>
      Effect.onExit(effect, (exit) =>
        Effect.flatMap(Clock.currentTimeMillis, (end) =>
          Metric.update(
            requestDuration.pipe(Metric.tagged("outcome", exit._tag === "Success" ? "success" : "failure")),
            (end - start) / 1000,
          ))),
  )

/** Counts one stale token served for a declared token name. */
export const recordStaleServed = (token: string): Effect.Effect<void> => countFor(staleServed, token)

/** Counts one answered endpoint request. */
export const recordEndpointRequest = (route: string, code: number): Effect.Effect<void> =>
  Metric.increment(
    Metric.taggedWithLabels(endpointRequests, [
      MetricLabel.make("route", route),
      MetricLabel.make("code", String(code)),
    ]),
  )
