/**
 * The lean `exec-credential` answer from the on-disk cache, for `SERVICE_ACCOUNT [request flags] [--kubeconfig PATH]
 * [--context NAME] [--cache-dir DIR]`: the cache's token manager serves the entry of the request when it needs no
 * TokenRequest. The kubeconfig is read and hashed (its identity keys the entry), never loaded: no credentials, no exec
 * plugin, no TLS. When the manager would fetch, this gives up and the full command makes the same decision again. The
 * bin runs it with its files through `ExecCredentialCacheBin.ts`; the full command shares {@link cacheDirectory}.
 *
 * @module
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import { TokenFetchError } from "../../core/TokenError.ts"
import * as TokenFetcher from "../../core/TokenFetcher.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import * as ExecCredential from "../agent/ExecCredential.ts"
import * as KubeconfigFiles from "../kube/KubeconfigFiles.ts"
import type { PrivateFile } from "../platform/PrivateFile.ts"
import type { Flags } from "./ExecCredentialCommand.ts"
import { requestFrom } from "./RequestFlags.ts"

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

/** What the cache answer needs from the runtime: files (the kubeconfig, the private cache entry) and paths. */
export type Requirements = FileSystem.FileSystem | Path.Path | PrivateFile

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
