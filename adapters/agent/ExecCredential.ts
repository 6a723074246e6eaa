/**
 * kubectl's `client.authentication.k8s.io/v1` ExecCredential, and the on-disk cache that lets many short-lived
 * `exec-credential` processes share one token: kubectl runs its exec plugin on every invocation and keeps the result
 * only in memory, so without this cache every `kubectl get` would cost a TokenRequest.
 *
 * The cache is a `TokenStore` of the core ({@link store}): {@link get} asks a core `TokenManager` over it, so the core
 * decides when a cached token is reused (until its refresh point: 80 % of its lifetime, or 24 h, with kubelet's
 * jitter) and a token past that point is refreshed with the manager's single fetch, its fallback to the still-valid
 * token while the refresh fails, and its metrics.
 *
 * A cache entry is one JSON file per (core cache key, cluster), named by a SHA-256 of both, mode 0600 in a 0700
 * directory, written atomically through the {@link PrivateFile} port (a temporary file created with no-follow and
 * exclusive semantics, its mode set on the descriptor, then a rename that is verified). An unreadable, corrupt or
 * foreign entry is ignored and overwritten. Beside the entries, the cache remembers the namespace of each kubeconfig's
 * context ({@link rememberNamespace}), so that a call without `--namespace` finds its entry without parsing the
 * kubeconfig again. The file names and the cluster key can be derived by anyone, so a file is trusted only when it
 * and its directory belong to the calling user and nobody else can write them: otherwise it is a miss, and a warning
 * on stderr says why. A directory that belongs to another user is never written to or changed. Time comes from
 * `Clock`, so the cache is tested under `TestClock`.
 *
 * @example The ExecCredential kubectl reads
 * ```ts
 * import assert from "node:assert/strict"
 * import { ExecCredential } from "@sa-token/manager/agent"
 * import * as Redacted from "effect/Redacted"
 *
 * const text = ExecCredential.render({
 *   spec: {},
 *   status: { token: Redacted.make("a.b.c"), expirationTimestamp: new Date("2030-01-01T00:00:00Z") },
 * })
 * const credential = JSON.parse(text)
 * assert.equal(credential.apiVersion, "client.authentication.k8s.io/v1")
 * assert.equal(credential.status.token, "a.b.c")
 * assert.equal(credential.status.expirationTimestamp, "2030-01-01T00:00:00Z")
 * ```
 *
 * @module
 */
import * as Path from "@effect/platform/Path"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as RefreshPolicy from "../../core/RefreshPolicy.ts"
import { TokenStoreError } from "../../core/TokenError.ts"
import type { InvalidTokenRequest, TokenFetchError } from "../../core/TokenError.ts"
import type { TokenFetcher } from "../../core/TokenFetcher.ts"
import * as TokenManager from "../../core/TokenManager.ts"
import { Rfc3339, TokenRequestJson } from "../../core/TokenRequest.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import * as TokenStore from "../../core/TokenStore.ts"
import * as KubeWire from "../kube/KubeWire.ts"
import type { PathRules } from "../platform/PosixPath.ts"
import { PrivateFile } from "../platform/PrivateFile.ts"
import * as CacheEntry from "./CacheEntry.ts"
import * as CacheLayout from "./CacheLayout.ts"

/**
 * The ExecCredential JSON text for a response (`status.token` and `status.expirationTimestamp`), compact unless an
 * indent is given. This is where the token leaves its `Redacted` wrapper: the text is meant for stdout only.
 */
export const render: (response: TokenRequest, indent?: number) => string = KubeWire.renderTokenCredential

/** Where and for which cluster the cache lives. */
export interface CacheOptions {
  /** The cache directory (created 0700). See {@link defaultDirectory}. */
  readonly directory: string
  /** Identifies the cluster and credentials the token comes from (server URL and context), part of the file's key. */
  readonly cluster: string
  /** The refresh rules of the manager deciding how long an entry is reused. @default RefreshPolicy.kubelet */
  readonly policy?: RefreshPolicy.RefreshPolicy | undefined
}

