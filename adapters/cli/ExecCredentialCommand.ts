/**
 * `sa-token exec-credential`: a kubectl exec credential plugin printing a `client.authentication.k8s.io/v1`
 * ExecCredential on stdout.
 *
 * - `--name NAME --socket PATH` asks a running agent over its socket, only when the socket can only be the agent's:
 *   owned by root, the caller or `--socket-owner USER`, in directories no other user can write (`SocketTrust.ts`).
 * - `--name NAME --config FILE` asks the agent of that config (its endpoint); when no agent answers, or the config
 *   declares no endpoint, it fetches the declared token itself through the shared on-disk cache.
 * - `SERVICE_ACCOUNT [-n NS] [--audience A]... [--duration D] [--bound-object-kind K --bound-object-name N
 *   [--bound-object-uid U]] [--kubeconfig PATH] [--context NAME]` fetches through the shared on-disk cache, so that
 *   kubectl does not cause a TokenRequest on every invocation.
 *
 * Flag validation and messages follow `kubectl create token`. Logs and errors go to stderr (stdout is kubectl's);
 * errors exit non-zero and never contain a token.
 *
 * @module
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as ErrorBase from "../../core/ErrorBase.ts"
import * as Effect from "effect/Effect"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as FiberRef from "effect/FiberRef"
import * as HashSet from "effect/HashSet"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { TokenFetchError } from "../../core/TokenError.ts"
import * as TokenFetcher from "../../core/TokenFetcher.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import * as InCluster from "../kube/InCluster.ts"
import * as KubeConnection from "../kube/KubeConnection.ts"
import * as Kubeconfig from "../kube/Kubeconfig.ts"
import * as KubeTokenFetcher from "../kube/KubeTokenFetcher.ts"
import type { TlsHttpClient } from "../platform/TlsHttpClient.ts"
import type { LocalHttp } from "../platform/LocalHttp.ts"
import type { PrivateFile } from "../platform/PrivateFile.ts"
import type { ProcessControl } from "../platform/ProcessControl.ts"
import * as AgentConfig from "../agent/Config.ts"
import * as EndpointClient from "../agent/EndpointClient.ts"
import * as ExecCredential from "../agent/ExecCredential.ts"
import * as Ownership from "../agent/Ownership.ts"
import type { EndpointConfig } from "../agent/Endpoint.ts"
import type { RequestFlags } from "./TokenFlags.ts"
import { requestFrom, requestOptions } from "./TokenFlags.ts"
import * as MissingPermission from "./MissingPermission.ts"

/** The parsed flags: a token request (as for `token`), or a declared token's name with a socket or config. */
export interface Flags extends RequestFlags {
  readonly name: Option.Option<string>
  readonly socket: Option.Option<string>
  readonly config: Option.Option<string>
  readonly socketOwner: Option.Option<string>
  readonly cacheDir: Option.Option<string>
}

/** The fields of an {@link ExecCredentialError}. */
export interface ExecCredentialErrorFields {
  readonly reason: "Usage" | "Failed"
  readonly detail: string
}

const ExecCredentialErrorBase: ErrorBase.Constructor<"ExecCredentialError", ExecCredentialErrorFields> = ErrorBase.make(
  "ExecCredentialError",
  (e) => e.reason === "Usage" ? `error: ${e.detail}` : `failed to create token: ${e.detail}`,
)

/** The command failed; the message is what kubectl shows the user. */
export class ExecCredentialError extends ExecCredentialErrorBase {}

const usage = (detail: string) => new ExecCredentialError({ reason: "Usage", detail })
const failed = (error: { readonly message: string }) =>
  new ExecCredentialError({ reason: "Failed", detail: error.message })

type Requirements = KubeConnection.Requirements | TlsHttpClient | PrivateFile | LocalHttp | ProcessControl

/**
 * The TokenRequest fetcher of a connection loaded only when the cache misses: a hit loads no credentials and runs no
 * exec plugin. A connection that cannot be loaded fails the fetch with its message.
 */
