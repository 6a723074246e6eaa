/**
 * kubectl's `client.authentication.k8s.io/v1` ExecCredential, and the on-disk cache that lets many short-lived
 * `exec-credential` processes share one token: kubectl runs its exec plugin on every invocation and keeps the result
 * only in memory, so without this cache every `kubectl get` would cost a TokenRequest.
 *
 * A cache entry is one JSON file per (core cache key, cluster), named by a SHA-256 of both, mode 0600 in a 0700
 * directory, written atomically through the {@link PrivateFile} port (a temporary file created with no-follow and
 * exclusive semantics, its mode set on the descriptor, then a rename that is verified). It is reused until the token's
 * refresh point (80 % of its lifetime, or 24 h, as the core's refresh policy says), then replaced by a new
 * TokenRequest. An unreadable, corrupt or foreign entry is ignored and overwritten. The file name and the cluster key
 * can be derived by anyone, so an entry is trusted only when it and its directory belong to the calling user and
 * nobody else can write them: otherwise it is a miss, and a warning on stderr says why. A directory that belongs to
 * another user is never written to or changed. Time comes from `Clock`, so the cache is tested under `TestClock`.
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
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as RefreshPolicy from "../../core/RefreshPolicy.ts"
import { TokenFetchError } from "../../core/TokenError.ts"
import type { InvalidTokenRequest } from "../../core/TokenError.ts"
import { TokenFetcher } from "../../core/TokenFetcher.ts"
import { cacheKey, fingerprint, formatTime, Rfc3339, TokenRequestJson } from "../../core/TokenRequest.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import * as Validation from "../../core/Validation.ts"
import * as KubeWire from "../kube/KubeWire.ts"
import { PrivateFile } from "../platform/PrivateFile.ts"

/**
 * The ExecCredential JSON text for a response (`status.token` and `status.expirationTimestamp`), compact unless an
 * indent is given. This is where the token leaves its `Redacted` wrapper: the text is meant for stdout only.
 */
export const render = (response: TokenRequest, indent?: number): string => {
  const status = response.status!
  return KubeWire.renderExecCredential({
    apiVersion: KubeWire.execCredentialApiVersion,
    kind: "ExecCredential",
    status: { token: Redacted.value(status.token), expirationTimestamp: formatTime(status.expirationTimestamp) },
  }, indent)
}

/** Where and for which cluster the cache lives. */
export interface CacheOptions {
  /** The cache directory (created 0700). See {@link defaultDirectory}. */
  readonly directory: string
  /** Identifies the cluster and credentials the token comes from (server URL and context), part of the file's key. */
  readonly cluster: string
  /** The refresh rules deciding how long an entry is reused. @default RefreshPolicy.kubelet */
  readonly policy?: RefreshPolicy.RefreshPolicy | undefined
}

/** The cache directory: `$XDG_CACHE_HOME/sa-token`, else `$HOME/.cache/sa-token`. */
export const defaultDirectory = (env: Readonly<Record<string, string | undefined>>, path: Path.Path): string =>
  env["XDG_CACHE_HOME"] !== undefined && env["XDG_CACHE_HOME"] !== "" && path.isAbsolute(env["XDG_CACHE_HOME"])
    ? path.join(env["XDG_CACHE_HOME"], "sa-token")
    : path.join(env["HOME"] ?? ".", ".cache", "sa-token")

const Entry = Schema.Struct({
  version: Schema.Literal(1),
  key: Schema.String,
  cluster: Schema.String,
  fetchedAt: Rfc3339,
  response: TokenRequestJson,
})

const hex = (bytes: ArrayBuffer): string => Encoding.encodeHex(new Uint8Array(bytes))

/** The cache file of a request: `<directory>/<sha256(key, cluster)>.json`. */
export const file = (options: CacheOptions, key: string): Effect.Effect<string, never, Path.Path> =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    const data = new TextEncoder().encode(JSON.stringify([key, options.cluster]))
    const digest = yield* Effect.promise(() => globalThis.crypto.subtle.digest("SHA-256", data))
    return path.join(options.directory, `${hex(digest)}.json`)
  })

/**
 * Until when a cached response may be reused, in epoch milliseconds: the refresh deadline of the policy, or, for a
 * response without `spec.expirationSeconds`, 80 % of the way from the fetch to the expiry.
 */
export const reuseUntil = (
  response: TokenRequest,
  fetchedAtMillis: number,
  policy: RefreshPolicy.RefreshPolicy,
): number => {
  const deadline = RefreshPolicy.refreshDeadline(response, policy)
  const expiry = RefreshPolicy.expiresAt(response)
  return Number.isFinite(deadline) ? deadline : fetchedAtMillis + (expiry - fetchedAtMillis) * 0.8
}

const octal = (mode: number): string => mode.toString(8).padStart(4, "0")