/** The cache directory: `$XDG_CACHE_HOME/sa-token`, else `$HOME/.cache/sa-token`. */
export const defaultDirectory: (env: Readonly<Record<string, string | undefined>>, path: PathRules) => string =
  CacheLayout.defaultDirectory

/**
 * The cache directory to use: `explicit` (`--cache-dir`), resolved, else {@link defaultDirectory} of the environment;
 * `.sa-token-cache` when the environment cannot be read at all.
 */
export const directory = (explicit: string | undefined): Effect.Effect<string, never, Path.Path> =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    const variable = (name: string) =>
      Effect.map(Config.option(Config.string(name)).pipe(Effect.orDie), Option.getOrUndefined)
    const env = explicit !== undefined
      ? {}
      : { XDG_CACHE_HOME: yield* variable("XDG_CACHE_HOME"), HOME: yield* variable("HOME") }
    return CacheLayout.directory(explicit, env, path)
  }).pipe(Effect.catchAllDefect(() => Effect.succeed(".sa-token-cache")))

// The writers of the cache's files; they are read by `CacheEntry.ts`, without Schema, as the lean answer reads them.
const Entry = Schema.Struct({
  version: Schema.Literal(1),
  key: Schema.String,
  cluster: Schema.String,
  fetchedAt: Rfc3339,
  response: TokenRequestJson,
})

/** The cache file of a request: `<directory>/<sha256(key, cluster)>.json` ({@link CacheLayout.entryFile}). */
export const file = (options: CacheOptions, key: string): Effect.Effect<string, never, Path.Path> =>
  Effect.flatMap(
    Path.Path,
    (path) => Effect.promise(() => CacheLayout.entryFile(options.directory, key, options.cluster, path)),
  )

/**
 * The text of a cache file, when it can be trusted: only what nobody else could have planted or read, a private file
 * of this user in a directory of this user that nobody else can write. Anything else is none, with a warning on stderr
 * saying why (a missing file is a silent none).
 */
const readTrusted = (directory: string, target: string) =>
  Effect.gen(function* () {
    const files = yield* PrivateFile
    const me = (yield* files.identity).uid
    const distrust = (reason: string) =>
      Effect.logWarning(`exec-credential: the token cache is not used: ${reason}`).pipe(
        Effect.as(Option.none<string>()),
      )
    const info = yield* files.stat(directory)
    if (Option.isNone(info)) return Option.none<string>()
    const place = { path: directory, info: info.value }
    const unsafeDirectory = CacheLayout.distrust(me, place)
    if (unsafeDirectory !== undefined) return yield* distrust(unsafeDirectory)
    const entry = yield* files.read(target, { maxBytes: CacheLayout.maxFileBytes })
    if (Option.isNone(entry)) {
      const there = yield* files.lstat(target)
      return Option.isNone(there) ? Option.none<string>() : yield* distrust(`${target} is not a regular file`)
    }
    const unsafeFile = CacheLayout.distrust(me, place, { path: target, info: entry.value.info })
    if (unsafeFile !== undefined) return yield* distrust(unsafeFile)
    return Option.some(new TextDecoder().decode(entry.value.data))
  })

const read = (target: string, key: string, options: CacheOptions) =>
  Effect.gen(function* () {
    const text = yield* readTrusted(options.directory, target)
    return Option.flatMapNullable(text, (text) => CacheEntry.responseFor(text, key, options.cluster))
  }).pipe(Effect.orElseSucceed(() => Option.none<TokenRequest>()))

/**
 * Writes a cache file through {@link PrivateFile}: the directory is created 0700 (an existing one of this user is
 * tightened to 0700 on its descriptor; one of another user fails the write and is left alone), then the file is
 * written 0600 atomically.
 */
const writePrivate = (directory: string, target: string, text: string) =>
  Effect.gen(function* () {
    const files = yield* PrivateFile
    yield* files.privateDirectory(directory, { mode: 0o700, uid: (yield* files.identity).uid })
    yield* files.write(target, new TextEncoder().encode(text), { mode: 0o600 })
  })

const write = (target: string, key: string, options: CacheOptions, response: TokenRequest) =>
  Effect.gen(function* () {
    const fetchedAt = new Date(yield* Clock.currentTimeMillis)
    const entry = { version: 1 as const, key, cluster: options.cluster, fetchedAt, response }
    yield* writePrivate(options.directory, target, yield* Schema.encode(Schema.parseJson(Entry))(entry))
  })

