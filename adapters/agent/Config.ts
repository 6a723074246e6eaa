/**
 * The agent's configuration (`agent --config FILE`): YAML or JSON, decoded strictly (unknown keys are errors), with
 * defaults applied and sink paths resolved against the file's directory. Every problem becomes a {@link ConfigError}
 * that names the field path and what is wrong.
 *
 * ```yaml
 * defaults: { audiences: [vault], expirationSeconds: 3600, mode: "0600", jitter: 0.1 }
 * tokens:
 *   - name: vault
 *     namespace: default
 *     serviceAccount: builder
 *     file: { path: tokens/vault, mode: "0640", group: 1000 }
 *     hooks: { command: [systemctl, reload, app], signal: { pidFile: /run/app.pid, signal: SIGHUP } }
 * endpoint: { unix: { path: /run/sa-token.sock } }
 * budget: { qps: 5, burst: 10 }
 * log: { format: json, level: info }
 * ```
 *
 * @example Load a configuration file; a broken one names each field and what is wrong
 * ```ts
 * import assert from "node:assert/strict"
 * import { mkdtempSync, writeFileSync } from "node:fs"
 * import { tmpdir } from "node:os"
 * import { join } from "node:path"
 * import { Config } from "@sa-token/manager/agent"
 * import * as Runtime from "@sa-token/manager/node"
 * import * as Effect from "effect/Effect"
 *
 * const directory = mkdtempSync(join(tmpdir(), "config-"))
 * writeFileSync(join(directory, "good.yaml"), "tokens: [{ name: vault, namespace: apps, serviceAccount: builder }]\n")
 * writeFileSync(join(directory, "bad.yaml"), "tokens: [{ name: vault, namespace: apps, expirationSeconds: 60 }]\n")
 * const load = (file: string) => Effect.runPromise(Config.load(join(directory, file)).pipe(Effect.provide(Runtime.layer)))
 *
 * const config = await load("good.yaml")
 * assert.equal(config.tokens[0]!.expirationSeconds, 3600)
 * assert.deepEqual(config.budget, { qps: 5, burst: 10, maxInFlight: 32 })
 * await assert.rejects(load("bad.yaml"), /tokens\[0\]\.serviceAccount: is missing/)
 * ```
 *
 * @module
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Yaml from "yaml"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import { PrivateFile } from "../platform/PrivateFile.ts"
import { ConfigError, renderPath } from "./ConfigError.ts"
import type { ConfigIssue } from "./ConfigError.ts"
import { AgentConfigFrom } from "./ConfigSchema.ts"
import * as Ownership from "./Ownership.ts"

export { ConfigError } from "./ConfigError.ts"

/** A file the token is written to. */
export interface FileSinkSpec {
  /** Absolute path. */
  readonly path: string
  /** Permission bits, applied on every write. */
  readonly mode: number
  /** The file's owner (user name or UID; {@link load} resolves names to UIDs); unchanged when absent. */
  readonly owner?: number | string | undefined
  /** The file's group (group name or GID; {@link load} resolves names to GIDs); unchanged when absent. */
  readonly group?: number | string | undefined
}

/** What to do after a token was rotated. */
export interface HooksSpec {
  /** A command (argv, no shell) run after each rotation. */
  readonly command?: ReadonlyArray<string> | undefined
  /** The directory the command runs in (the config file's). */
  readonly directory: string
  /** A signal sent after each rotation to the process whose PID is in `pidFile`. */
  readonly signal?: { readonly pidFile: string; readonly signal: string } | undefined
}

/** One declared token, with defaults applied. */
export interface TokenSpec {
  /** The name the token is declared under (files, endpoint paths, logs). */
  readonly name: string
  /** The service account's namespace. */
  readonly namespace: string
  /** The service account's name. */
  readonly serviceAccount: string
  /** The audiences asked for; absent means the API server's default audiences. */
  readonly audiences?: ReadonlyArray<string> | undefined
  /** The lifetime asked for, in seconds. */
  readonly expirationSeconds: number
  /** The largest fraction of the lifetime by which a refresh is moved earlier at random. */
  readonly jitter: number
  /** The object the token is bound to (`Pod`, `Secret` or `Node`). */
  readonly boundObject?: { readonly kind: string; readonly name: string; readonly uid?: string | undefined } | undefined
  /** The file the token is written to, if any. */
  readonly file?: FileSinkSpec | undefined
  /** What to run after a rotation, if anything. */
  readonly hooks?: HooksSpec | undefined
  /** The TokenRequest sent for this token. */
  readonly request: TokenRequest
  /** The manager's cache key of `request` (safe to log). */
  readonly key: string
}

/** Which cluster to ask; with neither field, the usual kubeconfig lookup, then in-cluster. */
export interface ClusterSpec {
  /** An explicit kubeconfig file. */
  readonly kubeconfig?: string | undefined
  /** The kubeconfig context to use instead of `current-context`. */
  readonly context?: string | undefined
  /** Use the pod's in-cluster service-account credentials. */
  readonly inCluster: boolean
}

