/**
 * Model-based property test of TokenManager (fast-check commands): random interleavings of gets by concurrent callers,
 * delete by pod, invalidate, cleanup and TestClock advances, with fetches that fail or take time, run against the
 * manager and against a small reference model of its rules. After every command it checks that at most one fetch per
 * key is in flight, that no caller ever received an expired token, that every caller got what the model predicts
 * (a token, a stale token, or the right error) exactly when the model says it is answered, and that the cache holds
 * exactly the model's tokens.
 *
 * The jitter is turned off (`maxJitterSeconds: 1`) and the backoff has no randomness, so that the model can predict
 * every refresh and every retry exactly; tokens are refreshed in the second half of their lifetime so that random
 * schedules often reach refreshes, failed refreshes and the backoff.
 */
import assert from "node:assert/strict"
import { test } from "node:test"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as TestContext from "effect/TestContext"
import fc from "fast-check"
import type * as Backoff from "../../core/Backoff.ts"
import * as RefreshPolicy from "../../core/RefreshPolicy.ts"
import { TokenFetchError } from "../../core/TokenError.ts"
import * as TokenFetcher from "../../core/TokenFetcher.ts"
import * as TokenManager from "../../core/TokenManager.ts"
import { cacheKey } from "../../core/TokenRequest.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"

const KEYS = 2
const PODS = 2
// No jitter and half the lifetime as the refresh window, so that random schedules often land in it.
const policy: RefreshPolicy.RefreshPolicy = {
  ...RefreshPolicy.kubelet,
  maxJitterSeconds: 1,
  refreshRemainingPercent: 50,
}
const backoff: Backoff.Backoff = { initialMillis: 2000, maxMillis: 8000, multiplier: 2, jitter: 0 }
const backoffDelay = (failures: number): number =>
  Math.min(backoff.maxMillis, backoff.initialMillis * Math.pow(backoff.multiplier, failures - 1))

const podOf = (key: number): string => `pod-${key % PODS}`
const requestOf = (key: number): TokenRequest => ({
  spec: {
    audiences: [`audience-${key}`],
    expirationSeconds: 600,
    boundObjectRef: { kind: "Pod", apiVersion: "v1", name: podOf(key), uid: podOf(key) },
  },
})
const keyOf = (key: number): string => cacheKey("builder", "default", requestOf(key))
const keyIndex = (request: TokenRequest): number => Number(request.spec.audiences![0].slice("audience-".length))

/** What the fetcher does when a get starts a fetch: fail or issue a token of `lifetime` seconds, after `delay` ms. */
interface Behaviour {
  readonly fail: boolean
  readonly delay: number
  readonly lifetime: number
}

/** What a caller gets: a token, or the tag of the error. */
type Answer = { readonly token: string } | { readonly error: string }

// ---------------------------------------------------------------------------------------------------------------------
// The model

interface ModelEntry {
  readonly token: string
  readonly expiresAt: number
  readonly deadline: number
  readonly pod: string
  failures: number
  retryAt: number
}

interface ModelFlight {
  readonly token: string
  readonly behaviour: Behaviour
  readonly completesAt: number
  readonly pod: string
  discarded: boolean
  readonly waiters: Array<number>
}

class Model {
  now = 0
  fetches = 0
  readonly entries = new Map<number, ModelEntry>()
  readonly flights = new Map<number, ModelFlight>()
  /** Callers whose answer is known, until the real system is checked against it. */
  readonly answers = new Map<number, Answer>()
  /** Callers waiting for a flight. */
  readonly waiting = new Set<number>()

  get(key: number, caller: number, behaviour: Behaviour): void {
    const entry = this.entries.get(key)
    const valid = entry !== undefined && this.now <= entry.expiresAt
    if (valid && this.now <= entry.deadline) return this.answer(caller, { token: entry.token })
    if (valid && this.now < entry.retryAt) return this.answer(caller, { token: entry.token })
    let flight = this.flights.get(key)
    if (flight === undefined) {
      flight = {
        token: `token-${++this.fetches}`,
        behaviour,
        completesAt: this.now + behaviour.delay,
        pod: podOf(key),
        discarded: false,
        waiters: [],
      }
      this.flights.set(key, flight)
    }
    flight.waiters.push(caller)
    this.waiting.add(caller)
  }