const Remembered = Schema.parseJson(Schema.Struct({
  version: Schema.Literal(1),
  cluster: Schema.String,
  namespace: Schema.String,
}))

const namespaceFile = (options: CacheOptions) =>
  Effect.flatMap(
    Path.Path,
    (path) => Effect.promise(() => CacheLayout.namespaceFile(options.directory, options.cluster, path)),
  )

/**
 * The namespace remembered for the cluster of `options` ({@link rememberNamespace}), read with the same trust as an
 * entry. A kubeconfig's identity pins its files, so the namespace of its context is known without parsing them again:
 * this lets a cache hit without `--namespace` find its entry without a YAML parser.
 */
export const rememberedNamespace = (
  options: CacheOptions,
): Effect.Effect<Option.Option<string>, never, PrivateFile | Path.Path> =>
  Effect.gen(function* () {
    const text = yield* readTrusted(options.directory, yield* namespaceFile(options))
    return Option.flatMapNullable(text, (text) => CacheEntry.namespaceFor(text, options.cluster))
  }).pipe(Effect.orElseSucceed(() => Option.none<string>()))

/**
 * Remembers the namespace of the cluster of `options` (the kubeconfig context's) in the cache directory, as a private
 * file like an entry, unless it is already there. A cache that cannot be written only loses the shortcut.
 */
export const rememberNamespace = (
  options: CacheOptions,
  namespace: string,
): Effect.Effect<void, never, PrivateFile | Path.Path> =>
  Effect.gen(function* () {
    if (Option.contains(yield* rememberedNamespace(options), namespace)) return
    const text = yield* Schema.encode(Remembered)({ version: 1, cluster: options.cluster, namespace })
    yield* writePrivate(options.directory, yield* namespaceFile(options), text)
  }).pipe(Effect.ignore)

/**
 * The cache as a core `TokenStore`: `load` reads the request's entry (an untrusted one is a miss, with a warning on
 * stderr; a corrupt one a silent miss), `save` writes it. A cache that cannot be written costs a warning, not the
 * credential.
 */
export const store = (options: CacheOptions): Effect.Effect<TokenStore.TokenStore, never, PrivateFile | Path.Path> =>
  Effect.map(Effect.context<PrivateFile | Path.Path>(), (context) =>
    TokenStore.make(
      ({ key }) =>
        Effect.flatMap(file(options, key), (target) => read(target, key, options)).pipe(Effect.provide(context)),
      ({ key }, response) =>
        Effect.flatMap(file(options, key), (target) => write(target, key, options, response)).pipe(
          Effect.catchAll((error) => {
            const description = error._tag === "PrivateFileError" ? error.message : error._tag
            return Effect.logWarning("exec-credential: cannot write the token cache").pipe(
              Effect.annotateLogs({ key, directory: options.directory, error: description }),
              Effect.zipRight(Effect.fail(new TokenStoreError({ reason: "Save", description }))),
            )
          }),
          Effect.provide(context),
        ),
    ))

/** What {@link get} can fail with: the request is invalid, or the TokenRequest failed. */
export type CacheError = InvalidTokenRequest | TokenFetchError

/**
 * A token for the request from a core `TokenManager` over the cache ({@link store}) and the {@link TokenFetcher} in
 * context: the cached one until its refresh point, otherwise a new one, which is then cached (or, when the refresh
 * fails, the cached one while it is valid). The fetcher is called only on a miss, so it may connect lazily.
 */
export const get = (
  namespace: string,
  name: string,
  request: TokenRequest,
  options: CacheOptions,
): Effect.Effect<TokenRequest, CacheError, TokenFetcher | PrivateFile | Path.Path> =>
  Effect.gen(function* () {
    const manager = yield* TokenManager.make({ store: yield* store(options), policy: options.policy })
    return yield* manager.getServiceAccountToken(namespace, name, request).pipe(
      Effect.mapError((error) => error._tag === "InvalidTokenRequest" ? error : error.cause),
    )
  }).pipe(Effect.scoped)
