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
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Backoff from "../../core/Backoff.ts"
import * as RefreshPolicy from "../../core/RefreshPolicy.ts"
import { TokenManager } from "../../core/TokenManager.ts"
import { fingerprint } from "../../core/TokenRequest.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import type { PrivateFile } from "../platform/PrivateFile.ts"
import * as AgentMetrics from "./AgentMetrics.ts"
import type { AgentState, TokenStatus } from "./AgentState.ts"
import type { TokenSpec } from "./Config.ts"
import * as FileSink from "./FileSink.ts"
import * as Hooks from "./Hooks.ts"

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
  | Scope.Scope

/**
 * When to refresh a response: its refresh deadline minus `u × jitter × lifetime` (lifetime capped at the policy's
 * maximum age). When that moment has passed but the deadline has not (a token adopted after a restart), the refresh
 * is spread over what is left before the deadline instead of happening at once.
 */
export const refreshAt = (
  response: TokenRequest,
  jitter: number,
  u: number,
  nowMillis: number,
  policy: RefreshPolicy.RefreshPolicy = RefreshPolicy.kubelet,
): number => {
  const deadline = RefreshPolicy.refreshDeadline(response, policy)
  const expiry = RefreshPolicy.expiresAt(response)
  if (!Number.isFinite(deadline)) return Math.max(nowMillis, expiry - 60_000)
  const lifetime = Math.min((response.spec.expirationSeconds ?? 0) * 1000, policy.maxTTLSeconds * 1000)
  const at = deadline - u * jitter * lifetime
  if (at >= nowMillis) return at
  return deadline > nowMillis ? nowMillis + u * (deadline - nowMillis) : nowMillis
}

interface Slot {
  readonly spec: TokenSpec
  readonly fingerprintOfSpec: string
  status: Omit<TokenStatus, "phase">
  current: TokenRequest | undefined
  consecutiveFailures: number
  fiber: Fiber.RuntimeFiber<void> | undefined
  /** The fingerprint of the latest rotation waiting for the hooks (none when the token has no hooks). */
  readonly rotations: Queue.Queue<string> | undefined
  hooksFiber: Fiber.RuntimeFiber<void> | undefined
}

const baseStatus = (spec: TokenSpec): Omit<TokenStatus, "phase"> => ({
  name: spec.name,
  namespace: spec.namespace,
  serviceAccount: spec.serviceAccount,
  key: spec.key,
  refreshes: 0,
  failures: 0,
})

const phaseOf = (slot: Slot, now: number): TokenStatus["phase"] =>
  slot.current === undefined
    ? slot.consecutiveFailures > 0 ? "failed" : "pending"
    : RefreshPolicy.expired(slot.current, now)
    ? "expired"
    : slot.consecutiveFailures > 0
    ? "stale"
    : "valid"

