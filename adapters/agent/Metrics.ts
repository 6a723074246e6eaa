/**
 * The agent's metrics in Prometheus text exposition format (version 0.0.4): every Effect metric registered in the
 * process (the core's counters and gauges, the agent's own from `AgentMetrics.ts`, anything tagged with labels),
 * followed by per-token series computed from {@link AgentState} at scrape time. This module defines no metric.
 *
 * Labels are metric tags, token names, namespaces, service accounts, phases and reasons; no label or value ever holds
 * a token.
 *
 * @example Per-token series at scrape time
 * ```ts
 * import assert from "node:assert/strict"
 * import { AgentState, Metrics } from "@sa-token/manager/agent"
 *
 * const now = Date.parse("2030-01-01T00:00:00Z")
 * const status: AgentState.TokenStatus = {
 *   name: "vault",
 *   namespace: "default",
 *   serviceAccount: "builder",
 *   key: "builder/default",
 *   phase: "valid",
 *   expiresAt: new Date(now + 600_000),
 *   refreshes: 3,
 *   failures: 0,
 * }
 * const text = Metrics.renderTokens([status], now, { ready: true })
 * assert.match(text, /^sa_token_agent_ready 1$/m)
 * assert.match(text, /token="vault"/)
 * ```
 *
 * @module
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as MetricKeyType from "effect/MetricKeyType"
import type * as MetricPair from "effect/MetricPair"
import * as MetricState from "effect/MetricState"
import * as Option from "effect/Option"
import { staleServedName } from "./AgentMetrics.ts"
import { AgentState } from "./AgentState.ts"
import type { TokenPhase, TokenStatus } from "./AgentState.ts"

const sanitizeName = (name: string): string => {
  const s = name.replace(/[^a-zA-Z0-9_:]/g, "_")
  return /^[a-zA-Z_:]/.test(s) ? s : `_${s}`
}

const sanitizeLabel = (name: string): string => {
  const s = name.replace(/[^a-zA-Z0-9_]/g, "_")
  return /^[a-zA-Z_]/.test(s) && !s.startsWith("__") ? s : `_${s.replace(/^_+/, "")}`
}

const escapeValue = (value: string): string => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')

const escapeHelp = (text: string): string => text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")

/** Formats a sample value the way Prometheus parses it (`+Inf`, `-Inf`, `NaN`). */
export const formatValue = (value: number | bigint): string =>
  typeof value === "bigint"
    ? value.toString()
    : Number.isNaN(value)
    ? "NaN"
    : value === Infinity
    ? "+Inf"
    : value === -Infinity
    ? "-Inf"
    : String(value)

type Labels = ReadonlyArray<readonly [string, string]>

const renderLabels = (labels: Labels): string =>
  labels.length === 0 ? "" : `{${labels.map(([k, v]) => `${sanitizeLabel(k)}="${escapeValue(v)}"`).join(",")}}`

const sample = (name: string, labels: Labels, value: number | bigint): string =>
  `${name}${renderLabels(labels)} ${formatValue(value)}\n`

type PromType = "counter" | "gauge" | "histogram" | "summary"

interface Family {
  readonly type: PromType
  readonly help: string
  readonly lines: Array<string>
}

const typeOf = (pair: MetricPair.MetricPair.Untyped): PromType | undefined => {
  const keyType = pair.metricKey.keyType
  return MetricKeyType.isCounterKey(keyType)
    ? (keyType.incremental ? "counter" : "gauge")
    : MetricKeyType.isGaugeKey(keyType) || MetricKeyType.isFrequencyKey(keyType)
    ? "gauge"
    : MetricKeyType.isHistogramKey(keyType)
    ? "histogram"
    : MetricKeyType.isSummaryKey(keyType)
    ? "summary"
    : undefined
}

const samplesOf = (name: string, labels: Labels, state: unknown): Array<string> => {
  if (MetricState.isCounterState(state)) return [sample(name, labels, state.count)]
  if (MetricState.isGaugeState(state)) return [sample(name, labels, state.value)]
  if (MetricState.isFrequencyState(state)) {
    return [...state.occurrences].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
      .map(([key, count]) => sample(name, [...labels, ["key", key]], count))
  }
  if (MetricState.isHistogramState(state)) {
    const buckets = state.buckets.map(([le, count]) =>
      sample(`${name}_bucket`, [...labels, ["le", formatValue(le)]], count)
    )
    const hasInf = state.buckets.some(([le]) => le === Infinity)
    return [
      ...buckets,
      ...(hasInf ? [] : [sample(`${name}_bucket`, [...labels, ["le", "+Inf"]], state.count)]),
      sample(`${name}_sum`, labels, state.sum),
      sample(`${name}_count`, labels, state.count),
    ]
  }
  if (MetricState.isSummaryState(state)) {
    return [
      ...state.quantiles.flatMap(([q, value]) =>
        Option.isSome(value) ? [sample(name, [...labels, ["quantile", formatValue(q)]], value.value)] : []
      ),
      sample(`${name}_sum`, labels, state.sum),
      sample(`${name}_count`, labels, state.count),
    ]
  }
  return []
}

const renderFamilies = (families: ReadonlyMap<string, Family>): string =>
  [...families].map(([name, family]) =>
    `# HELP ${name} ${escapeHelp(family.help)}\n# TYPE ${name} ${family.type}\n${family.lines.join("")}`
  ).join("")

/**
 * Renders a snapshot of Effect metrics (`Metric.snapshot`) in Prometheus text format, grouped by metric name and sorted
 * by name and labels. A name registered with two different metric types keeps the first type's series only, and a
 * series registered twice (same name and labels, another description) is shown once.
 */
