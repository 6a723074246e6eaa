/**
 * Finding the kubeconfig files as kubectl does (an explicit file, else every file of `KUBECONFIG`, else
 * `~/.kube/config`), and what can be read from them without loading credentials: whether there is one, and the
 * identity of the connection it describes (used to key caches before anything is loaded).
 *
 * @internal
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Option from "effect/Option"
import * as YAML from "yaml"
import type { Entry } from "./ExecPlugin.ts"
import { isObject } from "./ExecPlugin.ts"
import type { Options, Requirements } from "./KubeConnectionService.ts"

/** The files to load: `[path, required]`. */
export const locate = (options: Options): Effect.Effect<ReadonlyArray<readonly [string, boolean]>, never, Path.Path> =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    if (options.kubeconfig !== undefined) return [[path.resolve(options.kubeconfig), true]]
    const env = yield* Config.option(Config.string("KUBECONFIG")).pipe(Effect.orElseSucceed(() => Option.none()))
    const list = Option.getOrElse(env, () => "").split(path.sep === "\\" ? ";" : ":").filter((p) => p !== "")
    if (list.length > 0) return list.map((p) => [path.resolve(p), false] as const)
    const home = yield* Config.option(Config.nonEmptyString("HOME")).pipe(Effect.orElseSucceed(() => Option.none()))
    return Option.isSome(home) ? [[path.join(home.value, ".kube", "config"), false] as const] : []
  })

/** Whether a kubeconfig would be found (an explicit file, `KUBECONFIG`, or an existing `~/.kube/config`). */
export const available = (options: Options = {}): Effect.Effect<boolean, never, Requirements> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const files = yield* locate(options)
    const exists = yield* Effect.forEach(files, ([file]) => fs.exists(file).pipe(Effect.orElseSucceed(() => false)))
    return exists.some((e, i) => e || files[i]![1])
  })

/** What identifies a kubeconfig connection, read by {@link describe}. */
export interface Description {
  /** The context and a SHA-256 of every file read: any edit to the kubeconfig makes a new identity. */
  readonly identity: string
  /** The context's namespace, `default` when none is set. */
  readonly namespace: string
}

/**
 * Identifies the connection {@link load} would make, from the files alone: no client-node, no credentials, no exec
 * plugin. None when the files do not name a usable context (then {@link load} reports what is wrong). This lets a
 * cache of tokens answer before the connection is loaded.
 */
export const describe = (
  options: Options = {},
): Effect.Effect<Option.Option<Description>, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const texts: Array<readonly [string, string]> = []
    for (const [file] of yield* locate(options)) {
      const text = yield* fs.readFileString(file).pipe(Effect.option)
      if (Option.isSome(text)) texts.push([file, text.value])
    }
    const docs = texts.map(([, text]) =>
      Option.liftThrowable((t: string): unknown => YAML.parse(t))(text).pipe(Option.filter(isObject))
    )
    if (texts.length === 0 || !docs.every(Option.isSome)) return Option.none()
    const values = docs.map((doc) => doc.value)
    const name = options.context ??
      values.map((doc) => doc["current-context"]).find((c): c is string => typeof c === "string" && c !== "")
    const entry = values.flatMap((doc) => Array.isArray(doc.contexts) ? doc.contexts : [])
      .find((c): c is Entry => isObject(c) && c.name === name)
    if (name === undefined || entry === undefined || !isObject(entry.context)) return Option.none()
    const namespace = entry.context.namespace
    const data = new TextEncoder().encode(JSON.stringify([name, texts]))
    const digest = new Uint8Array(yield* Effect.promise(() => globalThis.crypto.subtle.digest("SHA-256", data)))
    return Option.some({
      identity: `kubeconfig context "${name}" ${Encoding.encodeHex(digest)}`,
      namespace: typeof namespace === "string" && namespace !== "" ? namespace : "default",
    })
  })
