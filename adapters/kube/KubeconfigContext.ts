/**
 * What the kubeconfig files say of the connection they describe, read through the file system without loading
 * credentials: whether there is one, whether they name a usable context, its namespace, and the connection's identity.
 * This lets a cache of tokens answer before the connection is loaded.
 *
 * @internal
 */
import * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as YAML from "yaml"
import type { Entry } from "./ExecPlugin.ts"
import { isObject } from "./ExecPlugin.ts"
import { identity, locate, texts } from "./KubeconfigFiles.ts"
import type { Options, Requirements } from "./KubeConnectionService.ts"

/** Whether a kubeconfig would be found (an explicit file, `KUBECONFIG`, or an existing `~/.kube/config`). */
export const available = (options: Options = {}): Effect.Effect<boolean, never, Requirements> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const files = yield* locate(options)
    const exists = yield* Effect.forEach(files, ([file]) => fs.exists(file).pipe(Effect.orElseSucceed(() => false)))
    return exists.some((e, i) => e || files[i]![1])
  })

/** {@link texts} through the file system. */
const read = (
  options: Options = {},
): Effect.Effect<ReadonlyArray<readonly [string, string]>, never, FileSystem.FileSystem | Path.Path> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => texts(options, (file) => Effect.option(fs.readFile(file))))

/** What identifies a kubeconfig connection, read by {@link describe}. */
export interface Description {
  /** The identity of the files and the context flag (`KubeconfigFiles.identity`): any edit makes a new one. */
  readonly identity: string
  /** The context's namespace, `default` when none is set. */
  readonly namespace: string
}

/**
 * Identifies the connection `Kubeconfig.load` would make, from the files alone: no client-node, no credentials, no
 * exec plugin. None when the files do not name a usable context (then `load` reports what is wrong).
 */
export const describe = (
  options: Options = {},
): Effect.Effect<Option.Option<Description>, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const texts = yield* read(options)
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
    return Option.some({
      identity: yield* identity(texts, options.context),
      namespace: typeof namespace === "string" && namespace !== "" ? namespace : "default",
    })
  })
