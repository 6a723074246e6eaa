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
import { ProcessControl } from "../platform/ProcessControl.ts"
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
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import type { Cluster, Context as KubeContext, KubeConfig, User } from "@kubernetes/client-node"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { ProcessControl } from "../platform/ProcessControl.ts"
import * as YAML from "yaml"
import * as PermittedEnvironment from "../platform/PermittedEnvironment.ts"
import * as ExecPlugin from "./ExecPlugin.ts"
import type { Entry } from "./ExecPlugin.ts"
import { isObject } from "./ExecPlugin.ts"
import * as FileToken from "./FileToken.ts"
import { KubeConnectionError } from "./KubeConnectionError.ts"
import { locate } from "./KubeconfigFiles.ts"
import type { KubeConnection, Options, Requirements } from "./KubeConnectionService.ts"

export { available, describe } from "./KubeconfigContext.ts"
export type { Description } from "./KubeconfigContext.ts"

/**
 * Loads `@kubernetes/client-node` on first use: it is large, and commands that need no kubeconfig skip it. Its
 * node-fetch 2 requires the deprecated `punycode` module, which Deno reports as DEP0040 on every run; the warning
 * is about a dependency, not something a user can act on, so it is muted for the duration of the import only, where
 * the runtime's {@link ProcessControl} is provided (muting a warning is no reason to require it). Its dependencies read
 * the environment as they load: they see only the variables the runtime grants.
 */
const loadClientNode = Effect.tryPromise({
  try: () => PermittedEnvironment.load(() => import("@kubernetes/client-node")),
  catch: (error) =>
    new KubeConnectionError({
      reason: "ReadFailed",
      source: "kubeconfig",
      detail: `cannot load @kubernetes/client-node: ${error instanceof Error ? error.message : String(error)}`,
    }),
})

const newKubeConfig: Effect.Effect<KubeConfig, KubeConnectionError> = Effect.serviceOption(ProcessControl).pipe(
  Effect.flatMap(Option.match({
    onNone: () => loadClientNode,
    onSome: (control) => control.withoutDeprecationWarnings(loadClientNode),
  })),
  Effect.map((module) => new module.KubeConfig()),
)

interface Parsed {
  readonly clusters: ReadonlyArray<Cluster>
  readonly users: ReadonlyArray<User>
  readonly contexts: ReadonlyArray<KubeContext>
  readonly currentContext: string | undefined
  readonly tokenFiles: ReadonlyMap<string, string>
  /** Exec plugins by user name, prepared; they run here, not in client-node. */
  readonly execs: ReadonlyMap<string, Entry>
}

const fail = (reason: KubeConnectionError["reason"], source: string, detail: string) =>
  new KubeConnectionError({ reason, source, detail })

/** Prepares the users of one file: takes out `token-file` paths and exec plugins (checked and annotated). */
const prepareUsers = (
  file: string,
  dir: string,
  path: Path.Path,
  users: unknown,
  tokenFiles: Map<string, string>,
  execs: Map<string, Entry>,
) =>
  Effect.forEach(Array.isArray(users) ? users : [], (entry) => {
    if (!isObject(entry) || !isObject(entry.user)) return Effect.succeed(entry)
    const { "token-file": tokenFile, exec, ...user } = entry.user
    const name = String(entry.name)
    if (typeof tokenFile === "string") tokenFiles.set(name, path.resolve(dir, tokenFile))
    if (!isObject(exec)) return Effect.succeed({ ...entry, user })
    return Effect.map(ExecPlugin.prepare(file, name, dir, path, exec), (prepared) => {
      execs.set(name, prepared)
      return { ...entry, user }
    })
  })

const parseFile = (file: string, text: string) =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    const raw: unknown = yield* Effect.try({
      try: () => YAML.parse(text),
      // Only the first line: the parser goes on to quote the offending line, which may hold a token.
      catch: (error) =>
        fail(
          "Invalid",
          file,
          `cannot parse YAML: ${
            String(error instanceof Error ? error.message : error).split("\n")[0]!.replace(/:$/, "")
          }`,
        ),
    })
    if (!isObject(raw) && raw !== null && raw !== undefined) {
      return yield* fail("Invalid", file, "a kubeconfig must be a YAML mapping")
    }
    const doc: Entry = isObject(raw) ? raw : {}
    const tokenFiles = new Map<string, string>()
    const execs = new Map<string, Entry>()
    const users = yield* prepareUsers(file, path.dirname(file), path, doc.users, tokenFiles, execs)
    const kc = yield* newKubeConfig
    yield* Effect.try({
      try: () => {
        kc.loadFromString(JSON.stringify({ ...doc, users }))
        kc.makePathsAbsolute(path.dirname(file))
      },
      catch: (error) => fail("Invalid", file, error instanceof Error ? error.message : String(error)),
    })
    const currentContext = kc.getCurrentContext() as string | undefined
    return {
      clusters: kc.getClusters(),
      users: kc.getUsers(),
      contexts: kc.getContexts(),
      currentContext: currentContext === "" ? undefined : currentContext,
      tokenFiles,
      execs,
    } satisfies Parsed
  })

