/**
 * The agent's lifecycle: load the configuration, put the request budget in front of the fetcher, build the manager
 * (with its garbage collector) and the scheduler, serve the local endpoint when one is configured, and reload the
 * token list on every SIGHUP until the fiber is interrupted (SIGINT/SIGTERM), at which point the scheduler's fibers
 * stop, in-flight file writes finish, and the endpoint closes.
 *
 * @example Run the agent of a configuration file over any fetcher, until its token file is written
 * ```ts
 * import assert from "node:assert/strict"
 * import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
 * import { tmpdir } from "node:os"
 * import { join } from "node:path"
 * import { TokenFetcher } from "@sa-token/manager"
 * import { Agent, Config } from "@sa-token/manager/agent"
 * import * as Runtime from "@sa-token/manager/node"
 * import * as Effect from "effect/Effect"
 * import * as Logger from "effect/Logger"
 * import * as LogLevel from "effect/LogLevel"
 * import * as Redacted from "effect/Redacted"
 * import * as Schedule from "effect/Schedule"
 *
 * const directory = mkdtempSync(join(tmpdir(), "agent-"))
 * const file = join(directory, "agent.yaml")
 * writeFileSync(file, "tokens:\n  - { name: vault, namespace: default, serviceAccount: builder, file: { path: tokens/vault } }\n")
 * const fetcher = TokenFetcher.make((_namespace, _name, request) =>
 *   Effect.sync(() => ({
 *     ...request,
 *     status: { token: Redacted.make("a.b.c"), expirationTimestamp: new Date(Date.now() + 3600_000) },
 *   }))
 * )
 * await Effect.gen(function* () {
 *   const agent = yield* Agent.start(yield* Config.load(file), fetcher)
 *   yield* Effect.repeat(agent.scheduler.ready, { until: (ready) => ready, schedule: Schedule.spaced("10 millis") })
 * }).pipe(Effect.scoped, Effect.provide(Runtime.layer), Logger.withMinimumLogLevel(LogLevel.None), Effect.runPromise)
 * assert.equal(readFileSync(join(directory, "tokens", "vault"), "utf8"), "a.b.c")
 * ```
 *
 * @module
 */
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as TokenFetcher from "../../core/TokenFetcher.ts"
import * as TokenManager from "../../core/TokenManager.ts"
import * as RefreshPolicy from "../../core/RefreshPolicy.ts"
import * as InCluster from "../kube/InCluster.ts"
import * as KubeConnection from "../kube/KubeConnection.ts"
import type { KubeConnectionError } from "../kube/KubeConnection.ts"
import * as KubeTokenFetcher from "../kube/KubeTokenFetcher.ts"
import type { TlsHttpClient, TlsHttpClientError } from "../platform/TlsHttpClient.ts"
import type { LocalHttp } from "../platform/LocalHttp.ts"
import type { PrivateFile } from "../platform/PrivateFile.ts"
import type { ProcessControl } from "../platform/ProcessControl.ts"
import * as Adopt from "./Adopt.ts"
import { AgentState } from "./AgentState.ts"
import * as Budget from "./Budget.ts"
import * as Config from "./Config.ts"
import type { AgentConfig, ConfigError } from "./Config.ts"
import * as Endpoint from "./Endpoint.ts"
import type { EndpointError } from "./Endpoint.ts"
import * as Logging from "./Logging.ts"
import * as Scheduler from "./Scheduler.ts"
import { Signals } from "../platform/Signals.ts"

/** The platform services the agent uses. */
export type Platform =
  | FileSystem.FileSystem
  | Path.Path
  | CommandExecutor.CommandExecutor
  | PrivateFile
  | LocalHttp
  | ProcessControl

/** Every way the agent can fail to start. */
export type AgentError = ConfigError | KubeConnectionError | TlsHttpClientError | EndpointError

/** A running agent. */
export interface RunningAgent {
  /** The resolved configuration in force (replaced on reload). */
  readonly config: AgentConfig
  /** The scheduler refreshing the declared tokens; also the agent's state. */
  readonly scheduler: Scheduler.Scheduler
  /** The local endpoint, when the configuration declares one. */
  readonly endpoint: Option.Option<Endpoint.Endpoint>
  /** Re-reads the configuration file and applies its token list (what SIGHUP does). Never fails. */
  readonly reload: Effect.Effect<void, never, FileSystem.FileSystem | Path.Path | PrivateFile>
}

const endpointConfig = (spec: NonNullable<AgentConfig["endpoint"]>): Endpoint.EndpointConfig =>
  spec._tag === "Unix" ? { _tag: "Unix", path: spec.path, mode: spec.mode } : {
    _tag: "Tcp",
    host: spec.host,
    port: spec.port,
    allowNonLoopback: spec.allowNonLoopback,
    bearerToken: spec.bearerToken,
  }

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)

/** Warns when the config file, which holds the TCP endpoint's bearer token, is readable by its group or others. */
const warnIfShared = (file: string): Effect.Effect<void, never, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const info = yield* Effect.option(fs.stat(file))
    if (Option.isSome(info) && (info.value.mode & 0o044) !== 0) {
      yield* Effect.logWarning(
        "the config file holds the endpoint's bearer token and is readable by its group or others: chmod 600 it",
      ).pipe(Effect.annotateLogs("config", file))
    }
  })

