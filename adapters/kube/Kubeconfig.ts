/**
 * The kubeconfig connection, loaded with `@kubernetes/client-node`'s `KubeConfig` and `applyToHTTPSOptions`, with
 * kubectl's rules on top: an explicit file, else every file of `KUBECONFIG` merged (the first file to define a name
 * or `current-context` wins; missing files are skipped), else `~/.kube/config`; `--context` overrides
 * `current-context`. CA, client certificate and key come as data or files; a user's `token-file` is re-read at most
 * once a minute like client-go (`FileToken.ts`); exec plugins (`client.authentication.k8s.io/v1` and `v1beta1`) run
 * with `KUBERNETES_EXEC_INFO` and again when their credential expires or is refused (`ExecPlugin.ts`);
 * `insecure-skip-tls-verify` is honoured with a loud warning.
 *
 * @example Load a kubeconfig with a bearer token
 * ```ts
 * import assert from "node:assert/strict"
 * import { mkdtempSync, writeFileSync } from "node:fs"
 * import { tmpdir } from "node:os"
 * import { join } from "node:path"
 * import { Kubeconfig } from "@sa-token/manager/kube"
 * import * as Runtime from "@sa-token/manager/node"
 * import * as Effect from "effect/Effect"
 * import * as Option from "effect/Option"
 * import * as Redacted from "effect/Redacted"
 *
 * const kubeconfig = join(mkdtempSync(join(tmpdir(), "kube-")), "config")
 * writeFileSync(
 *   kubeconfig,
 *   `apiVersion: v1
 * kind: Config
 * clusters: [{ name: dev, cluster: { server: "https://127.0.0.1:6443" } }]
 * users: [{ name: ci, user: { token: s3cret } }]
 * contexts: [{ name: dev, context: { cluster: dev, user: ci, namespace: apps } }]
 * current-context: dev
 * `,
 * )
 * const connection = await Effect.runPromise(Kubeconfig.load({ kubeconfig }).pipe(Effect.provide(Runtime.layer)))
 * assert.equal(connection.server, "https://127.0.0.1:6443")
 * assert.equal(connection.namespace, "apps")
 * const token = await Effect.runPromise(connection.bearerToken)
 * assert.equal(Option.map(token, Redacted.value).pipe(Option.getOrThrow), "s3cret")
 * ```
 *
 * @module
 */
import type { KubeConfig } from "@kubernetes/client-node"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as ExecPlugin from "./ExecPlugin.ts"
import * as FileToken from "./FileToken.ts"
import { KubeConnectionError } from "./KubeConnectionError.ts"
import { loadConfig, newKubeConfig } from "./KubeconfigMerge.ts"
import type { KubeConnection, Options, Requirements } from "./KubeConnectionService.ts"

export { available, describe } from "./KubeconfigContext.ts"
export type { Description } from "./KubeconfigContext.ts"
export { loadConfig } from "./KubeconfigMerge.ts"

const fail = (reason: KubeConnectionError["reason"], source: string, detail: string) =>
  new KubeConnectionError({ reason, source, detail })

const pem = (value: unknown): string | undefined =>
  value === undefined || value === null
    ? undefined
    : Array.isArray(value)
    ? value.map(String).join("\n")
    : String(value)

/** Runs client-node's authenticators (auth providers) and returns the TLS and header options. */
const apply = (kc: KubeConfig, source: string) =>
  Effect.tryPromise({
    try: async () => {
      const opts: { ca?: unknown; cert?: unknown; key?: unknown; headers?: Record<string, string> } = { headers: {} }
      await kc.applyToHTTPSOptions(opts as Parameters<KubeConfig["applyToHTTPSOptions"]>[0])
      return opts
    },
    catch: (error) =>
      fail("Credentials", source, `getting credentials: ${error instanceof Error ? error.message.trim() : error}`),
  })

