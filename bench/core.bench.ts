/**
 * Benchmarks of the core against the plain-TypeScript kubelet port in `baseline.ts`, measured in the same process:
 *
 * 1. a cache hit inside a running fiber against the baseline's hit (which renders kubelet's key string on every call)
 *    and against a hand-rolled `Map` cache keyed by `JSON.stringify` of the same fields, with the same clock read and
 *    jitter draw per call (`HandRolledCache`: the ten lines a user would write instead);
 * 2. a cold key asked for by 1,000 concurrent callers while the fetcher takes 50 ms;
 * 3. 100,000 cached tokens over 10,000 pods: delete by pod, cleanup with 1 % expired, heap bytes per entry.
 *
 * Run: `node --expose-gc --import tsx bench/core.bench.ts`
 * (also `npx deno run -A --v8-flags=--expose-gc bench/core.bench.ts` and `npx bun bench/core.bench.ts`).
 * Absolute times depend on the machine; the ratios are the figures. Figure 1 is CPU time per call; the others are wall
 * time. A missed target makes the exit code 1.
 */
import process from "node:process"
import * as Clock from "effect/Clock"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as TokenFetcher from "../core/TokenFetcher.ts"
import * as TokenManager from "../core/TokenManager.ts"
import type { TokenRequest } from "../core/TokenRequest.ts"
import { BaselineManager, HandRolledCache } from "./baseline.ts"
import type { BaselineTokenRequest } from "./baseline.ts"

/** Round `round` of a paired measurement: the core first on even rounds, the baseline first on odd ones. */
const inTurn = <E, R>(
  round: number,
  core: Effect.Effect<void, E, R>,
  baseline: () => void,
): Effect.Effect<void, E, R> =>
  round % 2 === 0 ? Effect.zipLeft(core, Effect.sync(baseline)) : Effect.zipRight(Effect.sync(baseline), core)

// ---------------------------------------------------------------------------------------------------------------------
// Environment

const host = globalThis as unknown as {
  gc?: () => void
  Bun?: { gc: (force: boolean) => void; version: string }
  Deno?: { version: { deno: string } }
}
const runtime = host.Bun !== undefined
  ? `Bun ${host.Bun.version}`
  : host.Deno !== undefined
  ? `Deno ${host.Deno.version.deno}`
  : `Node ${process.version}`
const gc: (() => void) | undefined = typeof host.gc === "function"
  ? () => host.gc!()
  : host.Bun !== undefined
  ? () => host.Bun!.gc(true)
  : undefined
const collect = () => {
  if (gc !== undefined) { for (let i = 0; i < 3; i++) gc() }
}
const heapUsed = (): number => {
  collect()
  return process.memoryUsage().heapUsed
}

const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

// ---------------------------------------------------------------------------------------------------------------------
// Report

interface Row {
  readonly figure: string
  readonly core: string
  readonly baseline: string
  readonly ratio: string
  readonly target: string
  readonly met: string
}
const rows: Array<Row> = []
const row = (figure: string, core: string, baseline: string, ratio: string, target = "", met = ""): void => {
  rows.push({ figure, core, baseline, ratio, target, met })
}
const fmt = (x: number, digits = 0): string => x.toLocaleString("en-US", { maximumFractionDigits: digits })
const ns = (x: number): string => `${fmt(x, 1)} ns`
const us = (x: number): string => `${fmt(x, 2)} µs`
const ms = (x: number): string => `${fmt(x, 2)} ms`
const times = (x: number): string => `${fmt(x, 2)}x`
const check = (ok: boolean): string => (ok ? "yes" : "NO")

