import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as Budget from "../../adapters/agent/Budget.ts"
import * as Scheduler from "../../adapters/agent/Scheduler.ts"
import { TokenFetchError } from "../../core/TokenError.ts"
import * as TokenFetcher from "../../core/TokenFetcher.ts"
import * as TokenManager from "../../core/TokenManager.ts"
import { hour, minute, runTest as runLoud, second, setTime } from "../_support/harness.ts"
import { epoch, issuer, spec, tempDir, until, withinBudget } from "../_support/agent.ts"
import type { Issuer } from "../_support/agent.ts"
import { platform } from "../_support/platform.ts"

const runTest: typeof runLoud = (effect) => runLoud(Logger.withMinimumLogLevel(effect, LogLevel.None))

/** A manager over the issuer behind a budget, and a scheduler over that manager, in the test's scope. */
const setup = (fake: Issuer, budget: Budget.BudgetOptions = { qps: 5, burst: 10 }) =>
  Effect.gen(function* () {
    const limited = Budget.limit(fake.fetcher, yield* Budget.make(budget))
    const manager = yield* TokenManager.make({ gc: false }).pipe(
      Effect.provide(Layer.succeed(TokenFetcher.TokenFetcher, limited)),
    )
    const scheduler = yield* Scheduler.make().pipe(
      Effect.provideService(TokenManager.TokenManager, manager),
      Effect.provide(platform),
    )
    return { manager, scheduler }
  })

