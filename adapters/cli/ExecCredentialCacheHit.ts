/**
 * The lean `exec-credential` answer from the on-disk cache, for `SERVICE_ACCOUNT [request flags] [--kubeconfig PATH]
 * [--context NAME] [--cache-dir DIR]`: the cache's token manager serves the entry of the request when it needs no
 * TokenRequest. The kubeconfig is read and hashed (its identity keys the entry), never loaded and not even parsed: no
 * credentials, no exec plugin, no TLS, no YAML parser. Without `--namespace`, the context's namespace is the one the
 * full command remembered in the cache for this kubeconfig. When the manager would fetch, this gives up and the full
 * command makes the same decision again. Files are read through the {@link PrivateFile} port, not `@effect/platform`'s
 * file system, which brings Effect's streams along. The bin runs it with {@link run}.
 *
 * @module
 */
import * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import { TokenFetchError } from "../../core/TokenError.ts"
import * as TokenFetcher from "../../core/TokenFetcher.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import * as ExecCredential from "../agent/ExecCredential.ts"
import * as KubeconfigFiles from "../kube/KubeconfigFiles.ts"
import * as NodePrivateFile from "../platform/NodePrivateFile.ts"
import { PrivateFile } from "../platform/PrivateFile.ts"
import type { Flags } from "./ExecCredentialCommand.ts"
import { runWith } from "./ExecCredentialLean.ts"
import { requestFrom } from "./RequestFlags.ts"

/** What the cache answer needs from the runtime: files (the kubeconfig, the private cache entry) and paths. */
export type Requirements = Path.Path | PrivateFile

/** The largest kubeconfig file read (one that embeds many certificates is still far smaller). */
const maxBytes = 16 << 20

/**
 * The namespace and the kubeconfig's identity, from the files read and hashed only, never parsed: with `--namespace`
 * it is that one, otherwise the one the full command remembered for this identity (an entry keyed by the identity was
 * written by a run that parsed these same files and found their context usable).
 */
const describe = (
  namespace: Option.Option<string>,
  connection: { readonly kubeconfig: string | undefined; readonly context: string | undefined },
  directory: string,
): Effect.Effect<Option.Option<{ readonly namespace: string; readonly identity: string }>, never, Requirements> =>
  Effect.gen(function* () {
    const files = yield* PrivateFile
    // Each file as the file system would read it, a symlink followed (the full command reads these same bytes)
    const readFile = (file: string) =>
      files.realPath(file).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.succeedNone,
          onSome: (real) => Effect.map(files.read(real, { maxBytes }), Option.map(({ data }) => data)),
        })),
        Effect.orElseSucceed(() => Option.none<Uint8Array>()),
      )
    const texts = yield* KubeconfigFiles.texts(connection, readFile)
    if (texts.length === 0) return Option.none()
    const identity = yield* KubeconfigFiles.identity(texts, connection.context)
    const known = Option.isSome(namespace)
      ? namespace
      : yield* ExecCredential.rememberedNamespace({ directory, cluster: identity })
    return Option.map(known, (namespace) => ({ namespace, identity }))
  })

/** The cached token of the request, when the cache's manager serves it without a TokenRequest; none otherwise. */
export const fromCache = (flags: Flags): Effect.Effect<Option.Option<TokenRequest>, never, Requirements> =>
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
    const directory = yield* ExecCredential.directory(Option.getOrUndefined(flags.cacheDir))
    const described = yield* describe(flags.namespace, connection, directory)
    if (Option.isNone(described)) return Option.none()
    const { namespace, identity } = described.value
    const options = { directory, cluster: identity }
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
 * The files and paths of the cache answer: the private-file port over `node:fs`, which Bun's and Deno's Node
 * compatibility run as well, as their runtime layers do.
 */
export const layer: Layer.Layer<Requirements> = Layer.merge(Path.layer, NodePrivateFile.layer)

/** Runs {@link fromCache} for the bin's command line after `exec-credential`: whether the credential was printed. */
export const run: (args: ReadonlyArray<string>) => Promise<boolean> = runWith(fromCache, layer)