const read = (target: string, key: string, options: CacheOptions, now: number) =>
  Effect.gen(function* () {
    const files = yield* PrivateFile
    const me = (yield* files.identity).uid
    // Only trust what nobody else could have planted or read: a private entry of this user, in a directory of this
    // user that nobody else can write.
    const distrust = (reason: string) =>
      Effect.logWarning(`exec-credential: the token cache is not used: ${reason}`).pipe(
        Effect.as(Option.none<TokenRequest>()),
      )
    const directory = yield* files.stat(options.directory)
    if (Option.isNone(directory)) return Option.none<TokenRequest>()
    if (directory.value.uid !== me) {
      return yield* distrust(
        `the directory ${options.directory} belongs to uid ${directory.value.uid}, not to this user (uid ${me})`,
      )
    }
    if ((directory.value.mode & 0o022) !== 0) {
      return yield* distrust(
        `the directory ${options.directory} is writable by other users (mode ${octal(directory.value.mode)})`,
      )
    }
    const entry = yield* files.read(target)
    if (Option.isNone(entry)) {
      const there = yield* files.lstat(target)
      return Option.isNone(there) ? Option.none<TokenRequest>() : yield* distrust(`${target} is not a regular file`)
    }
    const { data, info } = entry.value
    if (info.uid !== me) return yield* distrust(`${target} belongs to uid ${info.uid}, not to this user (uid ${me})`)
    if ((info.mode & 0o077) !== 0) {
      return yield* distrust(`${target} is open to other users (mode ${octal(info.mode)})`)
    }
    const entryValue = yield* Schema.decodeUnknown(Schema.parseJson(Entry))(new TextDecoder().decode(data))
    const fetchedAt = entryValue.fetchedAt.getTime()
    const fresh = entryValue.key === key && entryValue.cluster === options.cluster &&
      entryValue.response.status !== undefined && fetchedAt <= now &&
      now < reuseUntil(entryValue.response, fetchedAt, options.policy ?? RefreshPolicy.kubelet) &&
      !RefreshPolicy.expired(entryValue.response, now)
    return fresh ? Option.some(entryValue.response) : Option.none()
  }).pipe(Effect.orElseSucceed(() => Option.none<TokenRequest>()))

/**
 * Writes the entry through {@link PrivateFile}: the directory is created 0700 (an existing one of this user is
 * tightened to 0700 on its descriptor; one of another user fails the write and is left alone), then the entry is
 * written 0600 atomically.
 */
const write = (target: string, key: string, options: CacheOptions, response: TokenRequest, now: number) =>
  Effect.gen(function* () {
    const files = yield* PrivateFile
    yield* files.privateDirectory(options.directory, { mode: 0o700, uid: (yield* files.identity).uid })
    const entry = { version: 1 as const, key, cluster: options.cluster, fetchedAt: new Date(now), response }
    const text = yield* Schema.encode(Schema.parseJson(Entry))(entry)
    yield* files.write(target, new TextEncoder().encode(text), { mode: 0o600 })
  })

/** What {@link get} can fail with: the request is invalid, or the TokenRequest failed. */
export type CacheError = InvalidTokenRequest | TokenFetchError

/** The cached token for the request while it is before its refresh point; none when it must be fetched. */
export const lookup = (
  namespace: string,
  name: string,
  request: TokenRequest,
  options: CacheOptions,
): Effect.Effect<Option.Option<TokenRequest>, InvalidTokenRequest, PrivateFile | Path.Path> =>
  Effect.gen(function* () {
    yield* Validation.validate(namespace, name, request)
    const key = cacheKey(name, namespace, request)
    const cached = yield* read(yield* file(options, key), key, options, yield* Clock.currentTimeMillis)
    if (Option.isSome(cached)) {
      yield* Effect.logDebug("exec-credential: cached token reused").pipe(
        Effect.annotateLogs({ key, fingerprint: fingerprint(Redacted.value(cached.value.status!.token)) }),
      )
    }
    return cached
  })

/**
 * A token for the request: the cached one while it is before its refresh point ({@link lookup}), otherwise a new one
 * from the {@link TokenFetcher}, which is then cached. A cache that cannot be written costs a warning, not the
 * credential.
 */
export const get = (
  namespace: string,
  name: string,
  request: TokenRequest,
  options: CacheOptions,
): Effect.Effect<TokenRequest, CacheError, TokenFetcher | PrivateFile | Path.Path> =>
  Effect.gen(function* () {
    const cached = yield* lookup(namespace, name, request, options)
    if (Option.isSome(cached)) return cached.value
    const key = cacheKey(name, namespace, request)
    const target = yield* file(options, key)
    const fetcher = yield* TokenFetcher
    const response = yield* fetcher.fetch(namespace, name, request)
    const now = yield* Clock.currentTimeMillis
    if (response.status === undefined || RefreshPolicy.expired(response, now)) {
      const description = response.status === undefined ? "no token in server response" : "the token is already expired"
      return yield* new TokenFetchError({ reason: "Decode", description })
    }
    yield* write(target, key, options, response, now).pipe(
      Effect.catchAll((error) =>
        Effect.logWarning("exec-credential: cannot write the token cache").pipe(
          Effect.annotateLogs({
            key,
            directory: options.directory,
            error: error._tag === "PrivateFileError" ? error.message : error._tag,
          }),
        )
      ),
    )
    return response
  })
