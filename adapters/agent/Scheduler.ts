/**
 * Proactive refresh: one fiber per declared token refreshes it through the core `TokenManager` at its refresh point
 * (80 % of the lifetime or 24 h, from the response) moved earlier by a random fraction of the lifetime (up to the
 * token's `jitter`, 10 % by default), writes it to its file, and hands the rotation to its hooks. Hooks run on a fiber
 * of their own per token, one at a time and latest first (a rotation that arrives while a hook runs replaces any older
 * one still waiting), so a hook that hangs until its timeout never delays a refresh, of that token or another.
 * Failures are retried with exponential backoff and jitter; the cached token and its file stay while they are valid,
 * and an expired token is never written.
 * On start, a valid token file is adopted without a TokenRequest unless it is past its refresh point.
 *
 * Each token runs on one fiber of a `FiberMap` keyed by its declared name, paced by a `Schedule` whose every delay is
 * computed from the token's state (a `Ref`) by `Clock` and `Random`; its hooks run on a child of that fiber.
 * The scheduler is the agent's {@link AgentState}. `apply` reconciles it with a new token list (SIGHUP): added tokens
 * start, removed tokens stop, changed tokens restart, unchanged tokens are left alone.
 *
 * @example Refresh a declared token proactively
 * ```ts
 * import assert from "node:assert/strict"
 * import { TokenFetcher, TokenManager } from "@sa-token/manager"
 * import { Config, Scheduler } from "@sa-token/manager/agent"
 * import * as Runtime from "@sa-token/manager/node"
 * import * as Path from "@effect/platform/Path"
 * import * as Effect from "effect/Effect"
 * import * as Either from "effect/Either"
 * import * as Layer from "effect/Layer"
 * import * as Logger from "effect/Logger"
 * import * as LogLevel from "effect/LogLevel"
 * import * as Redacted from "effect/Redacted"
 * import * as Schedule from "effect/Schedule"
 *
 * const fetcher = TokenFetcher.layer((_namespace, _name, request) =>
 *   Effect.sync(() => ({
 *     ...request,
 *     status: { token: Redacted.make("a.b.c"), expirationTimestamp: new Date(Date.now() + 3600_000) },
 *   }))
 * )
 * const document = { tokens: [{ name: "vault", namespace: "default", serviceAccount: "builder" }] }
 * const phase = await Effect.gen(function* () {
 *   const path = yield* Path.Path
 *   const config = yield* Either.match(Config.decode(document, "/etc/sa-token/agent.yaml", path), {
 *     onLeft: Effect.die,
 *     onRight: Effect.succeed,
 *   })
 *   const scheduler = yield* Scheduler.make()
 *   yield* scheduler.apply(config.tokens)
 *   yield* Effect.repeat(scheduler.ready, { until: (ready) => ready, schedule: Schedule.spaced("10 millis") })
 *   return (yield* scheduler.list)[0]!.phase
 * }).pipe(
 *   Effect.scoped,
 *   Effect.provide(TokenManager.layer.pipe(Layer.provide(fetcher))),
 *   Effect.provide(Runtime.layer),
 *   Logger.withMinimumLogLevel(LogLevel.None),
 *   Effect.runPromise,
 * )
 * assert.equal(phase, "valid")
 * ```
 *
 * @module
 */
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberMap from "effect/FiberMap"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Backoff from "../../core/Backoff.ts"
import * as RefreshPolicy from "../../core/RefreshPolicy.ts"
import { TokenManager } from "../../core/TokenManager.ts"
import { fingerprint } from "../../core/TokenRequest.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import type { PrivateFile } from "../platform/PrivateFile.ts"
import type { ProcessControl } from "../platform/ProcessControl.ts"
import * as AgentMetrics from "./AgentMetrics.ts"
import type { AgentState } from "./AgentState.ts"
import type { TokenSpec } from "./Config.ts"
import * as FileSink from "./FileSink.ts"
import * as Hooks from "./Hooks.ts"
import { nextRefreshAt, paced } from "./RefreshTiming.ts"
import * as TokenState from "./TokenState.ts"

export { paced, refreshAt } from "./RefreshTiming.ts"

/** The agent's scheduler: the {@link AgentState} plus reconciliation. */
export interface Scheduler extends AgentState {
  /** Starts added tokens, stops removed ones, restarts changed ones; leaves unchanged ones alone. */
  readonly apply: (tokens: ReadonlyArray<TokenSpec>) => Effect.Effect<void>
}

