/**
 * What each command `sa-token permissions` prints flags for will touch ({@link Permissions.Needs}), read from the
 * agent's config, the kubeconfig the CLI would read, the environment and, for the agent's socket, the socket's path
 * itself, which is first checked as `exec-credential` checks it.
 *
 * @module
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as YAML from "yaml"
import type * as AgentConfig from "../agent/Config.ts"
import * as Endpoint from "../agent/Endpoint.ts"
import * as EndpointClient from "../agent/EndpointClient.ts"
import { locate } from "../kube/KubeconfigFiles.ts"
import type { PrivateFile } from "../platform/PrivateFile.ts"
import { type ExecCredentialError, numericOwner, socketOwner } from "./ExecCredentialCommand.ts"
import * as Permissions from "./Permissions.ts"

type Entry = Record<string, unknown>
const isEntry = (u: unknown): u is Entry => typeof u === "object" && u !== null && !Array.isArray(u)
const named = (docs: ReadonlyArray<readonly [string, Entry]>, list: string, name: unknown) => {
  for (const [file, doc] of docs) {
    const found = (Array.isArray(doc[list]) ? doc[list] : []).find((e): e is Entry => isEntry(e) && e.name === name)
    if (found !== undefined) return { file, entry: found }
  }
  return undefined
}

/** A non-empty environment variable; none when unset, empty or not readable. */
export const variable = (name: string): Effect.Effect<Option.Option<string>> =>
  Config.option(Config.nonEmptyString(name)).pipe(Effect.orElseSucceed(() => Option.none<string>()))

/** Reads the kubeconfig files the CLI would read and selects the context's cluster and user, as the CLI does. */
export const kubeconfigTarget = (
  options: { readonly kubeconfig?: string | undefined; readonly context?: string | undefined },
): Effect.Effect<Permissions.KubeconfigTarget, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const files = yield* locate(options)
    const docs: Array<readonly [string, Entry]> = []
    for (const [file] of files) {
      const text = yield* fs.readFileString(file).pipe(Effect.option)
      if (Option.isNone(text)) continue
      const doc = Option.liftThrowable((t: string): unknown => YAML.parse(t))(text.value).pipe(Option.filter(isEntry))
      if (Option.isSome(doc)) docs.push([file, doc.value])
    }
    const contextName = options.context ??
      docs.map(([, d]) => d["current-context"]).find((c) => typeof c === "string" && c !== "")
    const context = named(docs, "contexts", contextName)?.entry.context
    const clusterName = isEntry(context) ? context.cluster : undefined
    const userName = isEntry(context) ? context.user : undefined
    const cluster = named(docs, "clusters", clusterName)
    const user = named(docs, "users", userName)
    const fileOf = (at: { file: string; entry: Entry } | undefined, section: string, key: string): Array<string> => {
      const body = at?.entry[section]
      const value = isEntry(body) ? body[key] : undefined
      return typeof value === "string" && value !== "" ? [path.resolve(path.dirname(at!.file), value)] : []
    }
    const clusterBody = cluster?.entry.cluster
    const userBody = user?.entry.user
    const exec = isEntry(userBody) && isEntry(userBody.exec) && typeof userBody.exec.command === "string"
      ? userBody.exec.command
      : undefined
    return {
      files: files.map(([file]) => file),
      server: isEntry(clusterBody) && typeof clusterBody.server === "string" ? clusterBody.server : undefined,
      named: [
        ...fileOf(cluster, "cluster", "certificate-authority"),
        ...fileOf(user, "user", "client-certificate"),
        ...fileOf(user, "user", "client-key"),
        ...fileOf(user, "user", "tokenFile"),
      ],
      // A relative command with a slash runs relative to the kubeconfig's directory; a bare name is looked up in PATH.
      exec: exec !== undefined && exec.includes("/") ? path.resolve(path.dirname(user!.file), exec) : exec,
    }
  })

/** The needs of reaching the cluster: the in-cluster configuration, or a kubeconfig. */
const clusterNeeds = (
  cluster: { readonly kubeconfig?: string | undefined; readonly context?: string | undefined; inCluster: boolean },
) =>
  Effect.gen(function* () {
    if (cluster.inCluster) {
      const [host, port] = yield* Effect.all([variable("KUBERNETES_SERVICE_HOST"), variable("KUBERNETES_SERVICE_PORT")])
      return Permissions.inCluster(Option.getOrUndefined(host), Option.getOrUndefined(port))
    }
    return Permissions.kubeconfig(yield* kubeconfigTarget(cluster))
  })