const bearer = (headers: Record<string, string> | undefined): Option.Option<Redacted.Redacted<string>> => {
  const value = headers?.Authorization ?? headers?.authorization
  return value?.startsWith("Bearer ") ? Option.some(Redacted.make(value.slice(7))) : Option.none()
}

/** Loads the kubeconfig connection. */
export const load = (options: Options = {}): Effect.Effect<KubeConnection, KubeConnectionError, Requirements> =>
  Effect.gen(function* () {
    const { kc, tokenFiles, execs } = yield* loadConfig(options)
    const contextName = kc.getCurrentContext()
    const cluster = kc.getCurrentCluster()!
    const user = kc.getCurrentUser()
    const source = `kubeconfig context "${contextName}"`
    const server = cluster.server.replace(/\/+$/, "")
    if (!server.startsWith("https://") && !(server.startsWith("http://") && cluster.skipTLSVerify)) {
      return yield* fail("Invalid", source, `server "${server}" must be an https:// URL`)
    }
    if (cluster.skipTLSVerify && (cluster.caData || cluster.caFile)) {
      return yield* fail("Invalid", source, "specifying a root certificates file with the insecure flag is not allowed")
    }
    if (user?.username || user?.password) {
      return yield* fail("Invalid", source, `user "${user.name}": basic authentication is not supported`)
    }
    if (cluster.skipTLSVerify) {
      yield* Effect.logWarning(
        `INSECURE: cluster "${cluster.name}" sets insecure-skip-tls-verify: the API server's certificate is NOT verified, anyone on the network path can impersonate it and receive the credentials and tokens`,
      )
    }
    const opts = yield* apply(kc, source)
    const { Authorization: _a, authorization: _b, ...headers } = opts.headers ?? {}
    const tokenFile = user !== null ? tokenFiles.get(user.name) : undefined
    const fileToken = tokenFile !== undefined ? yield* FileToken.make(tokenFile) : undefined
    if (fileToken !== undefined) yield* fileToken.get
    // Like client-go, a token or client certificate in the kubeconfig takes precedence over the exec plugin.
    const exec = user !== null && !user.token && tokenFile === undefined && !user.certData && !user.certFile
      ? execs.get(user.name)
      : undefined
    const plugin = exec !== undefined
      ? yield* ExecPlugin.cached(
        source,
        exec.provideClusterInfo === true ? yield* ExecPlugin.provideClusterInfo(exec, cluster, server) : exec,
      )
      : undefined
    const credential = plugin !== undefined ? yield* plugin.get : undefined
    const initial = bearer(opts.headers)
    // After a 401, a fresh KubeConfig runs the auth provider again instead of reusing its cached token.
    const authProvider = user !== null && user.authProvider !== undefined
    let current = kc
    const fresh = Effect.map(newKubeConfig, (next) => {
      next.loadFromOptions({
        clusters: kc.getClusters(),
        users: kc.getUsers(),
        contexts: kc.getContexts(),
        currentContext: contextName,
      })
      current = next
    }).pipe(Effect.ignore) // the module is loaded by now; should it fail, the current config is kept
    return {
      server,
      namespace: kc.getContextObject(contextName)?.namespace || "default",
      tls: {
        caPem: pem(opts.ca),
        certPem: credential?.certPem ?? pem(opts.cert),
        keyPem: credential?.keyPem ??
          (opts.key !== undefined && opts.key !== null ? Redacted.make(pem(opts.key)!) : undefined),
        serverName: cluster.tlsServerName,
        insecureSkipTlsVerify: cluster.skipTLSVerify,
      },
      headers,
      bearerToken: fileToken !== undefined
        ? Effect.map(fileToken.get, Option.some)
        : plugin !== undefined
        ? Effect.map(plugin.get, (c) => c.token)
        : authProvider
        ? Effect.suspend(() => Effect.map(apply(current, source), (o) => bearer(o.headers)))
        : Effect.succeed(initial),
      unauthorized: fileToken?.invalidate ?? plugin?.invalidate ?? (authProvider ? fresh : Effect.void),
      description: source,
      user: user?.name,
    }
  })