describe("agent scheduler", () => {
  it("refreshes at 80 % of the lifetime minus up to 10 % jitter", () => {
    const response = {
      spec: { expirationSeconds: 3600 },
      status: { token: undefined as never, expirationTimestamp: new Date(epoch + hour) },
    }
    assert.equal(Scheduler.refreshAt(response, 0.1, 0, epoch), epoch + 48 * minute)
    assert.equal(Scheduler.refreshAt(response, 0.1, 0.999999, epoch), epoch + 48 * minute - 0.999999 * 6 * minute)
    // adopted after a restart past the jittered point but before the deadline: spread over what is left
    assert.equal(Scheduler.refreshAt(response, 0.1, 0.5, epoch + 46 * minute), epoch + 47 * minute)
    // past the deadline: now
    assert.equal(Scheduler.refreshAt(response, 0.1, 0.5, epoch + 50 * minute), epoch + 50 * minute)
    // a one-year token is refreshed after 24 h minus up to 2.4 h
    const year = { ...response, spec: { expirationSeconds: 365 * 24 * 3600 } }
    const yearExp = { ...year, status: { ...year.status, expirationTimestamp: new Date(epoch + 365 * 24 * hour) } }
    assert.equal(Scheduler.refreshAt(yearExp, 0.1, 1, epoch), epoch + 24 * hour - 2.4 * hour)
  })

  it("paced: waits the delay computed before every run, the first one included", () =>
    runTest(Effect.gen(function* () {
      yield* setTime(epoch)
      const delays = [5 * second, 0, 2 * minute]
      const runs: Array<number> = []
      const step = Effect.flatMap(TestClock.currentTimeMillis, (now) => Effect.sync(() => runs.push(now - epoch)))
      const delay = Effect.sync(() => Duration.millis(delays[Math.min(runs.length, delays.length - 1)]!))
      const fiber = yield* Effect.fork(Effect.schedule(step, Scheduler.paced(delay)))
      yield* TestClock.adjust(4 * second)
      assert.deepEqual(runs, [], "the first run waits its delay")
      yield* TestClock.adjust(1 * second)
      assert.deepEqual(runs, [5 * second, 5 * second], "a zero delay runs at once")
      yield* TestClock.adjust(2 * minute)
      assert.deepEqual(runs, [5 * second, 5 * second, 5 * second + 2 * minute])
      yield* Fiber.interrupt(fiber)
    })))

  it("200 tokens over a simulated day: refresh counts, budget never exceeded, refreshes spread out", {
    timeout: 60_000,
  }, () =>
    runTest(Effect.gen(function* () {
      yield* setTime(epoch)
      const fake = issuer()
      const { scheduler } = yield* setup(fake)
      const lifetime = 12 * 3600
      yield* scheduler.apply(Array.from({ length: 200 }, (_, i) => spec(`sa-${i}`, { expirationSeconds: lifetime })))
      yield* TestClock.adjust(24 * hour)
      // every token: one initial fetch, then one every 80 % - [0, 10 %) of 12 h (8.4 h to 9.6 h)
      for (let i = 0; i < 200; i++) {
        const calls = fake.perAccount.get(`sa-${i}`) ?? 0
        assert.equal(calls, 3, `sa-${i}`)
      }
      assert.ok(withinBudget(fake.times, 5, 10), "the budget was exceeded")
      // start-up: 10 at once, then 5 per second
      const startup = fake.times.filter((t) => t < epoch + hour)
      assert.equal(startup.length, 200)
      assert.equal(startup.filter((t) => t === epoch).length, 10)
      assert.ok(Math.max(...startup) <= epoch + 38 * second + 1000)
      // without jitter the 200 first refreshes would come within 40 s of each other (budget-paced); with up to 10 %
      // of 12 h they spread over about 72 minutes, at most a handful per minute
      const round = fake.times.filter((t) => t > epoch + hour && t < epoch + 10 * hour)
      assert.equal(round.length, 200)
      assert.ok(Math.max(...round) - Math.min(...round) >= 60 * minute, "first round not spread")
      const perMinute = new Map<number, number>()
      for (const t of round) perMinute.set(Math.floor(t / minute), (perMinute.get(Math.floor(t / minute)) ?? 0) + 1)
      assert.ok(Math.max(...perMinute.values()) <= 20, `max ${Math.max(...perMinute.values())} in one minute`)
      const status = yield* scheduler.list
      assert.equal(status.length, 200)
      assert.ok(status.every((s) => s.phase === "valid" && s.refreshes === 3 && s.failures === 0))
      assert.ok(yield* scheduler.ready)
    })))

  it("keeps a valid token while refreshes fail, backs off exponentially, recovers", () =>
    runTest(Effect.gen(function* () {
      yield* setTime(epoch)
      const fake = issuer()
      const { scheduler } = yield* setup(fake)
      yield* scheduler.apply([spec("a", { expirationSeconds: 3600, jitter: 0 })])
      yield* TestClock.adjust(1)
      const first = yield* scheduler.token("a")
      assert.ok(Option.isSome(first))
      fake.failWith = () => Effect.fail(new TokenFetchError({ reason: "ServerError", description: "etcd down" }))
      yield* TestClock.adjust(48 * minute)
      assert.equal(fake.calls, 2)
      yield* TestClock.adjust(10 * minute)
      // 1 s, 2 s, 4 s ... capped at 60 s (minus up to 20 % jitter): about 15 calls in 10 minutes, not 600
      assert.ok(fake.calls >= 10 && fake.calls <= 20, `${fake.calls} calls`)
      const stale = (yield* scheduler.list)[0]!
      assert.equal(stale.phase, "stale")
      assert.match(stale.lastError ?? "", /etcd down/)
      const still = yield* scheduler.token("a")
      assert.ok(Option.isSome(still))
      assert.equal(still.value.status.fingerprint, first.value.status.fingerprint)
      fake.failWith = undefined
      yield* TestClock.adjust(minute)
      const recovered = (yield* scheduler.list)[0]!
      assert.equal(recovered.phase, "valid")
      assert.notEqual(recovered.fingerprint, first.value.status.fingerprint)
      assert.equal(recovered.refreshes, 2)
    })))

  it("never serves an expired token and reports the phase", () =>
    runTest(Effect.gen(function* () {
      yield* setTime(epoch)
      const fake = issuer()
      const { scheduler } = yield* setup(fake)
      yield* scheduler.apply([spec("a", { expirationSeconds: 3600 })])
      yield* TestClock.adjust(1)
      fake.failWith = () => Effect.fail(new TokenFetchError({ reason: "Forbidden", description: "denied" }))
      yield* TestClock.adjust(61 * minute)
      assert.equal((yield* scheduler.list)[0]!.phase, "expired")
      assert.ok(Option.isNone(yield* scheduler.token("a")))
      assert.equal(yield* scheduler.ready, false)
    })))

  it("a 429 with Retry-After pauses the whole budget", () =>
    runTest(Effect.gen(function* () {
      yield* setTime(epoch)
      const fake = issuer()
      fake.failWith = () =>
        Effect.fail(new TokenFetchError({ reason: "TooManyRequests", description: "slow down", retryAfterSeconds: 30 }))
      const { scheduler } = yield* setup(fake, { qps: 5, burst: 1 })
      yield* scheduler.apply([spec("a"), spec("b"), spec("c")])
      yield* TestClock.adjust(29 * second)
      assert.equal(fake.calls, 1)
      fake.failWith = undefined
      yield* TestClock.adjust(2 * second)
      assert.ok(fake.calls >= 2)
      assert.ok(fake.times.slice(1).every((t) => t >= epoch + 30 * second))
      yield* TestClock.adjust(10 * second)
      assert.ok((yield* scheduler.list).every((s) => s.phase === "valid"))
    })))

  it("a rotation hook that hangs delays no refresh, of its token or another; the latest rotation runs next", () =>
    runTest(Effect.gen(function* () {
      yield* setTime(epoch)
      const dir = tempDir("scheduler-hook")
      const out = nodePath.join(dir, "hook.out")
      const fake = issuer()
      fake.cap = 20 // 20 s tokens, refreshed every 16 s (jitter 0)
      const { scheduler } = yield* setup(fake)
      // The hook records its rotation, then hangs (a real process) until the 60 s hook timeout of the TestClock.
      const hooks = {
        command: ["sh", "-c", `echo "$SA_TOKEN_FINGERPRINT" >> '${out}'; exec sleep 600`],
        directory: dir,
      }
      yield* scheduler.apply([
        spec("a", { expirationSeconds: 600, jitter: 0, hooks }),
        spec("b", { expirationSeconds: 600, jitter: 0 }),
      ])
      yield* TestClock.adjust(1)
      assert.deepEqual([fake.perAccount.get("a"), fake.perAccount.get("b")], [1, 1])
      const lines = () => fs.existsSync(out) ? fs.readFileSync(out, "utf8").trim().split("\n") : []
      yield* until(Effect.sync(() => lines().length === 1), "the first hook")
      for (let refresh = 2; refresh <= 4; refresh++) {
        yield* TestClock.adjust(16 * second)
        assert.deepEqual([fake.perAccount.get("a"), fake.perAccount.get("b")], [refresh, refresh], `refresh ${refresh}`)
        assert.equal((yield* scheduler.list)[0]!.phase, "valid", "the token served 503 while its hook hung")
      }
      // The hanging hook times out at 60 s (before the refresh at 64 s); the hook then runs once more, for the latest of
      // the three rotations that came meanwhile.
      yield* TestClock.adjust(13 * second)
      const latest = (yield* scheduler.list)[0]!.fingerprint
      yield* until(Effect.sync(() => lines().length === 2), "the hook of the latest rotation")
      assert.equal(lines()[1], latest)
      fs.rmSync(dir, { recursive: true, force: true })
    })))

  it("follows a lifetime capped by the server", () =>
    runTest(Effect.gen(function* () {
      yield* setTime(epoch)
      const fake = issuer()
      fake.cap = 60
      const { scheduler } = yield* setup(fake)
      yield* scheduler.apply([spec("a", { expirationSeconds: 600 })])
      yield* TestClock.adjust(10 * minute)
      // refreshed every 48 s minus up to 6 s: 11 to 14 times in 10 minutes
      assert.ok(fake.calls >= 11 && fake.calls <= 15, `${fake.calls} calls`)
      assert.equal((yield* scheduler.list)[0]!.phase, "valid")
    })))

  it("apply: added tokens start, removed tokens stop, unchanged tokens are not re-fetched", () =>
    runTest(Effect.gen(function* () {
      yield* setTime(epoch)
      const fake = issuer()
      const { scheduler } = yield* setup(fake)
      yield* scheduler.apply([spec("a"), spec("b")])
      yield* TestClock.adjust(1)
      assert.equal(fake.calls, 2)
      yield* scheduler.apply([spec("b"), spec("c"), spec("a", { expirationSeconds: 7200 })])
      yield* TestClock.adjust(1)
      assert.deepEqual([...fake.perAccount.entries()].sort(), [["a", 2], ["b", 1], ["c", 1]])
      assert.deepEqual((yield* scheduler.list).map((s) => s.name), ["b", "c", "a"])
      yield* scheduler.apply([spec("b")])
      yield* TestClock.adjust(hour)
      assert.deepEqual([...fake.perAccount.entries()].sort(), [["a", 2], ["b", 2], ["c", 1]])
      assert.deepEqual((yield* scheduler.list).map((s) => s.name), ["b"])
      assert.ok(Option.isNone(yield* scheduler.token("a")))
    })))

  it("apply: a removed token's file stays, with a warning naming it; a file taken over by another token does not warn", () =>
    runLoud(
      Effect.gen(function* () {
        yield* setTime(epoch)
        const dir = tempDir("scheduler-remove")
        const file = (name: string) => ({ path: nodePath.join(dir, name), mode: 0o600 })
        const { scheduler } = yield* setup(issuer())
        yield* scheduler.apply([spec("a", { file: file("a") }), spec("b", { file: file("b") })])
        yield* until(Effect.sync(() => fs.existsSync(file("a").path) && fs.existsSync(file("b").path)), "both files")
        const logs: Array<{ message: string; annotations: Record<string, unknown> }> = []
        const capture = Logger.replace(
          Logger.defaultLogger,
          Logger.make(({ message, annotations }) => {
            logs.push({ message: String(message), annotations: Object.fromEntries(HashMap.toEntries(annotations)) })
          }),
        )
        // "a" is removed; "b" is replaced by "c", which writes to b's file.
        yield* scheduler.apply([spec("c", { file: file("b") })]).pipe(
          Effect.provide(capture),
          Logger.withMinimumLogLevel(LogLevel.Info),
        )
        assert.ok(fs.existsSync(file("a").path))
        const warnings = logs.filter((l) => l.message.includes("no longer refreshed"))
        assert.deepEqual(warnings.map((l) => l.annotations), [{ token: "a", file: file("a").path }])
        assert.ok(logs.some((l) => l.message === "token stopped" && l.annotations.token === "b"))
        fs.rmSync(dir, { recursive: true, force: true })
      }).pipe(Logger.withMinimumLogLevel(LogLevel.None)),
    ))
})
