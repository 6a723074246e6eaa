/**
 * Finding the kubeconfig files as kubectl does (an explicit file, else every file of `KUBECONFIG`, else
 * `~/.kube/config`), and the identity of the connection they describe, known without parsing them or loading
 * credentials (it keys caches before anything is loaded). Files are read by the caller's reader: nothing here loads a
 * file system service or a YAML parser, so that `exec-credential`'s cache hit, which kubectl pays on every command,
 * loads neither.
 *
 * @internal
 */
import * as Path from "@effect/platform/Path"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Option from "effect/Option"
import type { Options } from "./KubeConnectionService.ts"

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

/**
 * The path and text of each file {@link locate} finds that `readFile` can read (none: the file is skipped), in order:
 * the input of {@link identity}. Every reader's bytes are decoded here, as UTF-8.
 */
export const texts = <R>(
  options: Options,
  readFile: (path: string) => Effect.Effect<Option.Option<Uint8Array>, never, R>,
): Effect.Effect<ReadonlyArray<readonly [string, string]>, never, R | Path.Path> =>
  Effect.gen(function* () {
    const found: Array<readonly [string, string]> = []
    for (const [file] of yield* locate(options)) {
      const data = yield* readFile(file)
      if (Option.isSome(data)) found.push([file, new TextDecoder().decode(data.value)])
    }
    return found
  })

/**
 * The identity of the connection the files describe: a SHA-256 of the `--context` given (or its absence) and of every
 * file read, path and text. Any edit to the kubeconfig, or another set of files, makes a new identity; no file is
 * parsed, so the context and the namespace are not checked here.
 */
export const identity = (
  texts: ReadonlyArray<readonly [string, string]>,
  context: string | undefined,
): Effect.Effect<string> =>
  Effect.map(
    Effect.promise(() =>
      globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify([context ?? null, texts])))
    ),
    (digest) => `kubeconfig ${Encoding.encodeHex(new Uint8Array(digest))}`,
  )
