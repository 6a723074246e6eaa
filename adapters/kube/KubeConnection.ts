/**
 * A connection to a Kubernetes API server: its URL, the TLS material to reach it, the default namespace and the
 * credentials to present. Built from kubeconfig (`Kubeconfig.ts`) or from a pod's service-account files
 * (`InCluster.ts`); `layer` picks one the way kubectl does.
 *
 * @example
 * ```ts
 * import * as KubeConnection from "./KubeConnection.ts"
 *
 * const fromFile = KubeConnection.layer({ kubeconfig: "/home/me/.kube/config", context: "dev" })
 * ```
 *
 * @module
 */
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as InCluster from "./InCluster.ts"
import * as Kubeconfig from "./Kubeconfig.ts"
import type { KubeConnectionError } from "./KubeConnectionError.ts"
import type { TlsOptions } from "../platform/TlsHttpClient.ts"

export { KubeConnectionError } from "./KubeConnectionError.ts"
export type { KubeConnectionErrorFields, KubeConnectionErrorReason } from "./KubeConnectionError.ts"

/** A connection to one API server. */
export interface KubeConnection {
  /** The server's base URL, without a trailing slash, such as `https://127.0.0.1:6443`. */
  readonly server: string
  /** The namespace of the context (or of the pod), `default` when none is set. */
  readonly namespace: string
  /** The TLS material (CA, client certificate). */
  readonly tls: TlsOptions
  /** Headers sent with every request besides `Authorization`, such as `Impersonate-User`. */
  readonly headers: Readonly<Record<string, string>>
  /**
   * The bearer token for the next request, if the user has one. File tokens are re-read at most once a minute and
   * exec plugins are run again when their credential expires, so evaluate this for every request.
   */
  readonly bearerToken: Effect.Effect<Option.Option<Redacted.Redacted<string>>, KubeConnectionError>
  /** Tells the connection that the server answered 401, so that a cached file token is re-read next time. */
  readonly unauthorized: Effect.Effect<void>
  /** Where the connection came from, for logs: `kubeconfig context "dev"` or `in-cluster`. */
  readonly description: string
}

/** The tag of the {@link KubeConnection} service. */
export const KubeConnection: Context.Tag<KubeConnection, KubeConnection> = Context.GenericTag<KubeConnection>(
  "@sa-token/manager/KubeConnection",
)

/** How to find the connection. */
export interface Options {
  /** An explicit kubeconfig file (kubectl's `--kubeconfig`); otherwise `KUBECONFIG`, then `~/.kube/config`. */
  readonly kubeconfig?: string | undefined
  /** The context to use instead of `current-context`. */
  readonly context?: string | undefined
  /** The directory of the in-cluster service-account files (for tests). */
  readonly inClusterDirectory?: string | undefined
}

/** The services loading a connection needs. */
export type Requirements = FileSystem.FileSystem | Path.Path | CommandExecutor.CommandExecutor

/**
 * Loads the connection as kubectl does: an explicit `kubeconfig` or `context`, `KUBECONFIG` or an existing
 * `~/.kube/config` means kubeconfig; otherwise the in-cluster configuration when `KUBERNETES_SERVICE_HOST` is set.
 */
export const load = (options: Options = {}): Effect.Effect<KubeConnection, KubeConnectionError, Requirements> =>
  Effect.gen(function* () {
    const explicit = options.kubeconfig !== undefined || options.context !== undefined
    if (explicit || (yield* Kubeconfig.available(options)) || !(yield* InCluster.available)) {
      return yield* Kubeconfig.load(options)
    }
    return yield* InCluster.load({ directory: options.inClusterDirectory })
  })

/** A layer providing the connection found by {@link load}. */
export const layer = (options: Options = {}): Layer.Layer<KubeConnection, KubeConnectionError, Requirements> =>
  Layer.effect(KubeConnection, load(options))

/** A layer providing the kubeconfig connection only. */
export const layerKubeconfig = (
  options: Options = {},
): Layer.Layer<KubeConnection, KubeConnectionError, Requirements> =>
  Layer.effect(KubeConnection, Kubeconfig.load(options))

/** A layer providing the in-cluster connection only. */
export const layerInCluster = (
  options: InCluster.Options = {},
): Layer.Layer<KubeConnection, KubeConnectionError, Requirements> =>
  Layer.effect(KubeConnection, InCluster.load(options))

/** A layer providing a fixed connection (tests, or a caller that built one). */
export const layerFrom = (connection: KubeConnection): Layer.Layer<KubeConnection> =>
  Layer.succeed(KubeConnection, connection)
