/**
 * The lean path of `sa-token exec-credential`: the answers that need no connection to the cluster, given without
 * loading the CLI framework, the kubeconfig loader or a TLS client. kubectl runs its exec plugin on every command, so
 * this is the path it pays for almost every time:
 *
 * - `--name NAME --socket PATH`: the running agent's answer on its unix socket;
 * - `SERVICE_ACCOUNT [request flags] [--kubeconfig PATH] [--context NAME] [--cache-dir DIR]`: the on-disk cache entry
 *   of the request, when the cache's token manager serves it without a TokenRequest (the kubeconfig is read and
 *   hashed, never loaded).
 *
 * Anything else, and anything that goes wrong here, is left to the full command (`ExecCredentialCommand.ts`), which
 * parses the arguments again and answers or reports the error itself: this path only ever answers with what the full
 * command would have printed, and prints nothing when it does not answer. Its command-line reading is therefore
 * strict: only the flags below, each at most once (`--audience` repeatable), as `--flag VALUE` or `--flag=VALUE`
 * (`-n VALUE`), with no empty value and no value that starts with `-` or (after `=`) holds another `=`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import { TokenFetchError } from "../../core/TokenError.ts"
import * as TokenFetcher from "../../core/TokenFetcher.ts"
 * import { parse } from "./ExecCredentialHit.ts"
 *
 * const flags = parse(["builder", "-n", "apps", "--kubeconfig=/home/me/.kube/config"])
 * assert.ok(flags !== undefined)
 * assert.deepEqual(flags.serviceAccount, Option.some("builder"))
 * assert.deepEqual(flags.namespace, Option.some("apps"))
 * assert.equal(parse(["builder", "--log-level", "debug"]), undefined)
 * ```
 *
 * @module
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import { TokenFetchError } from "../../core/TokenError.ts"
import * as TokenFetcher from "../../core/TokenFetcher.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import * as EndpointClient from "../agent/EndpointClient.ts"
import * as ExecCredential from "../agent/ExecCredential.ts"
import * as KubeconfigFiles from "../kube/KubeconfigFiles.ts"
import type { PrivateFile } from "../platform/PrivateFile.ts"
import type { Flags } from "./ExecCredentialCommand.ts"
import { requestFrom } from "./RequestFlags.ts"

type Single = Exclude<keyof Flags, "audience" | "serviceAccount">

/** The flags this path reads, by spelling; `--audience` is the repeatable one. */
const spellings: Readonly<Record<string, Single | "audience">> = {
  "--namespace": "namespace",
  "-n": "namespace",
  "--audience": "audience",
  "--duration": "duration",
  "--bound-object-kind": "boundObjectKind",
  "--bound-object-name": "boundObjectName",
  "--bound-object-uid": "boundObjectUid",
  "--kubeconfig": "kubeconfig",
  "--context": "context",
  "--name": "name",
  "--socket": "socket",
  "--config": "config",
  "--cache-dir": "cacheDir",
}

/**
 * The flags of an `exec-credential` command line (the arguments after `exec-credential`), or undefined when it is not
 * one this path reads exactly as the full command does.
 */
export const parse = (args: ReadonlyArray<string>): Flags | undefined => {
  const single: Partial<Record<Single, string>> = {}
  const audience: Array<string> = []
  let serviceAccount: string | undefined
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === "") return undefined
    if (!arg.startsWith("-")) {
      if (serviceAccount !== undefined) return undefined
      serviceAccount = arg
      continue
    }
    const equals = arg.startsWith("--") ? arg.indexOf("=") : -1
    const spelling = equals < 0 ? arg : arg.slice(0, equals)
    const value = equals < 0 ? args[++i] : arg.slice(equals + 1)
    const field = Object.hasOwn(spellings, spelling) ? spellings[spelling] : undefined
    if (field === undefined || value === undefined || value === "" || value.startsWith("-")) return undefined
    if (equals >= 0 && value.includes("=")) return undefined
    if (field === "audience") audience.push(value)
    else if (single[field] !== undefined) return undefined
    else single[field] = value
  }
  const option = (field: Single) => Option.fromNullable(single[field])
  return {
    serviceAccount: Option.fromNullable(serviceAccount),
    namespace: option("namespace"),
    audience,
    duration: option("duration"),
    boundObjectKind: option("boundObjectKind"),
    boundObjectName: option("boundObjectName"),
    boundObjectUid: option("boundObjectUid"),
    kubeconfig: option("kubeconfig"),
    context: option("context"),
    name: option("name"),
    socket: option("socket"),
    config: option("config"),
    cacheDir: option("cacheDir"),
  }
}

