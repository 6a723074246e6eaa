/**
 * a simulated day of the agent's scheduler (`adapters/agent/Scheduler.ts`) over the core manager
 * behind the agent's request budget (5/s, burst 10), with a fake fetcher that issues JWTs at simulated time. Tokens
 * of 1 h, all declared at once.
 *
 * Figures: TokenRequests per token in 24 h against kubelet's 24 h / (0.8 × lifetime) and against the agent's own
 * expected mean (refresh at 80 % minus up to 10 % of the lifetime, estimated by Monte Carlo in the same run); the most
 * TokenRequests in any one second and whether the calls conform to the token bucket; a histogram of the calls over the
 * first two hours; and a restart over valid token files (the path `Agent.start` takes) that must make 0 TokenRequests.
 *
 * Two clocks drive the day:
 * - Effect's TestClock (what the test suites use), for `AGENT_DAY_TESTCLOCK_TOKENS` tokens (default 100): its cost per
 *   wake-up grows with the number of sleeping fibers, so 10,000 tokens do not finish in minutes (see
 *   docs/benchmarks.md for the profile);
 * - the discrete-event clock of `support/simClock.ts` (a `Clock` whose sleeps go into a binary heap, and a `Scheduler`
 *   that the bench flushes after each wake-up), for `AGENT_DAY_TOKENS` tokens (default 2,000). The scheduler and
 *   budget code are the same; only the clock and the fiber scheduler differ. Both runs are reported, so the per-token
 *   figures can be compared at the small size.
 *
 * The restart uses `AGENT_DAY_RESTART_TOKENS` files (default 2,000), once all in one directory and once one directory
 * per file: with one directory every token's start-up cleanup lists the whole directory, O(n²).
 *
 * Run: `node --import tsx bench/agent-day.bench.ts`. No timing assertions; wall times are printed for information.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import process from "node:process"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as TestContext from "effect/TestContext"
import * as Agent from "../adapters/agent/Agent.ts"
import * as Budget from "../adapters/agent/Budget.ts"
import * as Config from "../adapters/agent/Config.ts"
import * as Scheduler from "../adapters/agent/Scheduler.ts"
import * as NodeLocalHttp from "../adapters/platform/NodeLocalHttp.ts"
import * as NodePrivateFile from "../adapters/platform/NodePrivateFile.ts"
import * as NodeProcessControl from "../adapters/platform/NodeProcessControl.ts"
import * as TokenFetcher from "../core/TokenFetcher.ts"
import * as TokenManager from "../core/TokenManager.ts"
import type { TokenRequest } from "../core/TokenRequest.ts"
import { epoch, issuer, jwt, spec, withinBudget } from "../support/agentFixtures.ts"
import type { Issuer } from "../support/agentFixtures.ts"
import { queueScheduler, SimClock } from "../support/simClock.ts"
import { fmt, histogram, maxPerSecond, printTable, runtimeName, sleep } from "./_util.ts"

const env = process.env
const tokensDiscrete = Number(env.AGENT_DAY_TOKENS ?? 2_000)
const tokensTestClock = Number(env.AGENT_DAY_TESTCLOCK_TOKENS ?? 100)
const tokensRestart = Number(env.AGENT_DAY_RESTART_TOKENS ?? 2_000)
const lifetimeSeconds = 3600
const lifetime = lifetimeSeconds * 1000
const day = 24 * 3600 * 1000
const qps = 5
const burst = 10
const jitter = 0.1
const platform = Layer.mergeAll(
  NodeContext.layer,
  NodePrivateFile.layer,
  NodeLocalHttp.layer,
  NodeProcessControl.layer,
)

// ---------------------------------------------------------------------------------------------------------------------
// The system under test: the agent's budget, the core manager, the agent's scheduler (as tests/agent/Scheduler.test.ts)

const setup = (fake: Issuer) =>
  Effect.gen(function* () {
    const limited = Budget.limit(fake.fetcher, yield* Budget.make({ qps, burst }))
    const manager = yield* TokenManager.make({ gc: false }).pipe(
      Effect.provide(Layer.succeed(TokenFetcher.TokenFetcher, limited)),
    )
    return yield* Scheduler.make().pipe(
      Effect.provideService(TokenManager.TokenManager, manager),
      Effect.provide(platform),
    )
  })

const specs = (n: number) =>
  Array.from({ length: n }, (_, i) => spec(`sa-${i}`, { expirationSeconds: lifetimeSeconds, jitter }))

interface DayResult {
  readonly clock: string
  readonly tokens: number
  /** Call times relative to the start, sorted, within [0, 24 h). */
  readonly times: Array<number>
  readonly wallMillis: number
}

const quiet = <A, E, R>(effect: Effect.Effect<A, E, R>) => Logger.withMinimumLogLevel(effect, LogLevel.None)

