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
import * as ParseResult from "effect/ParseResult"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Yaml from "yaml"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import type { PrivateFile } from "../platform/PrivateFile.ts"
import { checkFiles } from "./ConfigChecks.ts"
import type { LoadOptions } from "./ConfigChecks.ts"
import { ConfigError, renderPath } from "./ConfigError.ts"
import { AgentConfigFrom } from "./ConfigSchema.ts"

export type { LoadOptions } from "./ConfigChecks.ts"
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