/** The cache directory of the flags: `--cache-dir`, else `$XDG_CACHE_HOME/sa-token`, else `~/.cache/sa-token`. */
export const cacheDirectory = (flags: Flags): Effect.Effect<string, never, Path.Path> =>
  Effect.gen(function* () {
    if (Option.isSome(flags.cacheDir)) return (yield* Path.Path).resolve(flags.cacheDir.value)
    const env = {
      XDG_CACHE_HOME: Option.getOrUndefined(yield* Config.option(Config.string("XDG_CACHE_HOME")).pipe(Effect.orDie)),
      HOME: Option.getOrUndefined(yield* Config.option(Config.string("HOME")).pipe(Effect.orDie)),
    }
    return ExecCredential.defaultDirectory(env, yield* Path.Path)
  }).pipe(Effect.catchAllDefect(() => Effect.succeed(".sa-token-cache")))

/** What the lean path needs from the runtime: files (the kubeconfig, the private cache entry) and paths. */
export type Requirements = FileSystem.FileSystem | Path.Path | PrivateFile

const fromSocket = (flags: Flags): Effect.Effect<Option.Option<TokenRequest>> =>
  Option.isSome(flags.name) && Option.isSome(flags.socket) && Option.isNone(flags.config) &&
    Option.isNone(flags.serviceAccount) && Option.isNone(flags.cacheDir) && flags.audience.length === 0 &&
    [flags.namespace, flags.duration, flags.boundObjectKind, flags.boundObjectName, flags.boundObjectUid]
      .every(Option.isNone) &&
    Option.isNone(flags.kubeconfig) && Option.isNone(flags.context)
    ? EndpointClient.token({ _tag: "Unix", path: flags.socket.value }, flags.name.value).pipe(Effect.option)
    : Effect.succeedNone

const fromCache = (flags: Flags): Effect.Effect<Option.Option<TokenRequest>, never, Requirements> =>
  Effect.gen(function* () {
    if (Option.isNone(flags.serviceAccount) || [flags.name, flags.socket, flags.config].some(Option.isSome)) {
      return Option.none()
    }
    const built = requestFrom(flags)
    if ("error" in built) return Option.none()
    const connection = {
      kubeconfig: Option.getOrUndefined(flags.kubeconfig),
      context: Option.getOrUndefined(flags.context),
    }
    const directory = yield* cacheDirectory(flags)
    const described = yield* KubeconfigFiles.describe(connection)
    if (Option.isNone(described)) return Option.none()
    const namespace = Option.getOrElse(flags.namespace, () => described.value.namespace)
    const options = { directory, cluster: described.value.identity }
    // The cache's own manager decides, with its refresh rules; when it wants a TokenRequest, this path gives up and
    // the full command, which can connect, makes the same decision again and fetches.
    const wantsFetch = yield* Ref.make(false)
    const fetcher = TokenFetcher.make(() =>
      Effect.zipRight(
        Ref.set(wantsFetch, true),
        Effect.fail(new TokenFetchError({ reason: "Transport", description: "the lean path does not connect" })),
      )
    )
    const token = yield* ExecCredential.get(namespace, flags.serviceAccount.value, built.request, options).pipe(
      Effect.provideService(TokenFetcher.TokenFetcher, fetcher),
      Effect.option,
    )
    return (yield* Ref.get(wantsFetch)) ? Option.none() : token
  })

/**
 * Answers `exec-credential ARGS` from the agent's socket or the on-disk cache when it can: prints the ExecCredential
 * and succeeds with true. Otherwise prints nothing (not even a log line: the full command reports) and succeeds with
 * false. Never fails: any failure is a reason to let the full command try.
 */
export const run = (args: ReadonlyArray<string>): Effect.Effect<boolean, never, Requirements> => {
  const flags = parse(args)
  if (flags === undefined) return Effect.succeed(false)
  return (Option.isSome(flags.name) ? fromSocket(flags) : fromCache(flags)).pipe(
    Effect.flatMap(Option.match({
      onNone: () => Effect.succeed(false),
      onSome: (response) => Console.log(ExecCredential.render(response)).pipe(Effect.as(true)),
    })),
    Effect.catchAllCause(() => Effect.succeed(false)),
    Logger.withMinimumLogLevel(LogLevel.None),
  )
}