/**
 * Starts the agent for a loaded configuration over a fetcher (the budget is added here). Everything it starts lives
 * in the scope.
 */
export const start = (
  config: AgentConfig,
  fetcher: TokenFetcher.TokenFetcher,
): Effect.Effect<RunningAgent, EndpointError, Platform | Scope.Scope> =>
  Effect.gen(function* () {
    // finalizers run in reverse: this line is logged after every token stopped and every write finished
    yield* Effect.addFinalizer(() => Effect.logInfo("agent stopped"))
    const budget = yield* Budget.make(config.budget)
    const limited = Budget.limit(fetcher, budget)
    // The configuration in force: its token list is replaced on reload, the rest only on restart.
    const running = yield* Ref.make(config)
    // Restart adoption: on a miss the manager loads the declared token's file, as the configuration now declares it.
    const store = yield* Adopt.store(Effect.map(Ref.get(running), (current) => current.tokens))
    const manager = yield* TokenManager.make({ store }).pipe(
      Effect.provide(Layer.succeed(TokenFetcher.TokenFetcher, limited)),
    )
    yield* TokenManager.runGarbageCollector(manager, RefreshPolicy.kubelet.gcPeriodMillis)
    const scheduler = yield* Scheduler.make().pipe(Effect.provideService(TokenManager.TokenManager, manager))
    yield* Effect.logInfo("agent starting").pipe(
      Effect.annotateLogs({ config: config.file, tokens: config.tokens.length }),
    )
    yield* scheduler.apply(config.tokens)
    if (config.endpoint?._tag === "Tcp") yield* warnIfShared(config.file)
    const endpoint = config.endpoint === undefined ? Option.none<Endpoint.Endpoint>() : Option.some(
      yield* Endpoint.make(endpointConfig(config.endpoint)).pipe(
        Effect.provideService(AgentState, scheduler),
      ),
    )
    const reload = Effect.gen(function* () {
      const current = yield* Ref.get(running)
      const next = yield* Effect.either(Config.load(current.file))
      if (next._tag === "Left") {
        return yield* Effect.logError("reload failed; keeping the running configuration").pipe(
          Effect.annotateLogs("err", next.left.message),
        )
      }
      const fresh = next.right
      for (const field of ["cluster", "endpoint", "budget", "log"] as const) {
        if (!same(fresh[field], current[field])) {
          yield* Effect.logWarning(`${field} changed: restart the agent to apply it`)
        }
      }
      yield* Ref.set(running, { ...current, tokens: fresh.tokens })
      yield* scheduler.apply(fresh.tokens)
      yield* Effect.logInfo("configuration reloaded").pipe(Effect.annotateLogs("tokens", fresh.tokens.length))
    })
    return { config, scheduler, endpoint, reload }
  })

/** Reloads the agent on every hangup from {@link Signals} (if provided) until the scope closes. */
export const watchHangups = (
  agent: RunningAgent,
): Effect.Effect<void, never, FileSystem.FileSystem | Path.Path | PrivateFile | Scope.Scope> =>
  Effect.gen(function* () {
    const signals = yield* Effect.serviceOption(Signals)
    if (Option.isNone(signals)) return
    yield* signals.value.hangups.pipe(
      Stream.runForEach(() => Effect.zipRight(Effect.logInfo("SIGHUP: reloading the configuration"), agent.reload)),
      Effect.forkScoped,
    )
  })

/** The TokenRequest fetcher for the configured cluster (kubeconfig lookup, then in-cluster, unless told). */
export const kubeFetcher = (
  cluster: AgentConfig["cluster"],
): Effect.Effect<
  TokenFetcher.TokenFetcher,
  KubeConnectionError | TlsHttpClientError,
  KubeConnection.Requirements | TlsHttpClient | Scope.Scope
> =>
  Effect.gen(function* () {
    const connection = cluster.inCluster
      ? yield* InCluster.load()
      : yield* KubeConnection.load({ kubeconfig: cluster.kubeconfig, context: cluster.context })
    return yield* KubeTokenFetcher.scoped().pipe(Effect.provide(KubeConnection.layerFrom(connection)))
  })

/**
 * Runs the agent of a configuration file until interrupted, with the fetcher that `fetcherFor` builds for the loaded
 * configuration (in the agent's scope). The configured logger applies to everything after the file was read.
 */
export const runWith = <E, R>(
  configPath: string,
  fetcherFor: (config: AgentConfig) => Effect.Effect<TokenFetcher.TokenFetcher, E, R>,
): Effect.Effect<never, ConfigError | EndpointError | E, Platform | Exclude<R, Scope.Scope>> =>
  Effect.gen(function* () {
    const config = yield* Config.load(configPath)
    return yield* Effect.scoped(Effect.gen(function* () {
      const agent = yield* start(config, yield* fetcherFor(config))
      yield* watchHangups(agent)
      return yield* Effect.never
    })).pipe(Effect.provide(Logging.layer(config.log)))
  })

/** Runs the agent of a configuration file against its Kubernetes cluster until interrupted. */
export const run = (configPath: string): Effect.Effect<never, AgentError, Platform | TlsHttpClient> =>
  runWith(configPath, (config) => kubeFetcher(config.cluster))
