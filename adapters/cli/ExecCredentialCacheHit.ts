/**
 * The lean `exec-credential` answer from the on-disk cache, for `SERVICE_ACCOUNT [request flags] [--kubeconfig PATH]
 * [--context NAME] [--cache-dir DIR]`: the entry of the request, when the full command's token manager would serve it
 * without a TokenRequest. It is written in `effect/Micro` over the {@link LeanHost} port and loads neither Schema nor
 * Effect's fiber runtime nor `@effect/platform`: the files, keys and rules are the full command's own
 * (`CacheLayout.ts`, `CacheEntry.ts`, `KubeconfigSources.ts`, `CacheKey.ts`), with paths computed by `PosixPath.ts`.
 *
 * The kubeconfig is read and hashed (its identity keys the entry), never loaded and not even parsed: no credentials, no
 * exec plugin, no TLS, no YAML parser. Without `--namespace`, the context's namespace is the one the full command
 * remembered in the cache for this kubeconfig. A file that is not trusted, an entry that is corrupt or foreign, a host
 * call that fails, or a token the manager might refresh: this gives up, silently, and the full command decides again.
 * The bin runs it with {@link run}.
 *
 * @module
 */
import * as Micro from "effect/Micro"
import * as Option from "effect/Option"
import { cacheKey } from "../../core/CacheKey.ts"
import * as RefreshPolicy from "../../core/RefreshRules.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import * as CacheEntry from "../agent/CacheEntry.ts"
import * as CacheLayout from "../agent/CacheLayout.ts"
import * as KubeconfigSources from "../kube/KubeconfigSources.ts"
import { LeanHost } from "../platform/LeanHost.ts"
import * as PosixPath from "../platform/PosixPath.ts"
import type { Flags } from "./ExecCredentialCommand.ts"
import { runWith } from "./ExecCredentialLean.ts"
import { requestFrom } from "./RequestFlags.ts"

/** The largest kubeconfig file read (one that embeds many certificates is still far smaller). */
const maxKubeconfigBytes = 16 << 20

/**
 * Whether the full command's manager serves `response` at `now` without a TokenRequest under every jitter it may draw:
 * a usable response (a non-empty token, a positive whole lifetime when one is given) that has not expired and needs
 * no refresh even under the largest jitter. The full command uses the manager's default policy, kubelet's.
 */
export const servable = (
  response: TokenRequest,
  now: number,
  policy: RefreshPolicy.RefreshPolicy = RefreshPolicy.kubelet,
): boolean =>
  RefreshPolicy.unusable(response, now) === undefined &&
  !RefreshPolicy.requiresRefresh(response, now, Math.max(0, policy.maxJitterSeconds - 1), policy)

/** A host call as a Micro: a rejection is a failure, which makes the whole answer none. */
const call = <A>(promise: () => Promise<A>): Micro.Micro<A, unknown> =>
  Micro.tryPromise({ try: promise, catch: (error) => error })

/** The value, or a failure that ends the search with none (`Micro.option` turns it into `Option.none()`). */
const given = <A>(value: A | undefined): Micro.Micro<A, "absent"> =>
  value === undefined ? Micro.fail("absent") : Micro.succeed(value)

/**
 * The text of a trusted cache file (`CacheLayout.distrust`), or a failure: an absent directory or file, an untrusted
 * one and anything but a regular file (the host refuses to read it) are all the same silent miss.
 */
const readTrusted = (host: LeanHost, directory: string, file: string) =>
  Micro.gen(function* () {
    const place = { path: directory, info: yield* given(yield* call(() => host.stat(directory))) }
    const uid = host.uid()
    if (CacheLayout.distrust(uid, place) !== undefined) return yield* Micro.fail("untrusted directory")
    const read = yield* given(yield* call(() => host.readFile(file, CacheLayout.maxFileBytes)))
    if (CacheLayout.distrust(uid, place, { path: file, info: read.info }) !== undefined) {
      return yield* Micro.fail("untrusted file")
    }
    return new TextDecoder().decode(read.data)
  })

/** Each kubeconfig file as the full command reads it: a symlink followed, an unreadable file skipped. */
const readKubeconfig = (host: LeanHost) => async (file: string): Promise<Uint8Array | undefined> => {
  const real = await host.realPath(file)
  return real === undefined ? undefined : (await host.readFile(real, maxKubeconfigBytes))?.data
}

/**
 * The cached token of the request, when the full command's manager would serve it without a TokenRequest whatever
 * jitter it draws; none otherwise, and none when anything fails (the full command then decides, and reports).
 */
export const fromCache = (flags: Flags): Micro.Micro<Option.Option<TokenRequest>, never, LeanHost> =>
  Micro.gen(function* () {
    const host = yield* Micro.service(LeanHost)
    if (
      Option.isNone(flags.serviceAccount) ||
      [flags.name, flags.socket, flags.config, flags.socketOwner].some(Option.isSome)
    ) {
      return yield* Micro.fail("not a cache request")
    }
    const built = requestFrom(flags)
    if ("error" in built) return yield* Micro.fail("invalid")
    const path = PosixPath.rules(host.cwd())
    const env = { XDG_CACHE_HOME: host.env("XDG_CACHE_HOME"), HOME: host.env("HOME") }
    const directory = CacheLayout.directory(Option.getOrUndefined(flags.cacheDir), env, path)
    const sources = {
      kubeconfig: Option.getOrUndefined(flags.kubeconfig),
      context: Option.getOrUndefined(flags.context),
    }
    const files = KubeconfigSources.locate(sources, host.env, path)
    const texts = yield* call(() => KubeconfigSources.texts(files, readKubeconfig(host)))
    if (texts.length === 0) return yield* Micro.fail("no kubeconfig")
    const cluster = yield* call(() => KubeconfigSources.identity(texts, sources.context))
    // With --namespace it is that one; otherwise the one a full run that parsed these same files remembered.
    const namespace = Option.isSome(flags.namespace) ? flags.namespace.value : yield* Micro.gen(function* () {
      const file = yield* call(() => CacheLayout.namespaceFile(directory, cluster, path))
      return yield* given(CacheEntry.namespaceFor(yield* readTrusted(host, directory, file), cluster))
    })
    // The entry exists only once a full run validated this name and namespace and fetched under this key.
    const key = cacheKey(flags.serviceAccount.value, namespace, built.request)
    const file = yield* call(() => CacheLayout.entryFile(directory, key, cluster, path))
    const response = yield* given(CacheEntry.responseFor(yield* readTrusted(host, directory, file), key, cluster))
    return servable(response, host.now()) ? response : yield* Micro.fail("the manager would refresh")
  }).pipe(Micro.option)

/** Runs {@link fromCache} for the bin's command line after `exec-credential`: whether the credential was printed. */
export const run: (args: ReadonlyArray<string>, host: LeanHost) => Promise<boolean> = runWith(fromCache)