  private answer(caller: number, answer: Answer): void {
    this.waiting.delete(caller)
    this.answers.set(caller, answer)
  }

  /** Completes every flight due by `until`, in time order, then moves the clock to `until`. */
  advanceTo(until: number): void {
    for (;;) {
      let next: [number, ModelFlight] | undefined
      for (const [key, flight] of this.flights) {
        if (flight.completesAt <= until && (next === undefined || flight.completesAt < next[1].completesAt)) {
          next = [key, flight]
        }
      }
      if (next === undefined) break
      this.now = next[1].completesAt
      this.complete(next[0], next[1])
    }
    this.now = until
  }

  private complete(key: number, flight: ModelFlight): void {
    this.flights.delete(key)
    const { fail, lifetime } = flight.behaviour
    if (!fail) {
      const expiresAt = this.now + lifetime * 1000
      if (!flight.discarded) {
        this.entries.set(key, {
          token: flight.token,
          expiresAt,
          deadline: expiresAt - Math.trunc((lifetime * policy.refreshRemainingPercent) / 100) * 1000,
          pod: flight.pod,
          failures: 0,
          retryAt: 0,
        })
      }
      for (const caller of flight.waiters) this.answer(caller, { token: flight.token })
      return
    }
    const entry = this.entries.get(key)
    if (entry !== undefined && this.now <= entry.expiresAt) {
      entry.failures++
      entry.retryAt = Math.min(this.now + backoffDelay(entry.failures), entry.expiresAt)
    }
    for (const caller of flight.waiters) {
      this.answer(
        caller,
        entry === undefined
          ? { error: "FetchFailed" }
          : this.now > entry.expiresAt
          ? { error: "TokenExpired" }
          : { token: entry.token },
      )
    }
  }

  deletePod(pod: string): number {
    for (const flight of this.flights.values()) if (flight.pod === pod) flight.discarded = true
    let removed = 0
    for (const [key, entry] of this.entries) {
      if (entry.pod === pod) {
        this.entries.delete(key)
        removed++
      }
    }
    return removed
  }

  cleanup(): number {
    let removed = 0
    for (const [key, entry] of this.entries) {
      if (this.now > entry.expiresAt) {
        this.entries.delete(key)
        removed++
      }
    }
    return removed
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// The real system

class Real {
  readonly runtime = ManagedRuntime.make(
    Layer.merge(TestContext.TestContext, Logger.minimumLogLevel(LogLevel.None)),
  )
  readonly violations: Array<string> = []
  readonly callers = new Map<number, Fiber.RuntimeFiber<string, string>>()
  readonly active = new Map<number, number>()
  behaviour: Behaviour = { fail: true, delay: 0, lifetime: 600 }
  fetches = 0
  scope!: Scope.CloseableScope
  manager!: TokenManager.TokenManager

  readonly fetcher: TokenFetcher.TokenFetcher = TokenFetcher.make((_namespace, _name, request) =>
    Effect.suspend(() => {
      const key = keyIndex(request)
      const { delay, fail, lifetime } = this.behaviour
      const token = `token-${++this.fetches}`
      const active = (this.active.get(key) ?? 0) + 1
      this.active.set(key, active)
      if (active > 1) this.violations.push(`${active} fetches in flight for key ${key}`)
      const issue: Effect.Effect<TokenRequest, TokenFetchError> = fail
        ? Effect.fail(new TokenFetchError({ reason: "ServerError", description: "injected failure" }))
        : Effect.map(Clock.currentTimeMillis, (now) => ({
          ...request,
          spec: { ...request.spec, expirationSeconds: lifetime },
          status: { token: Redacted.make(token), expirationTimestamp: new Date(now + lifetime * 1000) },
        }))
      return (delay > 0 ? Effect.zipRight(Effect.sleep(delay), issue) : issue).pipe(
        Effect.ensuring(Effect.sync(() => this.active.set(key, (this.active.get(key) ?? 1) - 1))),
      )
    })
  )

  async start(): Promise<void> {
    this.scope = await this.run(Scope.make())
    this.manager = await this.run(
      TokenManager.make({ policy, backoff, gc: false }).pipe(
        Effect.provideService(TokenFetcher.TokenFetcher, this.fetcher),
        Scope.extend(this.scope),
      ),
    )
  }

  run<A, E>(effect: Effect.Effect<A, E>): Promise<A> {
    return this.runtime.runPromise(effect)
  }

  /** One caller: its answer, after checking that the token it got has not expired. */
  caller(key: number): Effect.Effect<string, string> {
    return this.manager.getServiceAccountToken("default", "builder", requestOf(key)).pipe(
      Effect.flatMap((response) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const expiresAt = response.status?.expirationTimestamp.getTime() ?? NaN
          if (!(now <= expiresAt)) this.violations.push(`an expired token was returned at ${now} (expiry ${expiresAt})`)
          return response.status ? Redacted.value(response.status.token) : "<no status>"
        })
      ),
      Effect.mapError((error) => error._tag),
    )
  }

