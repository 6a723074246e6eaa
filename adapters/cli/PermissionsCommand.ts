/**
 * `sa-token permissions`: prints the exact permission flags a command needs on Deno (or, with `--runtime node`,
 * under Node's permission model), from the agent's config (`--config FILE`) or the `token` command's kubeconfig
 * (`--kubeconfig FILE`, `--context NAME`), and the environment. `--for exec-credential` adds the token cache.
 *
 * @module
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as YAML from "yaml"
import * as AgentConfig from "../agent/Config.ts"
import type { ProcessControl } from "../platform/ProcessControl.ts"
import * as Endpoint from "../agent/Endpoint.ts"
import * as ExecCredential from "../agent/ExecCredential.ts"
import { locate } from "../kube/KubeconfigFiles.ts"
import { configExitCode, exitWith } from "./AgentCommand.ts"
import type { PrivateFile } from "../platform/PrivateFile.ts"
import * as Permissions from "./Permissions.ts"

/** The flags of the command. */
export interface PermissionsFlags {
  readonly config: Option.Option<string>
  readonly kubeconfig: Option.Option<string>
  readonly context: Option.Option<string>
  readonly cacheDir: Option.Option<string>
  readonly for: "token" | "agent" | "exec-credential" | "auto"
  readonly runtime: Permissions.Runtime
}

type Entry = Record<string, unknown>
const isEntry = (u: unknown): u is Entry => typeof u === "object" && u !== null && !Array.isArray(u)
const named = (docs: ReadonlyArray<readonly [string, Entry]>, list: string, name: unknown) => {
  for (const [file, doc] of docs) {
    const found = (Array.isArray(doc[list]) ? doc[list] : []).find((e): e is Entry => isEntry(e) && e.name === name)
    if (found !== undefined) return { file, entry: found }
  }
  return undefined
}

const env = (name: string) =>
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
      const [host, port] = yield* Effect.all([env("KUBERNETES_SERVICE_HOST"), env("KUBERNETES_SERVICE_PORT")])
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
      ? ["/etc/passwd", "/etc/group"]
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

/** Computes the flags for the parsed command line. */
export const compute = (
  flags: PermissionsFlags,
): Effect.Effect<ReadonlyArray<string>, AgentConfig.ConfigError, FileSystem.FileSystem | Path.Path | PrivateFile> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const kind = flags.for !== "auto" ? flags.for : Option.isSome(flags.config) ? "agent" : "token"
    let needs: Permissions.Needs
    if (kind === "agent" || (kind === "exec-credential" && Option.isSome(flags.config))) {
      if (Option.isNone(flags.config)) {
        return yield* new AgentConfig.ConfigError({
          reason: "Invalid",
          file: "--for agent",
          issues: [{ path: "", message: "--config FILE is required" }],
        })
      }
      const file = path.resolve(flags.config.value)
      const text = yield* fs.readFileString(file).pipe(
        Effect.mapError((error) =>
          new AgentConfig.ConfigError({
            reason: error._tag === "SystemError" && error.reason === "NotFound" ? "NotFound" : "Read",
            file,
            issues: [{ path: "", message: error._tag === "SystemError" ? error.reason : "unreadable" }],
          })
        ),
      )
      const config = yield* AgentConfig.parseText(text, file).pipe(
        Effect.flatMap((doc) => AgentConfig.decode(doc, file, path)),
      )
      // Under its least-privilege flags, Deno does not let the agent look at the directories above its token
      // directories, so its check that no other user can write them sees only what it may read. This command reads
      // with the same rules and more permission: it makes that check in full (as the agent run with every permission
      // does), and refuses a configuration that fails it rather than print flags for it.
      if (kind === "agent") yield* AgentConfig.load(file)
      needs = kind === "agent" ? yield* agentNeeds(config, path) : yield* execCredentialAgentNeeds(config)
    } else {
      needs = Permissions.kubeconfig(
        yield* kubeconfigTarget({
          kubeconfig: Option.getOrUndefined(flags.kubeconfig),
          context: Option.getOrUndefined(flags.context),
        }),
      )
    }
    if (kind === "exec-credential" && Option.isNone(flags.config)) {
      const cache = Option.isSome(flags.cacheDir)
        ? path.resolve(flags.cacheDir.value)
        : ExecCredential.defaultDirectory({
          XDG_CACHE_HOME: Option.getOrUndefined(yield* env("XDG_CACHE_HOME")),
          HOME: Option.getOrUndefined(yield* env("HOME")),
        }, path)
      // The cache's files are private: their owner is checked against the user and group.
      needs = Permissions.merge(needs, { ...Permissions.none, read: [cache], write: [cache], sys: ["uid", "getegid"] })
    }
    if (flags.runtime === "deno") return Permissions.render(needs, "deno")
    // Node reads the package itself: this module is two levels below its root both in the sources (adapters/cli)
    // and in the npm bin's bundle (dist/bin); and its dependencies, in the node_modules holding client-node.
    const packageRoot = yield* path.fromFileUrl(new URL("../../", import.meta.url)).pipe(Effect.option)
    const dependencies = yield* Effect.try(() => new URL(import.meta.resolve("@kubernetes/client-node"))).pipe(
      Effect.flatMap((url) => path.fromFileUrl(url)),
      Effect.map((file) => {
        const marker = `${path.sep}node_modules${path.sep}`
        const at = file.lastIndexOf(marker)
        return at < 0 ? [] : [file.slice(0, at + marker.length)]
      }),
      Effect.orElseSucceed(() => []),
    )
    needs = Permissions.merge({ ...Permissions.none, read: dependencies }, needs)
    return Permissions.render(needs, "node", Option.getOrUndefined(packageRoot))
  })

