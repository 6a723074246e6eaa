/**
 * The checks of a decoded agent configuration against the system, the last step of `Config.load`: what the file says
 * about owners, groups and token files is compared with the accounts and the files that exist, and, for the agent
 * that writes the token files, with who else may write their directories and the directory of its socket.
 *
 * @internal
 * @module
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { PrivateFile } from "../platform/PrivateFile.ts"
import type { AgentConfig, TokenSpec } from "./Config.ts"
import { ConfigError } from "./ConfigError.ts"
import type { ConfigIssue } from "./ConfigError.ts"
import * as Ownership from "./Ownership.ts"

/** How `Config.load` checks the files a configuration names. */
export interface LoadOptions {
  /**
   * Whether this process writes the token files (the agent; the default). Then every token file's directory, and each
   * directory above it, must be writable by no user other than root, this process's user and the file's owner (a
   * sticky directory such as `/tmp` only when the file belongs to this process's user). `exec-credential --config`
   * only reads the declarations and turns this off. The directory of a unix endpoint's socket is held to the same rule,
   * for root and this process's user.
   */
  readonly writer?: boolean | undefined
}

/**
 * Checks what a decoded configuration says about files against the system: owner and group names are resolved to
 * ids (an unknown one is an error now, not at every write), a token file may not be the configuration file or the
 * kubeconfig, two token files may not be the same file (compared by real path, and by device and inode when the file
 * exists), and, for a writer, no other user may write a token file's directory or the socket's.
 */
export const checkFiles = (
  config: AgentConfig,
  options: LoadOptions,
): Effect.Effect<AgentConfig, ConfigError, FileSystem.FileSystem | Path.Path | PrivateFile> =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    const files = yield* PrivateFile
    const issues: Array<ConfigIssue> = []
    const named = config.tokens.some((token) =>
      typeof token.file?.owner === "string" || typeof token.file?.group === "string"
    )
    const accounts: Ownership.Accounts = named ? yield* Ownership.load : { users: new Map(), groups: new Map() }
    const tokens = config.tokens.map((token, i): TokenSpec => {
      const file = token.file
      if (file === undefined) return token
      const owner = file.owner === undefined ? undefined : Ownership.userId(file.owner, accounts)
      const group = file.group === undefined ? undefined : Ownership.groupId(file.group, accounts)
      if (file.owner !== undefined && owner === undefined) {
        issues.push({ path: `tokens[${i}].file.owner`, message: "is not a user of this system (not in /etc/passwd)" })
      }
      if (file.group !== undefined && group === undefined) {
        issues.push({ path: `tokens[${i}].file.group`, message: "is not a group of this system (not in /etc/group)" })
      }
      return { ...token, file: { ...file, owner, group } }
    })
    /** A file's identities: its real path (its directory's symlinks resolved) and, if it exists, device and inode. */
    const identities = (target: string) =>
      Effect.gen(function* () {
        const directory = yield* files.realPath(path.dirname(target)).pipe(Effect.orElseSucceed(() => Option.none()))
        const real = Option.match(directory, {
          onNone: () => target,
          onSome: (d) => path.join(d, path.basename(target)),
        })
        const info = yield* files.stat(target).pipe(Effect.orElseSucceed(() => Option.none()))
        return Option.match(info, {
          onNone: () => [`path:${real}`],
          onSome: (i) => [`path:${real}`, `inode:${i.dev}:${i.ino}`],
        })
      })
    const taken = new Map<string, string>()
    for (const id of yield* identities(config.file)) taken.set(id, "the config file itself")
    if (config.cluster.kubeconfig !== undefined) {
      for (const id of yield* identities(config.cluster.kubeconfig)) taken.set(id, "the kubeconfig")
    }
    const agent = (yield* files.identity).uid
    for (const [i, token] of tokens.entries()) {
      if (token.file === undefined) continue
      const ids = yield* identities(token.file.path)
      const other = ids.map((id) => taken.get(id)).find((name) => name !== undefined)
      if (other !== undefined) {
        issues.push({
          path: `tokens[${i}].file.path`,
          message: other.startsWith("the ") ? `is ${other}` : `is also the file of ${other}`,
        })
      }
      for (const id of ids) taken.set(id, token.name)
      if (options.writer === false) continue
      const owner = typeof token.file.owner === "number" ? token.file.owner : undefined
      const problem = yield* Ownership.othersCanWrite(path.dirname(token.file.path), {
        uids: owner === undefined ? [agent] : [agent, owner],
        fileIsAgents: owner === undefined || owner === agent,
        warnUnverified: true,
      })
      if (Option.isSome(problem)) {
        issues.push({
          path: `tokens[${i}].file.path`,
          message: `${problem.value}; only root, the agent's user (uid ${agent}) and the file's owner may write ` +
            "the directory of a token file",
        })
      }
    }
    if (options.writer !== false && config.endpoint?._tag === "Unix") {
      // Whoever could write a directory on the way could move the socket's directory aside between the agent's steps
      // (bind, chmod, rename) and redirect them, and clients refuse a socket reached through such a directory anyway.
      const problem = yield* Ownership.othersCanWrite(path.dirname(config.endpoint.path), {
        uids: [agent],
        fileIsAgents: true,
        warnUnverified: true,
      })
      if (Option.isSome(problem)) {
        issues.push({
          path: "endpoint.unix.path",
          message: `${problem.value}; only root and the agent's user (uid ${agent}) may write the directory of the ` +
            "agent's socket",
        })
      }
    }
    if (issues.length > 0) return yield* new ConfigError({ reason: "Invalid", file: config.file, issues })
    return { ...config, tokens }
  })