const firstByName = <A extends { readonly name: string }>(lists: ReadonlyArray<ReadonlyArray<A>>): Array<A> => {
  const seen = new Map<string, A>()
  for (const list of lists) for (const item of list) if (!seen.has(item.name)) seen.set(item.name, item)
  return [...seen.values()]
}

/** The entries of `pick(file)` for the users whose winning definition is in that file. */
const ofWinningUsers = <A>(files: ReadonlyArray<Parsed>, pick: (file: Parsed) => ReadonlyMap<string, A>) => {
  const result = new Map<string, A>()
  const seen = new Set<string>()
  for (const file of files) {
    for (const { name } of file.users) {
      if (seen.has(name)) continue
      seen.add(name)
      const value = pick(file).get(name)
      if (value !== undefined) result.set(name, value)
    }
  }
  return result
}

/** Merges parsed files as kubectl does: the first definition of each name, and the first `current-context`, win. */
const merge = (files: ReadonlyArray<Parsed>): Parsed => ({
  clusters: firstByName(files.map((f) => f.clusters)),
  users: firstByName(files.map((f) => f.users)),
  contexts: firstByName(files.map((f) => f.contexts)),
  currentContext: files.find((f) => f.currentContext !== undefined)?.currentContext,
  tokenFiles: ofWinningUsers(files, (f) => f.tokenFiles),
  execs: ofWinningUsers(files, (f) => f.execs),
})

/** Reads, merges and selects the context; the returned `KubeConfig` has its current context set. */
export const loadConfig = (
  options: Options = {},
): Effect.Effect<
  {
    readonly kc: KubeConfig
    readonly tokenFiles: ReadonlyMap<string, string>
    readonly execs: ReadonlyMap<string, Entry>
  },
  KubeConnectionError,
  Requirements
> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const files = yield* locate(options)
    const parsed: Array<Parsed> = []
    for (const [file, required] of files) {
      const text = yield* fs.readFileString(file).pipe(
        Effect.map(Option.some),
        Effect.catchAll((error) => {
          const missing = error._tag === "SystemError" && error.reason === "NotFound"
          if (missing && !required) return Effect.succeed(Option.none<string>())
          const detail = missing ? "no such file or directory" : error.message
          return Effect.fail(fail(missing ? "NotFound" : "ReadFailed", file, `cannot read kubeconfig: ${detail}`))
        }),
      )
      if (Option.isSome(text)) parsed.push(yield* parseFile(file, text.value))
    }
    const source = files.length === 1 ? files[0]![0] : "kubeconfig"
    if (parsed.length === 0) {
      return yield* fail(
        "NotFound",
        source,
        "no kubeconfig found: pass --kubeconfig, set KUBECONFIG or create ~/.kube/config",
      )
    }
    const merged = merge(parsed)
    const contextName = options.context ?? merged.currentContext
    if (contextName === undefined || contextName === "") {
      return yield* fail("Invalid", source, "current-context is not set and no context was given")
    }
    const kc = yield* newKubeConfig
    kc.loadFromOptions({ ...merged, currentContext: contextName })
    const context = kc.getContextObject(contextName)
    if (context === null) return yield* fail("NotFound", source, `context "${contextName}" not found`)
    if (kc.getCurrentCluster() === null) {
      return yield* fail("NotFound", source, `context "${contextName}": cluster "${context.cluster}" not found`)
    }
    if (context.user !== undefined && context.user !== "" && kc.getCurrentUser() === null) {
      return yield* fail("NotFound", source, `context "${contextName}": user "${context.user}" not found`)
    }
    return { kc, tokenFiles: merged.tokenFiles, execs: merged.execs }
  })

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