/** `exec-credential --config FILE` reads the config and asks the agent on its endpoint. */
const execCredentialAgentNeeds = (config: AgentConfig.AgentConfig): Effect.Effect<Permissions.Needs> =>
  Effect.succeed({
    ...Permissions.none,
    read: [config.file, ...(config.endpoint?._tag === "Unix" ? [config.endpoint.path] : [])],
    write: config.endpoint?._tag === "Unix" ? [config.endpoint.path] : [],
    net: config.endpoint?._tag === "Tcp"
      ? [`${config.endpoint.host}:${config.endpoint.port}`]
      : config.endpoint?._tag === "Unix"
      ? [`unix:${config.endpoint.path}`]
      : [],
    env: [...Permissions.environmentVariables, ...Permissions.yamlVariables],
    // The config file's owner check (it may hold the endpoint's bearer token) compares with the user and group.
    sys: ["uid", "getegid"],
  })

const optional = (name: string, description: string) =>
  Options.text(name).pipe(Options.withDescription(description), Options.optional)

/** The `permissions` subcommand. */
export const command: Command.Command<
  "permissions",
  FileSystem.FileSystem | Path.Path | PrivateFile | ProcessControl,
  never,
  PermissionsFlags
> = Command.make(
  "permissions",
  {
    config: optional("config", "the agent's configuration file"),
    kubeconfig: optional("kubeconfig", "the kubeconfig of the token command"),
    context: optional("context", "the kubeconfig context of the token command"),
    cacheDir: optional("cache-dir", "the token cache directory of exec-credential"),
    for: Options.choice("for", ["auto", "token", "agent", "exec-credential"]).pipe(
      Options.withDescription("the command to run (default: agent with --config, else token)"),
      Options.withDefault("auto" as const),
    ),
    runtime: Options.choice("runtime", ["deno", "node"]).pipe(
      Options.withDescription("print Deno's flags (default) or those of Node's permission model"),
      Options.withDefault("deno" as const),
    ),
  },
  (flags) =>
    compute(flags).pipe(
      Effect.flatMap((list) => Console.log(list.join(" "))),
      Effect.catchTag("ConfigError", (error) => exitWith(configExitCode, error.message)),
    ),
).pipe(Command.withDescription("Print the least-privilege permission flags a command needs on Deno or Node"))