/** Builds a scheduler with no tokens; its fibers live in the given scope. */
export const make = (options: SchedulerOptions = {}): Effect.Effect<Scheduler, never, SchedulerContext> =>
  Effect.gen(function* () {
    const manager = yield* TokenManager
    const scope = yield* Effect.scope
    const context = yield* Effect.context<
      FileSystem.FileSystem | Path.Path | CommandExecutor.CommandExecutor | PrivateFile
    >()
    const backoff = options.backoff ?? Backoff.standard
    const policy = options.policy ?? RefreshPolicy.kubelet
    let slots: Array<Slot> = []
    const lock = yield* Effect.makeSemaphore(1)

    /** Makes a response the current one: its file (when the content differs), its status, its hooks. */
    const install = (slot: Slot, response: TokenRequest, rotated: boolean) =>
      Effect.gen(function* () {
        const spec = slot.spec
        const token = response.status!.token
        const print = fingerprint(Redacted.value(token))
        const sink = spec.file
        // A file that already is this token, with the sink's mode and owner, is left alone; anything else is rewritten.
        if (sink !== undefined && !(yield* FileSink.holds(sink, token))) {
          yield* FileSink.ensureDirectory(sink.path)
          yield* FileSink.write(sink, token, RefreshPolicy.expiresAt(response))
        }
        slot.current = response
        slot.consecutiveFailures = 0
        const expiresAt = response.status!.expirationTimestamp
        const issued = RefreshPolicy.issuedAt(response)
        slot.status = {
          ...slot.status,
          fingerprint: print,
          expiresAt,
          lastRefresh: rotated ? new Date(yield* Clock.currentTimeMillis) : new Date(issued),
          lastError: undefined,
          refreshes: slot.status.refreshes + (rotated ? 1 : 0),
        }
        yield* Effect.logInfo(rotated ? "token refreshed" : "token adopted").pipe(
          Effect.annotateLogs({ fingerprint: print, expiresAt: expiresAt.toISOString() }),
        )
        if (rotated) {
          yield* AgentMetrics.countFor(AgentMetrics.refreshes, spec.name)
          if (slot.rotations !== undefined) yield* Queue.offer(slot.rotations, print)
        }
      })

    const recordFailure = (slot: Slot, message: string) =>
      Effect.gen(function* () {
        slot.consecutiveFailures++
        slot.status = { ...slot.status, lastError: message, failures: slot.status.failures + 1 }
        yield* AgentMetrics.countFor(AgentMetrics.failures, slot.spec.name)
        yield* Effect.logWarning("token refresh failed").pipe(
          Effect.annotateLogs({ fingerprint: slot.status.fingerprint ?? "", err: message }),
        )
      })

    const runSlot = (
      slot: Slot,
    ): Effect.Effect<void, never, FileSystem.FileSystem | Path.Path | CommandExecutor.CommandExecutor | PrivateFile> =>
      Effect.gen(function* () {
        const spec = slot.spec
        const start = yield* Clock.currentTimeMillis
        // Adoption: with nothing valid cached, the manager loads the token's file through its store.
        if (spec.file !== undefined) yield* manager.lookup(spec.namespace, spec.serviceAccount, spec.request)
        const cached = Option.filter(yield* manager.peek(spec.key), (r) => !RefreshPolicy.expired(r, start))
        if (Option.isSome(cached)) {
          yield* install(slot, cached.value, false).pipe(
            Effect.catchAll((error) => recordFailure(slot, error.message)),
          )
        }
        let retryAfterSeconds: number | undefined
        while (true) {
          const now = yield* Clock.currentTimeMillis
          const u = yield* Random.next
          const at = slot.consecutiveFailures > 0
            ? now + Backoff.delay(backoff, slot.consecutiveFailures, u, retryAfterSeconds)
            : slot.current !== undefined
            ? refreshAt(slot.current, spec.jitter, u, now, policy)
            : now
          slot.status = { ...slot.status, refreshAt: new Date(at) }
          if (at > now) yield* Effect.sleep(at - now)
          const result = yield* Effect.either(manager.refresh(spec.namespace, spec.serviceAccount, spec.request))
          if (result._tag === "Right") {
            retryAfterSeconds = undefined
            yield* install(slot, result.right, true).pipe(
              Effect.catchAll((error) => recordFailure(slot, error.message)),
            )
          } else {
            const error = result.left
            retryAfterSeconds = error._tag === "InvalidTokenRequest" ? undefined : error.cause.retryAfterSeconds
            yield* recordFailure(slot, error.message)
          }
        }
      }).pipe(Effect.annotateLogs({ token: slot.spec.name, cacheKey: slot.spec.key }))

    /** Runs the hooks for each rotation taken from the slot's queue, off the refresh loop. */
    const runHooks = (slot: Slot, rotations: Queue.Queue<string>) =>
      Queue.take(rotations).pipe(
        Effect.flatMap((print) => Hooks.run(slot.spec, print)),
        Effect.forever,
        Effect.annotateLogs({ token: slot.spec.name, cacheKey: slot.spec.key }),
      )

    const start = (spec: TokenSpec): Effect.Effect<Slot> =>
      Effect.gen(function* () {
        const slot: Slot = {
          spec,
          fingerprintOfSpec: JSON.stringify(spec),
          status: baseStatus(spec),
          current: undefined,
          consecutiveFailures: 0,
          fiber: undefined,
          rotations: spec.hooks === undefined ? undefined : yield* Queue.sliding<string>(1),
          hooksFiber: undefined,
        }
        if (slot.rotations !== undefined) {
          slot.hooksFiber = yield* Effect.forkIn(Effect.provide(runHooks(slot, slot.rotations), context), scope)
        }
        slot.fiber = yield* Effect.forkIn(Effect.provide(runSlot(slot), context), scope)
        return slot
      })

    const stop = (slot: Slot): Effect.Effect<void> =>
      Effect.forEach(
        [slot.fiber, slot.hooksFiber],
        (fiber) => fiber === undefined ? Effect.void : Fiber.interrupt(fiber),
        {
          discard: true,
        },
      )

    const statusOf = (slot: Slot, now: number): TokenStatus => ({ ...slot.status, phase: phaseOf(slot, now) })

    const apply = (tokens: ReadonlyArray<TokenSpec>): Effect.Effect<void> =>
      lock.withPermits(1)(Effect.gen(function* () {
        const byName = new Map(slots.map((slot) => [slot.spec.name, slot]))
        const kept = tokens.map((spec) => {
          const existing = byName.get(spec.name)
          return existing !== undefined && existing.fingerprintOfSpec === JSON.stringify(spec) ? existing : undefined
        })
        const keep = new Set(kept)
        const files = new Set(tokens.flatMap((spec) => spec.file === undefined ? [] : [spec.file.path]))
        for (const slot of slots) {
          if (keep.has(slot)) continue
          yield* stop(slot)
          const file = slot.spec.file?.path
          // The file stays (deleting a token a reader still holds would be worse), but say that nothing refreshes it.
          yield* (file !== undefined && !files.has(file)
            ? Effect.logWarning("token removed; its file is left in place and no longer refreshed").pipe(
              Effect.annotateLogs({ token: slot.spec.name, file }),
            )
            : Effect.logInfo("token stopped").pipe(Effect.annotateLogs({ token: slot.spec.name })))
        }
        const added = tokens.filter((_, i) => kept[i] === undefined)
        const removed = yield* FileSink.cleanupAll(
          added.flatMap((spec) => spec.file === undefined ? [] : [spec.file.path]),
        ).pipe(Effect.provide(context))
        if (removed > 0) {
          yield* Effect.logInfo("removed leftover temporary files").pipe(Effect.annotateLogs("count", removed))
        }
        slots = yield* Effect.forEach(tokens, (spec, i) => {
          const existing = kept[i]
          return existing !== undefined ? Effect.succeed(existing) : start(spec)
        })
      }))

    return {
      apply,
      list: Effect.map(Clock.currentTimeMillis, (now) => slots.map((slot) => statusOf(slot, now))),
      token: (name) =>
        Effect.gen(function* () {
          const slot = slots.find((s) => s.spec.name === name)
          if (slot === undefined) return Option.none()
          const now = yield* Clock.currentTimeMillis
          const response = Option.filter(yield* manager.peek(slot.spec.key), (r) => !RefreshPolicy.expired(r, now))
          return Option.map(response, (response) => ({ response, status: statusOf(slot, now) }))
        }),
      ready: Effect.map(
        Clock.currentTimeMillis,
        (now) => slots.every((slot) => slot.current !== undefined && !RefreshPolicy.expired(slot.current, now)),
      ),
    }
  })