const printTable = (): void => {
  const headers: Row = {
    figure: "Figure",
    core: "Core",
    baseline: "Baseline",
    ratio: "Core / baseline",
    target: "Target",
    met: "Met",
  }
  const keys = Object.keys(headers) as Array<keyof Row>
  const widths = keys.map((k) => Math.max(headers[k].length, ...rows.map((r) => r[k].length)))
  const line = (r: Row) => `| ${keys.map((k, i) => r[k].padEnd(widths[i])).join(" | ")} |`
  console.log(line(headers))
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`)
  for (const r of rows) console.log(line(r))
}

// ---------------------------------------------------------------------------------------------------------------------
// Shared fixtures

/** A clock whose time the benchmark sets; used where tokens must expire without waiting. */
const manualClock = (start: number) => {
  let now = start
  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => now,
    currentTimeMillis: Effect.sync(() => now),
    unsafeCurrentTimeNanos: () => BigInt(now) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => BigInt(now) * 1_000_000n),
    sleep: (_: Duration.Duration) => Effect.never,
  }
  return { clock, now: () => now, set: (millis: number) => void (now = millis) }
}

/** A unique, flat (not a rope) token of `size` characters. */
const makeToken = (i: number, size: number): string => {
  const head = `eyJhbGciOiJFUzI1NiJ9.${i.toString(36)}.`
  const body = head + "x".repeat(Math.max(0, size - head.length))
  return JSON.parse(JSON.stringify(body)) as string
}

/** The same request for the baseline (its type differs only in the token, which a request does not carry). */
const toBaseline = (request: TokenRequest): BaselineTokenRequest => request as BaselineTokenRequest

// ---------------------------------------------------------------------------------------------------------------------
// 1. Cache hit inside a running fiber

const benchHits = async (): Promise<void> => {
  const N = 200_000
  const ROUNDS = 9
  const namespace = "default"
  const name = "builder"
  const request: TokenRequest = {
    spec: {
      audiences: ["vault"],
      expirationSeconds: 3600,
      boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "web-0", uid: "4f8e7d3c-2b1a-4c5d-9e8f-0a1b2c3d4e5f" },
    },
  }
  const fetcher = TokenFetcher.layer((_ns, _name, req) =>
    Effect.sync(() => ({
      ...req,
      status: { token: Redacted.make(makeToken(0, 1024)), expirationTimestamp: new Date(Date.now() + 3600_000) },
    }))
  )
  const baseline = new BaselineManager((_name, _ns, req) => ({
    ...req,
    status: { token: makeToken(0, 1024), expirationTimestamp: new Date(Date.now() + 3600_000) },
  }))
  const baselineRequest = toBaseline(request)
  const baselineLoop = (n: number): number => {
    let sink = 0
    for (let i = 0; i < n; i++) if (baseline.getServiceAccountToken(namespace, name, baselineRequest).status) sink++
    return sink
  }
  const handRolled = new HandRolledCache((_name, _ns, req) => ({
    ...req,
    status: { token: makeToken(0, 1024), expirationTimestamp: new Date(Date.now() + 3600_000) },
  }))
  const handRolledLoop = (n: number): number => {
    let sink = 0
    for (let i = 0; i < n; i++) if (handRolled.get(namespace, name, baselineRequest).status) sink++
    return sink
  }
  // Two keys asked for in turn: no caller asks for the same request twice in a row.
  const other: TokenRequest = { spec: { ...request.spec, audiences: ["vault", "consul"] } }
  const pair = [request, other] as const
  const handRolledPairLoop = (n: number): number => {
    let sink = 0
    for (let i = 0; i < n; i++) if (handRolled.get(namespace, name, toBaseline(pair[i & 1]!)).status) sink++
    return sink
  }

  const program = Effect.gen(function* () {
    const manager = yield* TokenManager.make({ gc: false }).pipe(Effect.provide(fetcher))
    const get = manager.getServiceAccountToken
    const genLoop = (n: number) =>
      Effect.gen(function* () {
        let sink = 0
        for (let i = 0; i < n; i++) if ((yield* get(namespace, name, request)).status) sink++
        return sink
      })
    const pairLoop = (n: number) =>
      Effect.gen(function* () {
        let sink = 0
        for (let i = 0; i < n; i++) if ((yield* get(namespace, name, pair[i & 1]!)).status) sink++
        return sink
      })
    const indices = Array.from({ length: N }, (_, i) => i)
    const forEachLoop = Effect.forEach(indices, () => get(namespace, name, request), { discard: true })
    // CPU time of the process, not wall time: the loops are synchronous, and CPU time does not count the moments
    // another process had the core, so the ratios hold on a busy machine.
    const cpu = (): number => {
      const usage = process.cpuUsage()
      return usage.user + usage.system
    }
    const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.suspend(() => {
        const t0 = cpu()
        return Effect.map(effect, () => ((cpu() - t0) * 1e3) / N)
      })
    // Prime the caches and warm up the JIT.
    yield* get(namespace, name, request)
    yield* get(namespace, name, other)
    baseline.getServiceAccountToken(namespace, name, baselineRequest)
    yield* genLoop(N)
    yield* pairLoop(N)
    yield* forEachLoop
    baselineLoop(N)
    handRolledLoop(N)
    handRolledPairLoop(N)
    const gen: Array<number> = []
    const each: Array<number> = []
    const base: Array<number> = []
    const hand: Array<number> = []
    const corePair: Array<number> = []
    const handPair: Array<number> = []
    for (let r = 0; r < ROUNDS; r++) {
      gen.push(yield* timed(genLoop(N)))
      each.push(yield* timed(forEachLoop))
      base.push(yield* timed(Effect.sync(() => baselineLoop(N))))
      hand.push(yield* timed(Effect.sync(() => handRolledLoop(N))))
      corePair.push(yield* timed(pairLoop(N)))
      handPair.push(yield* timed(Effect.sync(() => handRolledPairLoop(N))))
    }
    return {
      gen: median(gen),
      each: median(each),
      base: median(base),
      hand: median(hand),
      corePair: median(corePair),
      handPair: median(handPair),
    }
  })
  const { base, corePair, each, gen, hand, handPair } = await Effect.runPromise(Effect.scoped(program))
  row(
    "1. cache hit, loop of gets in one Effect.gen (vs kubelet's key port)",
    ns(gen),
    ns(base),
    times(gen / base),
    "<= 3x",
    check(gen / base <= 3),
  )
  row(
    "1. cache hit, Effect.forEach discard (vs kubelet's key port)",
    ns(each),
    ns(base),
    times(each / base),
    "<= 3x",
    check(each / base <= 3),
  )
  row(
    "1. cache hit (Effect.gen) vs a hand-rolled Map cache",
    ns(gen),
    ns(hand),
    times(gen / hand),
    "<= 2x",
    check(gen / hand <= 2),
  )
  row("1. cache hit (Effect.forEach) vs a hand-rolled Map cache", ns(each), ns(hand), times(each / hand))
  row(
    "1. cache hit, two keys in turn (Effect.gen) vs a hand-rolled Map cache",
    ns(corePair),
    ns(handPair),
    times(corePair / handPair),
  )
  row("1. hits per second per core (Effect.gen)", `${fmt(1e9 / gen)}/s`, `${fmt(1e9 / base)}/s`, times(base / gen))
}

// ---------------------------------------------------------------------------------------------------------------------
// 2. Cold key under concurrency

const benchColdKey = async (): Promise<void> => {
  const CALLERS = 1000
  const LATENCY = 50
  const WARMUP = 2
  const ROUNDS = 5
  /** A fresh key per round: the audience changes. */
  const requestFor = (round: number): TokenRequest => ({
    spec: {
      audiences: [`vault-${round}`],
      expirationSeconds: 3600,
      boundObjectRef: { kind: "Pod", name: "p", uid: "u" },
    },
  })
  let coreCalls = 0
  const fetcher = TokenFetcher.layer((_ns, _name, req) =>
    Effect.sleep(LATENCY).pipe(Effect.as({
      ...req,
      status: {
        token: Redacted.make(`token-${++coreCalls}`),
        expirationTimestamp: new Date(Date.now() + 3600_000),
      },
    }))
  )
  const core = await Effect.runPromise(Effect.scoped(Effect.gen(function* () {
    const manager = yield* TokenManager.make({ gc: false }).pipe(Effect.provide(fetcher))
    const times: Array<number> = []
    const floors: Array<number> = []
    const calls: Array<number> = []
    let allAnswered = true
    for (let round = 0; round < WARMUP + ROUNDS; round++) {
      const before = coreCalls
      const t0 = performance.now()
      const responses = yield* Effect.forEach(
        Array.from({ length: CALLERS }),
        () => manager.getServiceAccountToken("default", "builder", requestFor(round)),
        { concurrency: "unbounded" },
      )
      const elapsed = performance.now() - t0
      const tokens = new Set(responses.map((r) => (r.status ? Redacted.value(r.status.token) : "")))
      // Effect's own floor: the same number of fibers doing nothing but sleeping for the fetch latency.
      const t1 = performance.now()
      yield* Effect.forEach(Array.from({ length: CALLERS }), () => Effect.sleep(LATENCY), { concurrency: "unbounded" })
      const floor = performance.now() - t1
      if (round < WARMUP) continue
      times.push(elapsed)
      floors.push(floor)
      calls.push(coreCalls - before)
      allAnswered &&= responses.length === CALLERS && tokens.size === 1 && !tokens.has("")
    }
    return { elapsed: median(times), floor: median(floors), calls: Math.max(...calls), allAnswered }
  })))

  let baselineCalls = 0
  const baseline = new BaselineManager(async (_name, _ns, req) => {
    const n = ++baselineCalls
    await new Promise((resolve) => setTimeout(resolve, LATENCY))
    return { ...req, status: { token: `token-${n}`, expirationTimestamp: new Date(Date.now() + 3600_000) } }
  })
  const baseTimes: Array<number> = []
  const baseCalls: Array<number> = []
  let baseTokens = 0
  for (let round = 0; round < WARMUP + ROUNDS; round++) {
    const before = baselineCalls
    const t0 = performance.now()
    const responses = await Promise.all(
      Array.from(
        { length: CALLERS },
        () => baseline.getServiceAccountTokenAsync("default", "builder", toBaseline(requestFor(round))),
      ),
    )
    if (round < WARMUP) continue
    baseTimes.push(performance.now() - t0)
    baseCalls.push(baselineCalls - before)
    baseTokens = new Set(responses.map((r) => r.status?.token)).size
  }
  const baseElapsed = median(baseTimes)

  row(
    "2. cold key, 1,000 callers: fetcher calls per key",
    fmt(core.calls),
    fmt(Math.max(...baseCalls)),
    `${fmt(core.calls / Math.max(...baseCalls), 3)}x`,
    "core = 1",
    check(core.calls === 1),
  )
  row(
    "2. cold key: every caller got the one token",
    core.allAnswered ? "1,000 callers, 1 token" : "NO",
    `1,000 callers, ${fmt(baseTokens)} tokens`,
    "",
    "all 1,000",
    check(core.allAnswered),
  )
  row(
    `2. cold key: total time / 50 ms fetch, median of ${ROUNDS}`,
    `${ms(core.elapsed)} (${times(core.elapsed / LATENCY)})`,
    `${ms(baseElapsed)} (${times(baseElapsed / LATENCY)})`,
    times(core.elapsed / baseElapsed),
  )
  row(
    "2. Effect floor: 1,000 fibers sleeping 50 ms",
    `${ms(core.floor)} (${times(core.floor / LATENCY)})`,
    "",
    `cold key = ${times(core.elapsed / core.floor)} floor`,
  )
}

// ---------------------------------------------------------------------------------------------------------------------
// 3. Scale: 100,000 tokens over 10,000 pods

const PODS = 10_000
const PER_POD = 10
const TOTAL = PODS * PER_POD
const TOKEN_SIZE = 1024
const START = Date.UTC(2030, 0, 1)
/** Ten strata of 1 % each expire at 11, 12, …, 20 minutes; the rest live an hour. */
const STRATA = 10
const lifetimeSeconds = (i: number): number => (i % 100 < STRATA ? 660 + 60 * (i % 100) : 3600)
const podUID = (pod: number) => `pod-uid-${pod}`
const scaleRequest = (i: number): TokenRequest => {
  const pod = Math.floor(i / PER_POD)
  return {
    spec: {
      audiences: [`audience-${i % PER_POD}`],
      expirationSeconds: 3600,
      boundObjectRef: { kind: "Pod", apiVersion: "v1", name: `pod-${pod}`, uid: podUID(pod) },
    },
  }
}
/** The token id travels in metadata.name so that both fetchers issue the same token for the same entry. */
const withId = (i: number): TokenRequest => ({ ...scaleRequest(i), metadata: { name: `sa-${i}` } })

const benchScale = async (): Promise<void> => {
  const DELETES = 200
  const deletedPods = Array.from({ length: DELETES }, (_, k) => 37 + k * 47)

  // Baseline: populate, measure the heap.
  const baseClock = manualClock(START)
  const issue = (req: TokenRequest | BaselineTokenRequest, now: number) => {
    const i = Number(req.metadata!.name!.slice(3))
    const lifetime = lifetimeSeconds(i)
    return {
      spec: { ...req.spec, expirationSeconds: lifetime },
      token: makeToken(i, TOKEN_SIZE),
      expirationTimestamp: new Date(now + lifetime * 1000),
    }
  }
  const heap0 = heapUsed()
  // Populated through its asynchronous path, as a real port with a network fetcher would be (and as the core is).
  let baseline: BaselineManager | undefined = new BaselineManager(
    (_name, _ns, req) => {
      const { expirationTimestamp, spec, token } = issue(req, baseClock.now())
      return Promise.resolve({ spec, status: { token, expirationTimestamp } })
    },
    baseClock.now,
  )
  for (let i = 0; i < TOTAL; i++) {
    await baseline.getServiceAccountTokenAsync("default", `sa-${i % 7}`, toBaseline(withId(i)))
  }
  const heap1 = heapUsed()
  const baselineBytes = (heap1 - heap0) / TOTAL

  // Core: populate through getServiceAccountToken (every one a miss and a fetch), measure the heap.
  const coreClock = manualClock(START)
  const fetcher = TokenFetcher.layer((_ns, _name, req) =>
    Effect.sync(() => {
      const { expirationTimestamp, spec, token } = issue(req, coreClock.now())
      return { spec, status: { token: Redacted.make(token), expirationTimestamp } }
    })
  )
  const result = await Effect.runPromise(Effect.scoped(Effect.gen(function* () {
    const heap2 = heapUsed()
    const manager = yield* TokenManager.make({ gc: false }).pipe(
      Effect.provide(fetcher),
      Effect.withClock(coreClock.clock),
    )
    for (let i = 0; i < TOTAL; i++) {
      yield* manager.getServiceAccountToken("default", `sa-${i % 7}`, withId(i))
    }
    const heap3 = heapUsed()
    const coreBytes = (heap3 - heap2) / TOTAL
    const coreSize = yield* manager.size
    const baselineSize = baseline!.cache.size

    // Delete one pod (10 tokens), repeated over many pods, interleaved core / baseline in alternating order.
    const coreDeletes: Array<number> = []
    const baseDeletes: Array<number> = []
    let coreRemoved = 0
    const coreDelete = (pod: number) =>
      Effect.suspend(() => {
        const t0 = performance.now()
        return Effect.map(manager.deleteServiceAccountToken(podUID(pod)), (n) => {
          coreDeletes.push(performance.now() - t0)
          coreRemoved += n
        })
      })
    const baseDelete = (pod: number) => {
      const t0 = performance.now()
      baseline!.deleteServiceAccountToken(podUID(pod))
      baseDeletes.push(performance.now() - t0)
    }
    for (const [k, pod] of deletedPods.entries()) {
      yield* inTurn(k, coreDelete(pod), () => baseDelete(pod))
    }
    const baselineRemoved = baselineSize - baseline!.cache.size

    // Cleanup with 1 % expired: ten rounds, each moving both clocks past one more stratum (alternating order).
    const coreCleanups: Array<number> = []
    const baseCleanups: Array<number> = []
    const coreCleaned: Array<number> = []
    const baseCleaned: Array<number> = []
    const coreCleanup = Effect.suspend(() => {
      const t0 = performance.now()
      return Effect.map(manager.cleanup, (n) => {
        coreCleanups.push(performance.now() - t0)
        coreCleaned.push(n)
      })
    })
    const baseCleanup = () => {
      const before = baseline!.cache.size
      const t0 = performance.now()
      baseline!.cleanup()
      baseCleanups.push(performance.now() - t0)
      baseCleaned.push(before - baseline!.cache.size)
    }
    for (let r = 0; r < STRATA; r++) {
      const at = START + (660 + 60 * r + 30) * 1000
      coreClock.set(at)
      baseClock.set(at)
      yield* inTurn(r, coreCleanup, baseCleanup)
    }
    // Cleanup with nothing expired: the scan alone, twenty times, alternating order.
    const coreScans: Array<number> = []
    const baseScans: Array<number> = []
    for (let r = 0; r < 20; r++) {
      const coreScan = Effect.suspend(() => {
        const t0 = performance.now()
        return Effect.map(manager.cleanup, () => void coreScans.push(performance.now() - t0))
      })
      const baseScan = () => {
        const t0 = performance.now()
        baseline!.cleanup()
        baseScans.push(performance.now() - t0)
      }
      yield* inTurn(r, coreScan, baseScan)
    }
    return {
      coreScan: median(coreScans),
      baseScan: median(baseScans),
      coreBytes,
      coreSize,
      baselineSize,
      coreDelete: median(coreDeletes),
      baseDelete: median(baseDeletes),
      coreRemoved,
      baselineRemoved,
      coreCleanup: median(coreCleanups),
      baseCleanup: median(baseCleanups),
      coreCleaned: median(coreCleaned),
      baseCleaned: median(baseCleaned),
    }
  })))
  baseline = undefined

  const r = result
  row(
    "3. cached entries (10,000 pods x 10)",
    fmt(r.coreSize),
    fmt(r.baselineSize),
    "",
    "100,000 each",
    check(r.coreSize === TOTAL && r.baselineSize === TOTAL),
  )
  row(
    `3. deleteServiceAccountToken, one pod (10 tokens), median of ${DELETES}`,
    us(r.coreDelete * 1000),
    us(r.baseDelete * 1000),
    `${times(r.baseDelete / r.coreDelete)} faster`,
    ">= 100x faster",
    check(r.baseDelete / r.coreDelete >= 100 && r.coreRemoved === r.baselineRemoved),
  )
  row(
    `3. cleanup, 1 % (1,000) expired, median of ${STRATA}`,
    `${ms(r.coreCleanup)} (${fmt(r.coreCleaned)} removed)`,
    `${ms(r.baseCleanup)} (${fmt(r.baseCleaned)} removed)`,
    times(r.coreCleanup / r.baseCleanup),
  )
  row(
    "3. cleanup, nothing expired (the scan), median of 20",
    ms(r.coreScan),
    ms(r.baseScan),
    times(r.coreScan / r.baseScan),
  )
  const baselineBytesLabel = gc === undefined ? " (no gc: noisy)" : ""
  row(
    "3. heap bytes per cached entry, 1 KB tokens",
    `${fmt(r.coreBytes)} B`,
    `${fmt(baselineBytes)} B${baselineBytesLabel}`,
    times(r.coreBytes / baselineBytes),
    "<= 1.5x",
    check(r.coreBytes / baselineBytes <= 1.5),
  )
}

// ---------------------------------------------------------------------------------------------------------------------

const main = async (): Promise<void> => {
  console.log(`# sa-token-manager core benchmarks on ${runtime}${gc === undefined ? " (no explicit gc)" : ""}`)
  // BENCH_ONLY=1,3 runs only some of the figures. bench/all.ts reads the same variable for benchmark names
  // (BENCH_ONLY=core,core-deno): without a figure number in it, every figure runs.
  const figures = (process.env.BENCH_ONLY ?? "").split(",").map((s) => s.trim()).filter((s) => /^[123]$/.test(s))
  const only = figures.length > 0 ? figures : ["1", "2", "3"]
  if (only.includes("1")) await benchHits()
  if (only.includes("2")) await benchColdKey()
  if (only.includes("3")) await benchScale()
  console.log()
  printTable()
  const missed = rows.filter((r) => r.met === "NO")
  if (missed.length > 0) {
    console.error(`\ntargets missed on ${runtime}: ${missed.map((r) => r.figure).join("; ")}`)
    process.exitCode = 1
  }
}

await main()
