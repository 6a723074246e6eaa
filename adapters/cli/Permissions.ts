/**
 * The least privilege a command needs on Deno or under Node's permission model, computed from what it will touch:
 * the files it reads and writes, the hosts it connects to, the environment variables it reads and the programs it
 * runs. Pure: the caller reads the config, the kubeconfig and the environment.
 *
 * @module
 */

/** The runtimes whose permission flags can be printed. */
export type Runtime = "deno" | "node"

/** What a command will touch. Paths are absolute. */
export interface Needs {
  /** Files and directories read. */
  readonly read: ReadonlyArray<string>
  /** Directories written (and read). */
  readonly write: ReadonlyArray<string>
  /** `host:port` of each address connected to or listened on. */
  readonly net: ReadonlyArray<string>
  /** Unix sockets connected to. */
  readonly connect: ReadonlyArray<string>
  /** Environment variables read. */
  readonly env: ReadonlyArray<string>
  /**
   * Every environment variable is read: a program run inherits the whole environment (kubectl's exec plugins do, and
   * so do the agent's hook commands), and Deno checks the listing of it as access to every variable.
   */
  readonly allEnv: boolean
  /** Programs run. */
  readonly run: ReadonlyArray<string>
  /** Any process may be signalled (Deno has no narrower permission for it). */
  readonly allRun: boolean
  /** System information read (`uid`, `getegid`). */
  readonly sys: ReadonlyArray<string>
}

/** The kubeconfig user's and cluster's fields that name files, programs or addresses. */
export interface KubeconfigTarget {
  /** The kubeconfig files read, in order. */
  readonly files: ReadonlyArray<string>
  /** The selected cluster's `server`. */
  readonly server?: string | undefined
  /** Files named by the selected cluster and user (CA, client certificate and key, token file). */
  readonly named: ReadonlyArray<string>
  /** The selected user's exec plugin command, if any. */
  readonly exec?: string | undefined
}

/** The environment variables the CLI reads to find a kubeconfig, the cache and the in-cluster API server. */
export const environmentVariables: ReadonlyArray<string> = [
  "KUBECONFIG",
  "HOME",
  "XDG_CACHE_HOME",
  "KUBERNETES_SERVICE_HOST",
  "KUBERNETES_SERVICE_PORT",
]

/**
 * The `yaml` package reads these on every parse (debug logging of its lexer and composer), through `process.env`,
 * which Deno checks variable by variable.
 */
export const yamlVariables: ReadonlyArray<string> = ["LOG_TOKENS", "LOG_STREAM"]

/** The local account database, where user and group names are resolved. */
export const accountDatabase: ReadonlyArray<string> = ["/etc/passwd", "/etc/group"]

/** The files of the in-cluster configuration. */
export const inClusterDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

/** `host:port` of an `https://` or `http://` URL (default ports 443 and 80), or undefined when it is not one. */
export const hostPort = (url: string): string | undefined => {
  try {
    const u = new URL(url)
    if (u.protocol !== "https:" && u.protocol !== "http:") return undefined
    const port = u.port !== "" ? u.port : u.protocol === "https:" ? "443" : "80"
    return `${u.hostname}:${port}`
  } catch {
    return undefined
  }
}

const unique = (items: ReadonlyArray<string>): ReadonlyArray<string> => [...new Set(items)]

/** An empty set of needs. */
export const none: Needs = {
  read: [],
  write: [],
  net: [],
  connect: [],
  env: [],
  allEnv: false,
  run: [],
  allRun: false,
  sys: [],
}

/** The union of needs. */
export const merge = (...all: ReadonlyArray<Needs>): Needs => ({
  read: unique(all.flatMap((n) => n.read)),
  write: unique(all.flatMap((n) => n.write)),
  net: unique(all.flatMap((n) => n.net)),
  connect: unique(all.flatMap((n) => n.connect)),
  env: unique(all.flatMap((n) => n.env)),
  allEnv: all.some((n) => n.allEnv),
  run: unique(all.flatMap((n) => n.run)),
  allRun: all.some((n) => n.allRun),
  sys: unique(all.flatMap((n) => n.sys)),
})

/**
 * What reaching the API server through a kubeconfig needs: its files and those it names, the server's address,
 * and the exec plugin's program. The dependencies of `@kubernetes/client-node` that read the environment as they load
 * (`debug` lists every variable) see only the granted variables, so `--allow-env` stays a list, unless an exec plugin
 * runs: it inherits the whole environment.
 */
export const kubeconfig = (target: KubeconfigTarget): Needs => {
  const server = target.server !== undefined ? hostPort(target.server) : undefined
  return {
    ...none,
    read: [...target.files, ...target.named],
    net: server !== undefined ? [server] : [],
    env: [...environmentVariables, ...yamlVariables],
    allEnv: target.exec !== undefined,
    run: target.exec !== undefined ? [target.exec] : [],
  }
}