  /** Lets every fiber run until it blocks (on a fetch in flight or a TestClock sleep). */
  async settle(): Promise<void> {
    for (let i = 0; i < 2; i++) await new Promise((resolve) => setTimeout(resolve, 0))
  }

  async dispose(): Promise<void> {
    await this.run(Effect.zipRight(Fiber.interruptAll(this.callers.values()), Scope.close(this.scope, Exit.void)))
    await this.runtime.dispose()
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Checking the real system against the model

const exitAnswer = (exit: Exit.Exit<string, string>): Answer | string =>
  Exit.isSuccess(exit) ? { token: exit.value } : Option.match(Cause.failureOption(exit.cause), {
    onNone: () => `died or was interrupted: ${Cause.pretty(exit.cause)}`,
    onSome: (error) => ({ error }),
  })

const compare = async (model: Model, real: Real): Promise<void> => {
  await real.settle()
  assert.deepEqual(real.violations, [])
  assert.equal(real.fetches, model.fetches, "fetches made")
  for (const [id, fiber] of real.callers) {
    const polled = await real.run(Fiber.poll(fiber))
    if (model.waiting.has(id)) {
      assert.ok(Option.isNone(polled), `caller ${id} was answered while the model says it waits for a fetch`)
      continue
    }
    const expected = model.answers.get(id)
    assert.ok(expected !== undefined, `caller ${id} is unknown to the model`)
    assert.ok(Option.isSome(polled), `caller ${id} still waits; the model answered ${JSON.stringify(expected)}`)
    assert.deepEqual(exitAnswer(polled.value), expected, `the answer to caller ${id}`)
    real.callers.delete(id)
    model.answers.delete(id)
  }
  for (let key = 0; key < KEYS; key++) {
    const cached = Option.map(
      await real.run(real.manager.peek(keyOf(key))),
      (r) => [r.status ? Redacted.value(r.status.token) : "", r.status?.expirationTimestamp.getTime()],
    )
    const entry = model.entries.get(key)
    assert.deepEqual(
      Option.getOrUndefined(cached),
      entry === undefined ? undefined : [entry.token, entry.expiresAt],
      `cached token of key ${key}`,
    )
  }
  assert.equal(await real.run(real.manager.size), model.entries.size, "cache size")
}

// ---------------------------------------------------------------------------------------------------------------------
// Commands

let nextCaller = 0

class GetCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly key: number, readonly callers: number, readonly behaviour: Behaviour) {}
  check = () => true
  async run(model: Model, real: Real): Promise<void> {
    real.behaviour = this.behaviour
    const ids = Array.from({ length: this.callers }, () => nextCaller++)
    for (const id of ids) model.get(this.key, id, this.behaviour)
    model.advanceTo(model.now)
    const fibers = await real.run(Effect.forEach(ids, () => Effect.forkDaemon(real.caller(this.key))))
    for (const [i, fiber] of fibers.entries()) real.callers.set(ids[i], fiber)
    await compare(model, real)
  }
  toString = () =>
    `get(key ${this.key}, ${this.callers} callers, ${this.behaviour.fail ? "fail" : `${this.behaviour.lifetime} s`}` +
    `${this.behaviour.delay > 0 ? ` after ${this.behaviour.delay} ms` : ""})`
}

class AdvanceCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly millis: number) {}
  check = () => true
  async run(model: Model, real: Real): Promise<void> {
    model.advanceTo(model.now + this.millis)
    await real.run(TestClock.adjust(this.millis))
    await compare(model, real)
  }
  toString = () => `advance(${this.millis} ms)`
}

class DeleteCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pod: string) {}
  check = () => true
  async run(model: Model, real: Real): Promise<void> {
    const expected = model.deletePod(this.pod)
    assert.equal(await real.run(real.manager.deleteServiceAccountToken(this.pod)), expected, "tokens deleted")
    await compare(model, real)
  }
  toString = () => `delete(${this.pod})`
}

class InvalidateCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly key: number) {}
  check = () => true
  async run(model: Model, real: Real): Promise<void> {
    const expected = model.entries.delete(this.key)
    const actual = await real.run(real.manager.invalidate("default", "builder", requestOf(this.key)))
    assert.equal(actual, expected, "invalidated")
    await compare(model, real)
  }
  toString = () => `invalidate(key ${this.key})`
}

class CleanupCommand implements fc.AsyncCommand<Model, Real> {
  check = () => true
  async run(model: Model, real: Real): Promise<void> {
    assert.equal(await real.run(real.manager.cleanup), model.cleanup(), "tokens cleaned up")
    await compare(model, real)
  }
  toString = () => "cleanup"
}

const behaviour: fc.Arbitrary<Behaviour> = fc.record({
  fail: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
  delay: fc.constantFrom(0, 0, 1000, 5000),
  // Lifetimes as a server caps them (the requests ask for 600 s): refresh after 5 s or 15 s, expiry after 10 s or 30 s.
  lifetime: fc.constantFrom(10, 30),
})

const get = fc.tuple(fc.integer({ min: 0, max: KEYS - 1 }), fc.integer({ min: 1, max: 3 }), behaviour).map(
  ([key, callers, b]) => new GetCommand(key, callers, b),
)
const advance = fc.constantFrom(500, 1000, 1500, 2000, 3000, 5000).map((millis) => new AdvanceCommand(millis))

const drop = fc.oneof(
  fc.constantFrom(...Array.from({ length: PODS }, (_, i) => `pod-${i}`), "pod-unknown").map((pod) =>
    new DeleteCommand(pod)
  ),
  fc.integer({ min: 0, max: KEYS - 1 }).map((key) => new InvalidateCommand(key)),
  fc.constant(new CleanupCommand()),
)

// Gets and clock advances are drawn far more often than the commands that drop entries, so that tokens live long
// enough to be refreshed, to fail refreshing and to be served during the backoff.
const commands = fc.commands([get, get, get, get, advance, advance, advance, drop], { maxCommands: 40, size: "max" })

test("TokenManager behaves like its model under random interleavings (fast-check commands)", {
  timeout: 120_000,
}, async () => {
  await fc.assert(
    fc.asyncProperty(commands, async (cmds) => {
      const model = new Model()
      const real = new Real()
      await real.start()
      try {
        await fc.asyncModelRun(() => ({ model, real }), cmds)
        // Let every fetch finish: every waiting caller must then have its answer.
        model.advanceTo(model.now + 60_000)
        await real.run(TestClock.adjust(60_000))
        await compare(model, real)
        assert.equal(model.waiting.size, 0)
        assert.equal(real.callers.size, 0)
      } finally {
        await real.dispose()
      }
    }),
    { seed: 20261129, numRuns: 60 },
  )
})