/** How the scheduler is tuned. */
export interface SchedulerOptions {
  /** The backoff between failed refreshes. @default Backoff.standard */
  readonly backoff?: Backoff.Backoff | undefined
  /** The refresh rules (must match the manager's). @default RefreshPolicy.kubelet */
  readonly policy?: RefreshPolicy.RefreshPolicy | undefined
}

/** What the scheduler needs from its environment. */
export type SchedulerContext =
  | TokenManager
  | FileSystem.FileSystem
  | Path.Path
  | CommandExecutor.CommandExecutor
  | PrivateFile
  | ProcessControl
  | Scope.Scope

/** A declared token: its spec (and the spec's identity, to tell a changed token on reload) and its state. */
interface Entry {
  readonly spec: TokenSpec
  readonly identity: string
  readonly state: Ref.Ref<TokenState.TokenState>
}

/** Builds a scheduler with no tokens; its fibers live in the given scope. */
export const make = (options: SchedulerOptions = {}): Effect.Effect<Scheduler, never, SchedulerContext> =>
  Effect.gen(function* () {
    const manager = yield* TokenManager
    const context = yield* Effect.context<
      FileSystem.FileSystem | Path.Path | CommandExecutor.CommandExecutor | PrivateFile | ProcessControl
    >()
    const backoff = options.backoff ?? Backoff.standard
    const policy = options.policy ?? RefreshPolicy.kubelet
    const fibers = yield* FiberMap.make<string>()
    const entries = yield* Ref.make<ReadonlyArray<Entry>>([])
    const lock = yield* Effect.makeSemaphore(1)

    /** Makes a response the current one: its file (when the content differs), its state, its hooks. */
    const install = (
      entry: Entry,
      rotations: Queue.Enqueue<string> | undefined,
      response: TokenRequest,
      rotated: boolean,
    ) =>
      Effect.gen(function* () {
        const spec = entry.spec
        const token = response.status!.token
        const print = fingerprint(Redacted.value(token))
        const sink = spec.file
        // A file that already is this token, with the sink's mode and owner, is left alone; anything else is rewritten.
        if (sink !== undefined && !(yield* FileSink.holds(sink, token))) {
          yield* FileSink.ensureDirectory(sink.path)
          yield* FileSink.write(sink, token, RefreshPolicy.expiresAt(response))
        }
        const now = yield* Clock.currentTimeMillis
        yield* Ref.update(entry.state, (state) => TokenState.installed(state, response, print, rotated, now))
        yield* Effect.logInfo(rotated ? "token refreshed" : "token adopted").pipe(
          Effect.annotateLogs({ fingerprint: print, expiresAt: response.status!.expirationTimestamp.toISOString() }),
        )
        if (rotated) {
          yield* AgentMetrics.countFor(AgentMetrics.refreshes, spec.name)
          if (rotations !== undefined) yield* Queue.offer(rotations, print)
        }
      })

    const recordFailure = (entry: Entry, message: string, retryAfterSeconds?: number) =>
      Effect.gen(function* () {
        const state = yield* Ref.updateAndGet(entry.state, (state) =>
          TokenState.failed(state, message, retryAfterSeconds))
        yield* AgentMetrics.countFor(AgentMetrics.failures, entry.spec.name)
        yield* Effect.logWarning("token refresh failed").pipe(
          Effect.annotateLogs({ fingerprint: state.status.fingerprint ?? "", err: message }),
        )
      })

    /**
     * The delay before the next refresh: the backoff after a failure (or the server's `Retry-After`), the refresh
     * point of the current token, or none without a token. Recorded as the status's `refreshAt`.
     */
    const nextDelay = (entry: Entry): Effect.Effect<Duration.Duration> =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const u = yield* Random.next
        const at = nextRefreshAt(yield* Ref.get(entry.state), entry.spec.jitter, u, now, backoff, policy)
        yield* Ref.update(entry.state, (state) => TokenState.scheduled(state, at))
        return Duration.millis(Math.max(0, at - now))
      })

    /** One refresh through the manager; a failure is recorded, never raised. */
    const refresh = (entry: Entry, rotations: Queue.Enqueue<string> | undefined) =>
      Effect.gen(function* () {
        const spec = entry.spec
        const result = yield* Effect.either(manager.refresh(spec.namespace, spec.serviceAccount, spec.request))
        if (result._tag === "Right") {
          return yield* install(entry, rotations, result.right, true).pipe(
            Effect.catchAll((error) => recordFailure(entry, error.message)),
          )
        }
        const error = result.left
        yield* recordFailure(
          entry,
          error.message,
          error._tag === "InvalidTokenRequest" ? undefined : error.cause.retryAfterSeconds,
        )
      })

    /** Restart adoption: with nothing valid cached, the manager loads the token's file through its store. */
    const adopt = (spec: TokenSpec) =>
      spec.file === undefined
        ? Effect.void
        : Effect.asVoid(manager.lookup(spec.namespace, spec.serviceAccount, spec.request))

    /** Runs the hooks for each rotation taken from the queue. */
    const runHooks = (spec: TokenSpec, rotations: Queue.Dequeue<string>) =>
      Queue.take(rotations).pipe(Effect.flatMap((print) => Hooks.run(spec, print)), Effect.forever)

    /**
     * A token's fiber: adopts what is valid, then refreshes on its schedule forever. Its hooks run on a child fiber,
     * one rotation at a time and latest first, so a hanging hook never delays a refresh.
     */
    const run = (entry: Entry) =>
      Effect.gen(function* () {
        const spec = entry.spec
        const rotations = spec.hooks === undefined ? undefined : yield* Queue.sliding<string>(1)
        if (rotations !== undefined) yield* Effect.fork(runHooks(spec, rotations))
        const start = yield* Clock.currentTimeMillis
        yield* adopt(spec)
        const cached = Option.filter(yield* manager.peek(spec.key), (r) => !RefreshPolicy.expired(r, start))
        if (Option.isSome(cached)) {
          yield* install(entry, rotations, cached.value, false).pipe(
            Effect.catchAll((error) => recordFailure(entry, error.message)),
          )
        }
        yield* Effect.schedule(refresh(entry, rotations), paced(nextDelay(entry)))
      }).pipe(Effect.annotateLogs({ token: entry.spec.name, cacheKey: entry.spec.key }), Effect.provide(context))

    const apply = (tokens: ReadonlyArray<TokenSpec>): Effect.Effect<void> =>
      lock.withPermits(1)(Effect.gen(function* () {
        const previous = new Map((yield* Ref.get(entries)).map((entry) => [entry.spec.name, entry]))
        const next = yield* Effect.forEach(tokens, (spec) => {
          const identity = JSON.stringify(spec)
          const existing = previous.get(spec.name)
          return existing !== undefined && existing.identity === identity
            ? Effect.succeed(existing)
            : Effect.map(Ref.make(TokenState.initial(spec)), (state): Entry => ({ spec, identity, state }))
        })
        const kept = new Set(next.filter((entry) => previous.get(entry.spec.name) === entry))
        const files = new Set(tokens.flatMap((spec) => spec.file === undefined ? [] : [spec.file.path]))
        for (const entry of previous.values()) {
          if (kept.has(entry)) continue
          yield* FiberMap.remove(fibers, entry.spec.name)
          const file = entry.spec.file?.path
          // The file stays (deleting a token a reader still holds would be worse), but say that nothing refreshes it.
          yield* (file !== undefined && !files.has(file)
            ? Effect.logWarning("token removed; its file is left in place and no longer refreshed").pipe(
              Effect.annotateLogs({ token: entry.spec.name, file }),
            )
            : Effect.logInfo("token stopped").pipe(Effect.annotateLogs({ token: entry.spec.name })))
        }
        const added = next.filter((entry) => !kept.has(entry))
        const removed = yield* FileSink.cleanupAll(
          added.flatMap((entry) => entry.spec.file === undefined ? [] : [entry.spec.file.path]),
        ).pipe(Effect.provide(context))
        if (removed > 0) {
          yield* Effect.logInfo("removed leftover temporary files").pipe(Effect.annotateLogs("count", removed))
        }
        yield* Ref.set(entries, next)
        yield* Effect.forEach(added, (entry) => FiberMap.run(fibers, entry.spec.name, run(entry)), { discard: true })
      }))

    const find = (name: string) => Effect.map(Ref.get(entries), (all) => all.find((entry) => entry.spec.name === name))

    return {
      apply,
      list: Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        return yield* Effect.forEach(
          yield* Ref.get(entries),
          (entry) => Effect.map(Ref.get(entry.state), (state) => TokenState.statusOf(state, now)),
        )
      }),
      token: (name) =>
        Effect.gen(function* () {
          const entry = yield* find(name)
          if (entry === undefined) return Option.none()
          const now = yield* Clock.currentTimeMillis
          const response = Option.filter(yield* manager.peek(entry.spec.key), (r) => !RefreshPolicy.expired(r, now))
          const status = TokenState.statusOf(yield* Ref.get(entry.state), now)
          return Option.map(response, (response) => ({ response, status }))
        }),
      ready: Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const states = yield* Effect.forEach(yield* Ref.get(entries), (entry) => Ref.get(entry.state))
        return states.every((state) => TokenState.isValid(state, now))
      }),
    }
  })
