/**
 * Finding the kubeconfig files as kubectl does (an explicit file, else every file of `KUBECONFIG`, else
 * `~/.kube/config`), and the identity of the connection they describe, known without parsing them or loading
 * credentials (it keys caches before anything is loaded): the rules of `KubeconfigSources.ts` run with
 * `@effect/platform`'s path and the process environment. Files are read by the caller's reader: nothing here loads a
 * file system service or a YAML parser.
 *
 * @internal
 */
import * as Path from "@effect/platform/Path"
import * as Arr from "effect/Array"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { Options } from "./KubeConnectionService.ts"
import * as KubeconfigSources from "./KubeconfigSources.ts"

const variable = (name: string): Effect.Effect<string | undefined> =>
  Config.option(Config.string(name)).pipe(
    Effect.map(Option.getOrUndefined),
    Effect.orElseSucceed(() => undefined),
  )

/** The files to load: `[path, required]` ({@link KubeconfigSources.locate}). */
export const locate = (options: Options): Effect.Effect<ReadonlyArray<readonly [string, boolean]>, never, Path.Path> =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    const env: Readonly<Record<string, string | undefined>> = {
      KUBECONFIG: yield* variable("KUBECONFIG"),
      HOME: yield* variable("HOME"),
    }
    return KubeconfigSources.locate(options, (name) => env[name], path)
  })

/**
 * The path and text (UTF-8) of each file {@link locate} finds that `readFile` can read (none: the file is skipped), in
 * order: the input of {@link identity}, as {@link KubeconfigSources.texts} gives it.
 */
export const texts = <R>(
  options: Options,
  readFile: (path: string) => Effect.Effect<Option.Option<Uint8Array>, never, R>,
): Effect.Effect<ReadonlyArray<readonly [string, string]>, never, R | Path.Path> =>
  Effect.flatMap(
    locate(options),
    (files) =>
      Effect.forEach(files, ([file]) =>
        Effect.map(readFile(file), Option.map((data) => [file, new TextDecoder().decode(data)] as const))),
  ).pipe(
    Effect.map(Arr.getSomes),
  )

/** The identity of the connection the files describe ({@link KubeconfigSources.identity}). */
export const identity = (
  texts: ReadonlyArray<readonly [string, string]>,
  context: string | undefined,
): Effect.Effect<string> => Effect.promise(() => KubeconfigSources.identity(texts, context))
