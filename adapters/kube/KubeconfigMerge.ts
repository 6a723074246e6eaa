/**
 * Reading the kubeconfig files into `@kubernetes/client-node`'s `KubeConfig` as kubectl does: each file parsed on its
 * own (its users' `token-file` paths and exec plugins taken out, checked and resolved against the file's directory,
 * since they run here and not in client-node), then merged (the first file to define a name, or `current-context`,
 * wins; a missing file of `KUBECONFIG` is skipped), and the context selected (`--context`, else `current-context`),
 * with its cluster and user required to exist.
 *
 * @module
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import type { Cluster, Context as KubeContext, KubeConfig, User } from "@kubernetes/client-node"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as YAML from "yaml"
import { ProcessControl } from "../platform/ProcessControl.ts"
import * as PermittedEnvironment from "../platform/PermittedEnvironment.ts"
import * as ExecPlugin from "./ExecPlugin.ts"
import type { Entry } from "./ExecPlugin.ts"
import { isObject } from "./ExecPlugin.ts"
import { KubeConnectionError } from "./KubeConnectionError.ts"
import { locate } from "./KubeconfigFiles.ts"
import type { Options, Requirements } from "./KubeConnectionService.ts"

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

/** A new, empty `KubeConfig`, client-node loaded on first use. */
export const newKubeConfig: Effect.Effect<KubeConfig, KubeConnectionError> = Effect.serviceOption(ProcessControl).pipe(
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
