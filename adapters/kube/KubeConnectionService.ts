/**
 * The {@link KubeConnection} service and what loading one takes: the model shared by the loaders (`Kubeconfig.ts`,
 * `InCluster.ts`) and by `KubeConnection.ts`, which picks one of them.
 *
 * @module
 */
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type { TlsOptions } from "../platform/TlsHttpClient.ts"
import type { KubeConnectionError } from "./KubeConnectionError.ts"

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
  /** The kubeconfig user whose credentials it uses, when it came from a kubeconfig (named in connection errors). */
  readonly user?: string | undefined
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