/** The needs of the agent's configuration: its file, its cluster, its sinks, hooks and endpoint. */
export const agentNeeds = (
  config: AgentConfig.AgentConfig,
  path: Path.Path,
): Effect.Effect<Permissions.Needs, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    // With no cluster section, the agent uses a kubeconfig when one exists, else the in-cluster configuration.
    const target = yield* kubeconfigTarget(config.cluster)
    const useKubeconfig = !config.cluster.inCluster && (config.cluster.kubeconfig !== undefined ||
      (yield* Effect.forEach(target.files, (f) => Effect.flatMap(FileSystem.FileSystem, (fs) => fs.exists(f))).pipe(
        Effect.map((e) => e.some((x) => x)),
        Effect.orElseSucceed(() => false),
      )))
    const cluster = yield* clusterNeeds({ ...config.cluster, inCluster: !useKubeconfig })
    const sinks = config.tokens.flatMap((t) => t.file !== undefined ? [path.dirname(t.file.path)] : [])
    const hooks = config.tokens.flatMap((t) => t.hooks?.command !== undefined ? [t.hooks.command[0]!] : [])
    const pidFiles = config.tokens.flatMap((t) => t.hooks?.signal !== undefined ? [t.hooks.signal.pidFile] : [])
    // An owner or group given by name is resolved through the account database.
    const accounts = config.tokens.some((t) => typeof t.file?.owner === "string" || typeof t.file?.group === "string")
      ? Permissions.accountDatabase
      : []
    const endpoint = config.endpoint
    return Permissions.merge(cluster, {
      ...Permissions.none,
      read: [config.file, ...pidFiles, ...accounts],
      // The socket is bound under a temporary name in its directory, then renamed into place.
      write: [...sinks, ...(endpoint?._tag === "Unix" ? [path.dirname(endpoint.path)] : [])],
      // Deno checks a unix socket's bind and connect (the probe of a stale socket) as net access to `unix:PATH`.
      net: endpoint?._tag === "Tcp"
        ? [endpoint.host.includes(":") ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`]
        : endpoint?._tag === "Unix"
        ? [`unix:${path.join(Endpoint.privateDirectory(endpoint.path), "s")}`, `unix:${endpoint.path}`]
        : [],
      // The owner checks of the token files and their directories compare with the agent's user and group.
      sys: ["uid", "getegid"],
      run: hooks,
      // A hook command inherits the agent's whole environment.
      allEnv: hooks.length > 0,
      // Signalling a process by PID (a signal hook) needs Deno's unrestricted --allow-run.
      allRun: pidFiles.length > 0,
    })
  })

/** What asking the agent needs, found by checking its socket as `exec-credential` would. */
type AgentNeeds = Effect.Effect<
  Permissions.Needs,
  ExecCredentialError | EndpointClient.EndpointClientError,
  FileSystem.FileSystem | Path.Path | PrivateFile
>

/**
 * What asking the agent on the unix socket at `socket` needs ({@link Permissions.agentSocket}). The socket is first
 * checked as `exec-credential` checks it (`EndpointClient.checkSocket`), in full: under the printed flags that check
 * cannot look at the directories the socket's path goes through (Deno grants a directory only with all it holds), so
 * this command makes it with its own read access, and refuses a socket that fails it rather than print flags for it.
 */
export const socketNeeds = (
  socket: string,
  name: string,
  owner: Option.Option<string>,
): AgentNeeds =>
  Effect.gen(function* () {
    const path = (yield* Path.Path).resolve(socket)
    const uid = yield* socketOwner(owner)
    const checked = yield* EndpointClient.checkSocket(path, name, uid)
    return Permissions.agentSocket({
      path,
      links: checked.links,
      real: checked.path,
      ownerByName: Option.exists(owner, (o) => numericOwner(o) === undefined),
    })
  })

/** `exec-credential --config FILE` reads the config and asks the agent on its endpoint (a unix one as `--socket`). */
export const execCredentialAgentNeeds = (
  config: AgentConfig.AgentConfig,
  name: string,
  owner: Option.Option<string>,
): AgentNeeds =>
  Effect.gen(function* () {
    const endpoint = config.endpoint
    const asked = endpoint?._tag === "Unix" ? yield* socketNeeds(endpoint.path, name, owner) : Permissions.none
    return Permissions.merge({
      ...Permissions.none,
      read: [config.file],
      net: endpoint?._tag === "Tcp" ? [`${endpoint.host}:${endpoint.port}`] : [],
      env: [...Permissions.environmentVariables, ...Permissions.yamlVariables],
      // The config file's owner check (it may hold the endpoint's bearer token) compares with the user and group.
      sys: ["uid", "getegid"],
    }, asked)
  })