const dayUnderTestClock = async (n: number): Promise<DayResult> => {
  const fake = issuer("TC")
  const started = performance.now()
  await Effect.runPromise(
    quiet(Effect.gen(function* () {
      yield* TestClock.setTime(epoch)
      const scheduler = yield* setup(fake)
      yield* scheduler.apply(specs(n))
      yield* TestClock.adjust(day)
    })).pipe(Effect.scoped, Effect.provide(TestContext.TestContext)),
  )
  const wallMillis = performance.now() - started
  const times = fake.times.map((t) => t - epoch).filter((t) => t < day).sort((a, b) => a - b)
  return { clock: "TestClock", tokens: n, times, wallMillis }
}

const dayUnderDiscreteClock = (n: number): DayResult => {
  const fake = issuer("DE")
  const clock = new SimClock(epoch)
  const scheduler = queueScheduler()
  const started = performance.now()
  const fiber = Effect.runFork(
    quiet(Effect.gen(function* () {
      const s = yield* setup(fake)
      yield* s.apply(specs(n))
      return yield* Effect.never
    })).pipe(Effect.scoped, Effect.withClock(clock), Effect.withScheduler(scheduler.scheduler)),
  )
  scheduler.flush()
  const end = epoch + day
  let wakeUps = 0
  let firstHourWall = NaN
  while (clock.heap.size > 0 && clock.heap.peek()!.at <= end) {
    const at = clock.heap.peek()!.at
    if (at >= epoch + 3600_000 && Number.isNaN(firstHourWall)) firstHourWall = performance.now() - started
    clock.now = at
    while (clock.heap.size > 0 && clock.heap.peek()!.at === at) {
      const sleeper = clock.heap.pop()!
      if (!sleeper.cancelled) {
        wakeUps++
        sleeper.wake()
      }
    }
    scheduler.flush()
  }
  clock.now = end
  fiber.unsafeInterruptAsFork(fiber.id())
  scheduler.flush()
  const wallMillis = performance.now() - started
  const times = fake.times.map((t) => t - epoch).filter((t) => t < day).sort((a, b) => a - b)
  console.log(
    `  discrete-event clock: ${fmt(wakeUps)} wake-ups, ${fmt(fake.calls)} calls; wall time ` +
      `${fmt(firstHourWall / 1000, 1)} s for the first simulated hour (start-up), ` +
      `${fmt((wallMillis - firstHourWall) / 1000, 1)} s for the other 23`,
  )
  return { clock: "discrete-event", tokens: n, times, wallMillis }
}

// ---------------------------------------------------------------------------------------------------------------------
// Expected calls per token in 24 h without a budget: kubelet's formula, and the agent's policy by Monte Carlo

/** The first call at 0, then every 80 % of the lifetime minus u × jitter × lifetime (u uniform in [0, 1)). */
const agentExpectedCalls = (samples: number): number => {
  let total = 0
  for (let s = 0; s < samples; s++) {
    let t = 0
    let calls = 0
    while (t < day) {
      calls++
      t += 0.8 * lifetime - Math.random() * jitter * lifetime
    }
    total += calls
  }
  return total / samples
}

// ---------------------------------------------------------------------------------------------------------------------
// Restart over valid files: Config.load + Agent.start (the path `agent --config` takes) with a counting fetcher