const lazyFetcher = (
  load: Effect.Effect<KubeConnection.KubeConnection, { readonly message: string }, Requirements>,
): Effect.Effect<TokenFetcher.TokenFetcher, never, Requirements | Scope.Scope> =>
  Effect.gen(function* () {
    const context = yield* Effect.context<Requirements | Scope.Scope>()
    const connect = yield* Effect.cached(
      Effect.flatMap(load, (conn) => KubeTokenFetcher.scoped().pipe(Effect.provide(KubeConnection.layerFrom(conn))))
        .pipe(
          Effect.mapError((error) => new TokenFetchError({ reason: "Transport", description: error.message })),
          Effect.provide(context),
        ),
    )
    return TokenFetcher.make((namespace, name, request) =>
      Effect.flatMap(connect, (fetcher) => fetcher.fetch(namespace, name, request))
    )
  })

/**
 * Fetches through the on-disk cache with the cluster's connection; `namespace` defaults to the context's. A kubeconfig
 * is only described (read and hashed) until the cache misses: a hit loads no credentials and runs no exec plugin.
 */
const fetchCached = (
  flags: Flags,
  connection: KubeConnection.Options & { readonly inCluster?: boolean | undefined },
  serviceAccount: string,
  namespace: string | undefined,
  request: TokenRequest,
): Effect.Effect<TokenRequest, ExecCredentialError, Requirements> =>
  Effect.gen(function* () {
    const directory = yield* ExecCredential.directory(Option.getOrUndefined(flags.cacheDir))
    const described = connection.inCluster === true ? Option.none() : yield* Kubeconfig.describe(connection)
    if (Option.isSome(described)) {
      const ns = namespace ?? described.value.namespace
      if (ns === "") return yield* usage("--namespace is required")
      const options = { directory, cluster: described.value.identity }
      // so that the next call without --namespace can find its entry without parsing the kubeconfig again
      if (namespace === undefined) yield* ExecCredential.rememberNamespace(options, described.value.namespace)
      const fetcher = yield* lazyFetcher(KubeConnection.load(connection))
      return yield* ExecCredential.get(ns, serviceAccount, request, options)
        .pipe(Effect.provideService(TokenFetcher.TokenFetcher, fetcher))
    }
    const conn = yield* (connection.inCluster === true ? InCluster.load() : KubeConnection.load(connection))
    const cluster = `${conn.server} ${conn.description}`
    const fetcher = KubeTokenFetcher.layer().pipe(Layer.provide(KubeConnection.layerFrom(conn)))
    const ns = namespace ?? conn.namespace
    if (ns === "") return yield* usage("--namespace is required")
    return yield* ExecCredential.get(ns, serviceAccount, request, { directory, cluster }).pipe(Effect.provide(fetcher))
  }).pipe(Effect.scoped, Effect.mapError((error) => error instanceof ExecCredentialError ? error : failed(error)))

/** The uid a `--socket-owner` written as digits gives; `undefined` for a user name. */
export const numericOwner = (owner: string): number | undefined => Ownership.userId(owner, Ownership.noAccounts)

/** The uid of `--socket-owner`: digits, or a user name in `/etc/passwd` (read only for a name). */
export const socketOwner = (
  owner: Option.Option<string>,
): Effect.Effect<number | undefined, ExecCredentialError, FileSystem.FileSystem> =>
  Option.match(owner, {
    onNone: () => Effect.succeed(undefined),
    onSome: (owner) => {
      const numeric = numericOwner(owner)
      if (numeric !== undefined) return Effect.succeed(numeric)
      return Effect.flatMap(Ownership.load, (accounts) => {
        const uid = Ownership.userId(owner, accounts)
        return uid === undefined
          ? usage(`--socket-owner: no user named "${owner}" in /etc/passwd`)
          : Effect.succeed(uid)
      })
    },
  })

/**
 * Asks the agent at `endpoint`; a unix socket only when it can only be the agent's, and on its real path
 * ({@link EndpointClient.trustSocket}).
 */
const ask = (flags: Flags, endpoint: EndpointConfig, name: string) =>
  Effect.gen(function* () {
    if (endpoint._tag !== "Unix") return yield* EndpointClient.token(endpoint, name)
    const path = yield* EndpointClient.trustSocket(endpoint.path, name, yield* socketOwner(flags.socketOwner))
    return yield* EndpointClient.token({ ...endpoint, path }, name)
  })

