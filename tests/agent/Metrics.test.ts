import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as TestClock from "effect/TestClock"
import * as AgentMetrics from "../../adapters/agent/AgentMetrics.ts"
import * as Metrics from "../../adapters/agent/Metrics.ts"
import * as TokenMetrics from "../../core/TokenMetrics.ts"
import { runTest } from "../_support/harness.ts"
import { fakeAgent, status } from "../_support/agentFakes.ts"

const MARKER = "MARKER-metrics-41d9-DO-NOT-LEAK"

/** Every sample line of a text exposition, with HELP/TYPE lines checked for shape on the way. */
const samples = (text: string): Array<string> => {
  const lines = text.split("\n").filter((line) => line.length > 0)
  for (const line of lines) {
    assert.match(
      line,
      /^(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*|[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})? ([-+]?[0-9.e+-]+|\+Inf|-Inf|NaN))$/,
      `not Prometheus text: ${line}`,
    )
  }
  return lines.filter((line) => !line.startsWith("#"))
}

describe("Metrics.renderSnapshot", () => {
  it("renders counters, gauges, histograms and summaries with escaped labels and one HELP/TYPE per name", async () => {
    const histogram = Metric.histogram(
      "test_render_latency_seconds",
      MetricBoundaries.linear({ start: 1, width: 1, count: 3 }),
    )
    const summary = Metric.summary({
      name: "test_render_summary",
      maxAge: "1 minute",
      maxSize: 10,
      error: 0.01,
      quantiles: [0.5],
    })
    const pairs = await Effect.runPromise(Effect.gen(function* () {
      yield* Metric.incrementBy(Metric.tagged(TokenMetrics.fetchFailures, "reason", 'Server"Error\\x\n'), 2)
      yield* Metric.incrementBy(Metric.tagged(TokenMetrics.fetchFailures, "reason", "RenderTestTimeout"), 1)
      yield* Metric.set(Metric.gauge("test_render_gauge", { description: "A gauge\nwith two lines" }), -1.5)
      yield* Metric.update(histogram, 0.5)
      yield* Metric.update(histogram, 1.5)
      yield* Metric.update(histogram, 7)
      yield* Metric.update(summary, 3)
      return yield* Metric.snapshot
    }))
    const text = Metrics.renderSnapshot(pairs)
    const lines = samples(text)
    assert.equal(text.split("\n").filter((l) => l === "# TYPE sa_token_manager_fetch_failures_total counter").length, 1)
    assert.ok(lines.includes('sa_token_manager_fetch_failures_total{reason="Server\\"Error\\\\x\\n"} 2'))
    assert.ok(lines.includes('sa_token_manager_fetch_failures_total{reason="RenderTestTimeout"} 1'))
    assert.ok(text.includes("# HELP test_render_gauge A gauge\\nwith two lines\n# TYPE test_render_gauge gauge\n"))
    assert.ok(lines.includes("test_render_gauge -1.5"))
    assert.ok(text.includes("# TYPE test_render_latency_seconds histogram"))
    assert.deepEqual(lines.filter((l) => l.startsWith("test_render_latency_seconds")), [
      'test_render_latency_seconds_bucket{le="1"} 1',
      'test_render_latency_seconds_bucket{le="2"} 2',
      'test_render_latency_seconds_bucket{le="+Inf"} 3',
      "test_render_latency_seconds_sum 9",
      "test_render_latency_seconds_count 3",
    ])
    assert.ok(text.includes("# TYPE test_render_summary summary"))
    assert.ok(lines.includes("test_render_summary_count 1"))
    assert.equal(Metrics.formatValue(Infinity), "+Inf")
    assert.equal(Metrics.formatValue(NaN), "NaN")
  })

  it("records TokenRequest latency with Clock, in seconds, labelled with the outcome", () =>
    runTest(Effect.gen(function* () {
      const success = AgentMetrics.requestDuration.pipe(Metric.tagged("outcome", "success"))
      const failure = AgentMetrics.requestDuration.pipe(Metric.tagged("outcome", "failure"))
      const before = [(yield* Metric.value(success)).count, (yield* Metric.value(failure)).count]
      const fiber = yield* Effect.fork(AgentMetrics.timed(Effect.sleep("3 seconds")))
      yield* TestClock.adjust("3 seconds")
      yield* fiber.await
      const failed = yield* Effect.fork(
        Effect.exit(AgentMetrics.timed(Effect.zipRight(Effect.sleep("1 second"), Effect.fail("no")))),
      )
      yield* TestClock.adjust("1 second")
      yield* failed.await
      const after = yield* Metric.value(success)
      assert.equal(after.count, before[0]! + 1)
      assert.ok(after.buckets.some(([le, count]) => le === 5.12 && count >= 1))
      assert.equal((yield* Metric.value(failure)).count, before[1]! + 1)
    })))

  it("folds the endpoint's request counter into one family labelled by route and code", () =>
    runTest(Effect.gen(function* () {
      yield* AgentMetrics.recordEndpointRequest("healthz", 200)
      const text = Metrics.renderSnapshot(yield* Metric.snapshot)
      assert.equal(
        text.split("\n").filter((l) => l === "# TYPE sa_token_agent_endpoint_requests_total counter").length,
        1,
      )
      assert.ok(
        samples(text).some((l) =>
          /^sa_token_agent_endpoint_requests_total\{route="healthz",code="200"\} [1-9]/.test(l)
        ),
      )
    })))
})

describe("Metrics.render", () => {
  it("adds per-token series from AgentState and never a token", () =>
    runTest(Effect.gen(function* () {
      yield* TestClock.setTime(Date.UTC(2030, 0, 1))
      const fake = fakeAgent([
        {
          status: status("app", { expiresAt: new Date(Date.UTC(2030, 0, 1, 0, 10)), refreshes: 3, failures: 2 }),
          token: `${MARKER}-app`,
        },
        { status: status("db", { phase: "failed", namespace: "data", lastError: "boom" }) },
      ], false)
      yield* AgentMetrics.recordStaleServed("app")
      yield* AgentMetrics.recordStaleServed("app")
      const text = yield* Metrics.render.pipe(Effect.provide(fake.layer))
      const lines = samples(text)
      const app = 'token="app",namespace="default",service_account="sa-app"'
      assert.ok(lines.includes(`sa_token_agent_token_expiry_seconds{${app}} 600`))
      assert.ok(lines.includes(`sa_token_agent_token_refreshes_total{${app}} 3`))
      assert.ok(lines.includes(`sa_token_agent_token_failures_total{${app}} 2`))
      assert.ok(
        lines.some((l) => l.startsWith(`sa_token_agent_token_stale_served_total{${app}} `) && !l.endsWith(" 0")),
      )
      assert.ok(lines.includes(`sa_token_agent_token_phase{${app},phase="valid"} 1`))
      assert.ok(
        lines.includes(
          'sa_token_agent_token_phase{token="db",namespace="data",service_account="sa-db",phase="failed"} 1',
        ),
      )
      assert.ok(
        !lines.some((l) => l.startsWith('sa_token_agent_token_expiry_seconds{token="db"')),
        "no expiry without a token",
      )
      assert.ok(lines.includes("sa_token_agent_ready 0"))
      assert.ok(!text.includes(MARKER))
      assert.ok(
        !text.includes("sa_token_agent_stale_served_total{"),
        "the raw stale counter is folded into per-token series",
      )
    })))
})