/** The local endpoint. */
export type EndpointSpec =
  | { readonly _tag: "Unix"; readonly path: string; readonly mode: number }
  | {
    readonly _tag: "Tcp"
    readonly host: string
    readonly port: number
    readonly allowNonLoopback: boolean
    readonly bearerToken: Redacted.Redacted<string>
  }

/** The resolved configuration. */
export interface AgentConfig {
  /** The absolute path of the configuration file. */
  readonly file: string
  /** Which cluster to ask for tokens. */
  readonly cluster: ClusterSpec
  /** The declared tokens. */
  readonly tokens: ReadonlyArray<TokenSpec>
  /** The local endpoint, if one is served. */
  readonly endpoint?: EndpointSpec | undefined
  /** The budget on TokenRequest calls: `qps` per second, bursts of `burst`, at most `maxInFlight` at a time. */
  readonly budget: { readonly qps: number; readonly burst: number; readonly maxInFlight: number }
  /** Log format and the lowest level written. */
  readonly log: { readonly format: "json" | "text"; readonly level: "debug" | "info" | "warning" | "error" }
}

/**
 * Schema's default messages quote the value (`Expected …, actual …`). Every schema of the file has a message of its
 * own; one that slips through is replaced rather than repeat a value, which may be a secret or 50 MB long.
 */
const unquoted = (message: string): string => /, actual /.test(message) ? "has the wrong type or value" : message

/** Decodes an already-parsed document; `file` is the absolute config path, relative paths resolve against its directory. */
export const decode = (document: unknown, file: string, path: Path.Path): Either.Either<AgentConfig, ConfigError> =>
  Either.mapLeft(
    Schema.decodeUnknownEither(AgentConfigFrom(file, path), { onExcessProperty: "error", errors: "all" })(document),
    (error) =>
      new ConfigError({
        reason: "Invalid",
        file,
        issues: ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => ({
          path: renderPath(issue.path),
          message: unquoted(issue.message),
        })),
      }),
  )

/** Parses YAML or JSON text (YAML 1.2 is a superset of JSON); syntax errors name the line, never the text. */
export const parseText = (text: string, file: string): Either.Either<unknown, ConfigError> => {
  try {
    return Either.right(Yaml.parse(text, { prettyErrors: true }))
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0]!.replace(/:$/, "") : "malformed document"
    return Either.left(new ConfigError({ reason: "Syntax", file, issues: [{ path: "", message }] }))
  }
}

/** How {@link load} checks the files a configuration names. */
export interface LoadOptions {
  /**
   * Whether this process writes the token files (the agent; the default). Then every token file's directory, and each
   * directory above it, must be writable by no user other than root, this process's user and the file's owner (a
   * sticky directory such as `/tmp` only when the file belongs to this process's user). `exec-credential --config`
   * only reads the declarations and turns this off.
   */
  readonly writer?: boolean | undefined
}

/**
 * Checks what a decoded configuration says about files against the system: owner and group names are resolved to
 * ids (an unknown one is an error now, not at every write), a token file may not be the configuration file or the
 * kubeconfig, two token files may not be the same file (compared by real path, and by device and inode when the file
 * exists), and, for a writer, no other user may write a token file's directory.
 */
const checkFiles = (
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
    if (issues.length > 0) return yield* new ConfigError({ reason: "Invalid", file: config.file, issues })
    return { ...config, tokens }
  })

/** Reads, parses, decodes and checks a configuration file (see {@link LoadOptions}). */
export const load = (
  file: string,
  options: LoadOptions = {},
): Effect.Effect<AgentConfig, ConfigError, FileSystem.FileSystem | Path.Path | PrivateFile> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const absolute = path.resolve(file)
    const text = yield* fs.readFileString(absolute).pipe(
      Effect.mapError((error) =>
        new ConfigError({
          reason: error._tag === "SystemError" && error.reason === "NotFound" ? "NotFound" : "Read",
          file: absolute,
          // An error of no known kind (such as a permission the runtime refused) keeps its description.
          issues: [{
            path: "",
            message: error._tag !== "SystemError"
              ? "unreadable"
              : error.reason === "Unknown" && error.description !== undefined
              ? error.description
              : error.reason,
          }],
        })
      ),
    )
    const document = yield* parseText(text, absolute)
    const config = yield* decode(document, absolute, path)
    // A sink path that is a directory can never be written: refuse it now rather than fail every refresh.
    const directories = yield* Effect.filter(
      config.tokens.flatMap((token, i) => token.file === undefined ? [] : [{ i, path: token.file.path }]),
      ({ path: target }) =>
        fs.stat(target).pipe(Effect.map((info) => info.type === "Directory"), Effect.orElseSucceed(() => false)),
    )
    if (directories.length > 0) {
      return yield* new ConfigError({
        reason: "Invalid",
        file: absolute,
        issues: directories.map(({ i }) => ({ path: `tokens[${i}].file.path`, message: "is a directory" })),
      })
    }
    return yield* checkFiles(config, options)
  })