const fromConfig = (flags: Flags, file: string, name: string) =>
  Effect.gen(function* () {
    const config = yield* AgentConfig.load(file, { writer: false }).pipe(Effect.mapError(failed))
    const spec = config.tokens.find((token) => token.name === name)
    if (spec === undefined) return yield* usage(`token "${name}" is not declared in ${config.file}`)
    if (config.endpoint !== undefined) {
      const asked = yield* ask(flags, config.endpoint, name).pipe(Effect.either)
      if (asked._tag === "Right") return asked.right
      if (asked.left._tag === "ExecCredentialError") return yield* asked.left
      if (asked.left.reason !== "Unavailable") return yield* failed(asked.left)
      yield* Effect.logDebug("exec-credential: no agent is listening; fetching the token directly")
    }
    return yield* fetchCached(flags, config.cluster, spec.serviceAccount, spec.namespace, spec.request)
  })

/** Runs the command for parsed flags and returns the ExecCredential text. */
export const credential = (flags: Flags): Effect.Effect<string, ExecCredentialError, Requirements> =>
  Effect.gen(function* () {
    const tokenFlags = [flags.namespace, flags.duration, flags.boundObjectKind, flags.kubeconfig, flags.context]
      .some(Option.isSome) || flags.audience.length > 0
    let response: TokenRequest
    if (Option.isSome(flags.name)) {
      if (Option.isSome(flags.serviceAccount) || tokenFlags) {
        return yield* usage("--name cannot be combined with a service account or token flags")
      }
      if (Option.isSome(flags.socket) === Option.isSome(flags.config)) {
        return yield* usage("--name needs exactly one of --socket or --config")
      }
      response = Option.isSome(flags.socket)
        ? yield* ask(flags, { _tag: "Unix", path: flags.socket.value }, flags.name.value).pipe(
          Effect.mapError((error) => error._tag === "ExecCredentialError" ? error : failed(error)),
        )
        : yield* fromConfig(flags, Option.getOrThrow(flags.config), flags.name.value)
    } else {
      if (Option.isNone(flags.serviceAccount)) return yield* usage("service account name is required")
      if (Option.isSome(flags.socket) || Option.isSome(flags.config) || Option.isSome(flags.socketOwner)) {
        return yield* usage("--socket, --config and --socket-owner need --name")
      }
      const built = requestFrom(flags)
      if ("error" in built) return yield* usage(built.error)
      const connection = {
        kubeconfig: Option.getOrUndefined(flags.kubeconfig),
        context: Option.getOrUndefined(flags.context),
      }
      const namespace = Option.getOrUndefined(flags.namespace)
      if (namespace === "") return yield* usage("--namespace is required")
      response = yield* fetchCached(flags, connection, flags.serviceAccount.value, namespace, built.request)
    }
    return ExecCredential.render(response)
  })

const text = (name: string, description: string) =>
  Options.text(name).pipe(Options.withDescription(description), Options.optional)

/**
 * The command's flags as `@effect/cli` reads them: the request flags of `token`, and `--name`, `--socket`, `--config`
 * and `--cache-dir`. The lean answers read the same command line without the framework (`ExecCredentialLean.parse`);
 * a property test holds the two readings to agree.
 */
export const flags = {
  ...requestOptions,
  name: text("name", "the token's name in the agent's config"),
  socket: text("socket", "the agent's unix socket"),
  config: text("config", "the agent's config file (its endpoint and token declarations)"),
  socketOwner: text("socket-owner", "the user the agent runs as, trusted to own its socket besides root and you"),
  cacheDir: text("cache-dir", "the token cache directory (default $XDG_CACHE_HOME/sa-token or ~/.cache/sa-token)"),
}

// The only logger: the runtime's pretty logger writes to stdout, where kubectl expects the ExecCredential alone.
const stderrLogger = Layer.locallyScoped(
  FiberRef.currentLoggers,
  HashSet.make(Logger.withConsoleError(Logger.logfmtLogger)),
)

/** The `exec-credential` subcommand. */
export const command: Command.Command<"exec-credential", Requirements, ExecCredentialError, Flags> = Command.make(
  "exec-credential",
  flags,
  (parsed) =>
    credential(parsed).pipe(
      Effect.flatMap((output) => Console.log(output)),
      Effect.tapError((error) => MissingPermission.report(error, error.message)),
      Effect.provide(stderrLogger),
    ),
).pipe(Command.withDescription("Print a client.authentication.k8s.io/v1 ExecCredential for kubectl"))