/** What the in-cluster configuration needs: its directory, the service's address and its variables. */
export const inCluster = (host: string | undefined, port: string | undefined): Needs => ({
  ...none,
  read: [inClusterDirectory],
  net: host !== undefined && port !== undefined ? [host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`] : [],
  env: [...environmentVariables, ...yamlVariables],
})

/** Where a unix socket path leads, as `permissions` found it when it checked the socket. Paths are absolute. */
export interface SocketTarget {
  /** The socket's path as given. */
  readonly path: string
  /** The symlinks its resolution follows, each as the path it is read at. */
  readonly links: ReadonlyArray<string>
  /** Its real path, which is connected to (the path as given when nothing is there yet). */
  readonly real: string
  /** Whether `--socket-owner` names a user rather than a uid: a name is looked up in the account database. */
  readonly ownerByName: boolean
}

/**
 * What `exec-credential` needs to ask the agent on its unix socket, after checking that it can only be the agent's: to
 * `lstat` the socket's path as given, each symlink on the way (and read where it points) and the real path, and to
 * `stat` that and connect to it; with a `--socket-owner` name, `/etc/passwd` and `/etc/group`, where it is looked up; and the
 * user and group it runs as, which the socket's owner is compared with. The directories the check consults are left
 * out: granting one on Deno grants all it holds, so the check skips them under these flags (and, with them, the group
 * lookup a group-writable one would need), and `permissions` checks them in full when it prints the flags.
 */
export const agentSocket = (target: SocketTarget): Needs => ({
  ...none,
  read: unique([target.path, ...target.links, target.real, ...(target.ownerByName ? accountDatabase : [])]),
  connect: [target.real],
  sys: ["uid", "getegid"],
})

/**
 * Renders the needs as command-line flags of `runtime`; nothing broader than needed. Node's permission model (20)
 * restricts only the file system, child processes and workers: it also needs to read the package itself
 * (`packageRoot`, the directory of the installed package), names each path in a flag of its own and a directory as `DIR/*` (the written paths
 * are directories), and leaves out a path inside another granted directory. A unix socket connected to is read and
 * written on Deno, which also checks the connection as net access to `unix:PATH`; Node's permission model (20) does
 * not check connections, and the socket is only read (its owner is checked).
 */
export const render = (needs: Needs, runtime: Runtime, packageRoot?: string): ReadonlyArray<string> => {
  const list = (flag: string, items: ReadonlyArray<string>) => items.length > 0 ? [`${flag}=${items.join(",")}`] : []
  // Node 20 takes one path per flag, repeated.
  const each = (flag: string, items: ReadonlyArray<string>) => items.map((item) => `${flag}=${item}`)
  if (runtime === "node") {
    // `DIR/*` grants the directory and what is in it, also when it does not exist yet (the agent creates it): Node
    // 20 refuses everything inside a directory granted as `DIR` or `DIR/` that did not exist when it started.
    const directory = (p: string) => p.endsWith("/") || p.endsWith("\\") ? `${p}*` : `${p}/*`
    // A path inside another granted directory is left out: it adds nothing, and Node 20 then refuses the outer
    // directory itself (`--allow-fs-write=/a/ --allow-fs-write=/a/b/` denies `mkdir /a`).
    const inside = (p: string, d: string) =>
      d !== p && d.endsWith("*") && (p.startsWith(d.slice(0, -1)) || p === d.slice(0, -2))
    const outermost = (paths: ReadonlyArray<string>) => unique(paths).filter((p) => !paths.some((d) => inside(p, d)))
    const written = outermost(needs.write.map(directory))
    const read = unique([...needs.read, ...needs.connect]).filter((p) => !needs.write.includes(p))
      .map((p) => /[/\\]$/.test(p) ? directory(p) : p)
    return [
      "--experimental-permission",
      ...each(
        "--allow-fs-read",
        outermost([...(packageRoot !== undefined ? [directory(packageRoot)] : []), ...read, ...written]),
      ),
      ...each("--allow-fs-write", written),
      ...(needs.run.length > 0 || needs.allRun ? ["--allow-child-process"] : []),
    ]
  }
  return [
    ...list("--allow-read", unique([...needs.read, ...needs.write, ...needs.connect])),
    ...list("--allow-write", unique([...needs.write, ...needs.connect])),
    ...list("--allow-net", unique([...needs.net, ...needs.connect.map((p) => `unix:${p}`)])),
    ...(needs.allEnv ? ["--allow-env"] : list("--allow-env", needs.env)),
    ...list("--allow-sys", needs.sys),
    ...(needs.allRun ? ["--allow-run"] : list("--allow-run", needs.run)),
  ]
}

/**
 * The flag a Deno permission error asks for: `Requires net access to "127.0.0.1:6443", run again with the
 * --allow-net flag` gives `--allow-net=127.0.0.1:6443`; `Requires env access, run again with the --allow-env flag`
 * gives `--allow-env`. Undefined when the message is not one.
 */
export const missingFlag = (message: string): string | undefined => {
  const match = /Requires (\w+) access(?: to "([^"]*)")?,[^\n]*?(--allow-[\w-]+)/.exec(message)
  if (match === null) return undefined
  return match[2] !== undefined && match[2] !== "" ? `${match[3]}=${match[2]}` : match[3]
}
