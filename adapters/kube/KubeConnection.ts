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
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as InCluster from "./InCluster.ts"
import * as Kubeconfig from "./Kubeconfig.ts"
import type { KubeConnectionError } from "./KubeConnectionError.ts"
import { KubeConnection } from "./KubeConnectionService.ts"
import type { Options, Requirements } from "./KubeConnectionService.ts"

export { KubeConnectionError } from "./KubeConnectionError.ts"
export type { KubeConnectionErrorFields, KubeConnectionErrorReason } from "./KubeConnectionError.ts"
export { KubeConnection } from "./KubeConnectionService.ts"
export type { Options, Requirements } from "./KubeConnectionService.ts"

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