export const renderSnapshot = (pairs: ReadonlyArray<MetricPair.MetricPair.Untyped>): string => {
  const rows = pairs.flatMap((pair) => {
    const type = typeOf(pair)
    if (type === undefined) return []
    const labels: Labels = pair.metricKey.tags.map((tag) => [tag.key, tag.value] as const)
    return [{ pair, type, name: sanitizeName(pair.metricKey.name), sortKey: renderLabels(labels), labels }]
  }).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0
  )
  const families = new Map<string, Family>()
  const seen = new Set<string>()
  for (const row of rows) {
    let family = families.get(row.name)
    if (family === undefined) {
      family = { type: row.type, help: Option.getOrElse(row.pair.metricKey.description, () => row.name), lines: [] }
      families.set(row.name, family)
    }
    const series = `${row.name}${row.sortKey}`
    if (family.type === row.type && !seen.has(series)) {
      seen.add(series)
      family.lines.push(...samplesOf(row.name, row.labels, row.pair.metricState))
    }
  }
  return renderFamilies(families)
}

const phases: ReadonlyArray<TokenPhase> = ["pending", "valid", "stale", "failed", "expired"]

const staleServedByName = (pairs: ReadonlyArray<MetricPair.MetricPair.Untyped>): Map<string, number> => {
  const counts = new Map<string, number>()
  for (const pair of pairs) {
    if (pair.metricKey.name !== staleServedName) continue
    const name = pair.metricKey.tags.find((tag) => tag.key === "token")?.value
    if (name !== undefined && MetricState.isCounterState(pair.metricState)) {
      counts.set(name, (counts.get(name) ?? 0) + Number(pair.metricState.count))
    }
  }
  return counts
}

/** What {@link renderTokens} shows besides the statuses. */
export interface TokenSeriesOptions {
  /** Stale tokens served, by token name. @default none */
  readonly staleServed?: ReadonlyMap<string, number> | undefined
  /** Whether the agent is ready (`AgentState.ready`); omitted means no `sa_token_agent_ready` series. */
  readonly ready?: boolean | undefined
}

/**
 * Renders the per-token series of the agent: seconds to expiry, refreshes, failures, stale tokens served, the time of
 * the last refresh, the phase (as a state set) and readiness.
 */
export const renderTokens = (
  statuses: ReadonlyArray<TokenStatus>,
  nowMillis: number,
  options: TokenSeriesOptions = {},
): string => {
  const staleServed = options.staleServed ?? new Map<string, number>()
  const families = new Map<string, Family>()
  const add = (name: string, type: PromType, help: string, line: string | undefined) => {
    let family = families.get(name)
    if (family === undefined) families.set(name, family = { type, help, lines: [] })
    if (line !== undefined) family.lines.push(line)
  }
  const prefix = "sa_token_agent_token_"
  for (const status of statuses) {
    const labels: Labels = [["token", status.name], ["namespace", status.namespace], [
      "service_account",
      status.serviceAccount,
    ]]
    add(
      `${prefix}expiry_seconds`,
      "gauge",
      "Seconds until the current token expires (negative once expired)",
      status.expiresAt === undefined
        ? undefined
        : sample(`${prefix}expiry_seconds`, labels, (status.expiresAt.getTime() - nowMillis) / 1000),
    )
    add(
      `${prefix}refreshes_total`,
      "counter",
      "Tokens obtained by the agent",
      sample(`${prefix}refreshes_total`, labels, status.refreshes),
    )
    add(
      `${prefix}failures_total`,
      "counter",
      "Failed token refreshes",
      sample(`${prefix}failures_total`, labels, status.failures),
    )
    add(
      `${prefix}stale_served_total`,
      "counter",
      "Still-valid tokens served after a failed refresh",
      sample(`${prefix}stale_served_total`, labels, staleServed.get(status.name) ?? 0),
    )
    add(
      `${prefix}last_refresh_timestamp_seconds`,
      "gauge",
      "When the token was last refreshed, in seconds since the Unix epoch",
      status.lastRefresh === undefined
        ? undefined
        : sample(`${prefix}last_refresh_timestamp_seconds`, labels, status.lastRefresh.getTime() / 1000),
    )
    for (const phase of phases) {
      add(
        `${prefix}phase`,
        "gauge",
        "The token's phase (1 for the current phase)",
        sample(`${prefix}phase`, [...labels, ["phase", phase]], status.phase === phase ? 1 : 0),
      )
    }
  }
  if (options.ready !== undefined) {
    const line = sample("sa_token_agent_ready", [], options.ready ? 1 : 0)
    add("sa_token_agent_ready", "gauge", "1 when every declared token is valid", line)
  }
  return renderFamilies(new Map([...families].filter(([, family]) => family.lines.length > 0)))
}

/** The content type of the Prometheus text exposition format. */
export const contentType = "text/plain; version=0.0.4; charset=utf-8"

/** Everything `/metrics` shows: all Effect metrics, then the per-token series of the {@link AgentState}. */
export const render: Effect.Effect<string, never, AgentState> = Effect.gen(function* () {
  const state = yield* AgentState
  const pairs = yield* Metric.snapshot
  const statuses = yield* state.list
  const ready = yield* state.ready
  const now = yield* Clock.currentTimeMillis
  const others = pairs.filter((pair) => pair.metricKey.name !== staleServedName)
  return renderSnapshot(others) + renderTokens(statuses, now, { staleServed: staleServedByName(pairs), ready })
})