/** `flat`: every file in one directory (`tokens/t-I`); `nested`: one directory per token (`tokens/t-I/token`). */
const restart = async (n: number, layout: "flat" | "nested") => {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "bench-restart-"))
  try {
    const now = Date.now()
    const iat = Math.floor(now / 1000) - 60
    fs.mkdirSync(nodePath.join(dir, "tokens"), { mode: 0o700 })
    const lines: Array<string> = ["log: { format: json, level: error }", "tokens:"]
    const writeStart = performance.now()
    for (let i = 0; i < n; i++) {
      const token = jwt({
        iss: "bench",
        sub: `system:serviceaccount:default:sa-${i}`,
        aud: ["https://kubernetes.default.svc"],
        iat,
        nbf: iat,
        exp: iat + lifetimeSeconds,
      })
      const file = layout === "flat" ? `tokens/t-${i}` : `tokens/t-${i}/token`
      if (layout === "nested") fs.mkdirSync(nodePath.join(dir, "tokens", `t-${i}`), { mode: 0o700 })
      fs.writeFileSync(nodePath.join(dir, file), token, { mode: 0o600 })
      lines.push(
        `  - { name: t-${i}, namespace: default, serviceAccount: sa-${i}, expirationSeconds: ${lifetimeSeconds}, file: { path: ${file} } }`,
      )
    }
    const configPath = nodePath.join(dir, "agent.yaml")
    fs.writeFileSync(configPath, lines.join("\n") + "\n")
    const writeMillis = performance.now() - writeStart
    let calls = 0
    const fetcher = TokenFetcher.make((_namespace, _name, request) =>
      Effect.sync((): TokenRequest => {
        calls++
        const t = Math.floor(Date.now() / 1000)
        return {
          ...request,
          status: {
            token: Redacted.make(jwt({ iat: t, exp: t + 3600 })),
            expirationTimestamp: new Date((t + 3600) * 1000),
          },
        }
      })
    )
    const started = performance.now()
    let readyMillis = NaN
    const exit = await Effect.runPromiseExit(
      quiet(Effect.scoped(Effect.gen(function* () {
        const config = yield* Config.load(configPath)
        const agent = yield* Agent.start(config, fetcher)
        for (let i = 0; i < 6000; i++) {
          if (yield* agent.scheduler.ready) {
            readyMillis = performance.now() - started
            break
          }
          yield* Effect.promise(() => sleep(50))
        }
        const status = yield* agent.scheduler.list
        return status.filter((s) => s.phase === "valid").length
      }))).pipe(Effect.provide(platform)),
    )
    if (Exit.isFailure(exit)) throw new Error(`restart run failed: ${String(exit.cause)}`)
    return { n, layout, calls, valid: exit.value, readyMillis, writeMillis }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Report

const kubeletPerToken = day / (0.8 * lifetime)
const agentPerToken = agentExpectedCalls(200_000)

const report = (r: DayResult) => {
  const perToken = r.times.length / r.tokens
  const most = maxPerSecond(r.times)
  const conforms = withinBudget(r.times, qps, burst)
  const firstRound = r.tokens / qps // seconds the first fetch of every token takes at 5/s (minus the burst)
  return {
    row: [
      r.clock,
      fmt(r.tokens),
      fmt(r.times.length),
      fmt(perToken, 2),
      `${fmt(perToken / kubeletPerToken, 3)} (${fmt((perToken / kubeletPerToken - 1) * 100, 1)} %)`,
      `${fmt(perToken / agentPerToken, 3)} (${fmt((perToken / agentPerToken - 1) * 100, 1)} %)`,
      fmt(most),
      conforms ? "yes" : "NO",
      `${fmt(firstRound / 60, 1)} min`,
      `${fmt(r.wallMillis / 1000, 1)} s`,
    ],
    r,
  }
}

console.log(`# agent-day: a simulated day of the agent's scheduler (${runtimeName()})`)
console.log(
  `tokens of ${lifetimeSeconds / 3600} h, jitter ${jitter * 100} % of the lifetime, budget ${qps}/s burst ${burst}; ` +
    `kubelet's 24 h / (0.8 × lifetime) = ${fmt(kubeletPerToken, 2)} calls per token; ` +
    `the agent's policy without a budget: ${fmt(agentPerToken, 3)} (Monte Carlo, 200,000 samples)`,
)
console.log(`running TestClock with ${fmt(tokensTestClock)} tokens ...`)
const small = report(await dayUnderTestClock(tokensTestClock))
console.log(`running the discrete-event clock with ${fmt(tokensTestClock)} tokens (cross-check) ...`)
const smallDiscrete = report(dayUnderDiscreteClock(tokensTestClock))
console.log(`running the discrete-event clock with ${fmt(tokensDiscrete)} tokens ...`)
const large = report(dayUnderDiscreteClock(tokensDiscrete))
console.log()
printTable(
  [
    "Clock",
    "Tokens",
    "Calls in 24 h",
    "Per token",
    "vs kubelet 80 %",
    "vs agent's mean",
    "Max in 1 s",
    "Within 5/s burst 10",
    "First fetch of all",
    "Wall time",
  ],
  [small.row, smallDiscrete.row, large.row],
)

console.log()
console.log(`Calls per 5 minutes over the first 2 hours (${fmt(large.r.tokens)} tokens, ${large.r.clock} clock):`)
const buckets = Array.from({ length: 24 }, () => 0)
for (const t of large.r.times) if (t < 2 * 3600_000) buckets[Math.floor(t / 300_000)]!++
histogram(
  buckets.map((_, i) => {
    const m = i * 5
    return `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`
  }),
  buckets,
)
console.log(`Calls per hour over the day (${fmt(large.r.tokens)} tokens):`)
const hours = Array.from({ length: 24 }, () => 0)
for (const t of large.r.times) hours[Math.floor(t / 3600_000)]!++
console.log(`  ${hours.map((h) => fmt(h)).join(" ")}`)

console.log()
const restarts = []
for (const layout of ["flat", "nested"] as const) {
  console.log(
    `restart over ${fmt(tokensRestart)} valid token files, ${layout} (Config.load + Agent.start, real clock) ...`,
  )
  restarts.push(await restart(tokensRestart, layout))
}
printTable(
  ["Restart with valid files", "Tokens", "TokenRequests", "Adopted (valid)", "Time until ready", "Target", "Met"],
  restarts.map((r) => [
    r.layout === "flat" ? "Agent.start, files in one directory" : "Agent.start, one directory per file",
    fmt(r.n),
    fmt(r.calls),
    fmt(r.valid),
    `${fmt(r.readyMillis / 1000, 2)} s`,
    "0 TokenRequests",
    r.calls === 0 && r.valid === r.n ? "yes" : "NO",
  ]),
)
