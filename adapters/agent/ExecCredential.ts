/**
 * kubectl's `client.authentication.k8s.io/v1` ExecCredential, and the on-disk cache that lets many short-lived
 * `exec-credential` processes share one token: kubectl runs its exec plugin on every invocation and keeps the result
 * only in memory, so without this cache every `kubectl get` would cost a TokenRequest.
 *
 * A cache entry is one JSON file per (core cache key, cluster), named by a SHA-256 of both, mode 0600 in a 0700
 * directory, written atomically (temporary file, then rename). It is reused until the token's refresh point (80 % of
 * its lifetime, or 24 h, as the core's refresh policy says), then replaced by a new TokenRequest. An unreadable, foreign
 * or corrupt entry, or one readable by others or in a directory others can write, is ignored and overwritten. Time comes from `Clock`, so the cache is tested under `TestClock`.
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
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as RefreshPolicy from "../../core/RefreshPolicy.ts"
import { TokenFetchError } from "../../core/TokenError.ts"
import type { InvalidTokenRequest } from "../../core/TokenError.ts"
import { TokenFetcher } from "../../core/TokenFetcher.ts"
import { cacheKey, fingerprint, formatTime, Rfc3339, TokenRequestJson } from "../../core/TokenRequest.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import * as Validation from "../../core/Validation.ts"

/** The API version kubectl is given. */
export const apiVersion = "client.authentication.k8s.io/v1"

/**
 * The ExecCredential JSON text for a response (`status.token` and `status.expirationTimestamp`), compact unless an
 * indent is given. This is where the token leaves its `Redacted` wrapper: the text is meant for stdout only.
 */
export const render = (response: TokenRequest, indent?: number): string => {
  const status = response.status!
  return JSON.stringify(
    {
      apiVersion,
      kind: "ExecCredential",
      status: { token: Redacted.value(status.token), expirationTimestamp: formatTime(status.expirationTimestamp) },
    },
    null,
    indent,
  )
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

const hex = (bytes: ArrayBuffer): string =>
  [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("")

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

const read = (target: string, key: string, options: CacheOptions, now: number) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    // Only trust an entry nobody else could have planted or read: a private file in a directory others cannot write.
    const directory = yield* fs.stat(options.directory)
    const info = yield* fs.stat(target)
    if ((directory.mode & 0o022) !== 0 || (info.mode & 0o077) !== 0 || info.type !== "File") {
      return Option.none<TokenRequest>()
    }
    const text = yield* fs.readFileString(target)
    const entry = yield* Schema.decodeUnknown(Schema.parseJson(Entry))(text)
    const fetchedAt = entry.fetchedAt.getTime()
    const fresh = entry.key === key && entry.cluster === options.cluster && entry.response.status !== undefined &&
      fetchedAt <= now && now < reuseUntil(entry.response, fetchedAt, options.policy ?? RefreshPolicy.kubelet) &&
      !RefreshPolicy.expired(entry.response, now)
    return fresh ? Option.some(entry.response) : Option.none()
  }).pipe(Effect.orElseSucceed(() => Option.none<TokenRequest>()))

/** Creates the directory 0700 (and tightens an existing one to 0700). */
const ensureDirectory = (directory: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    yield* fs.makeDirectory(directory, { recursive: true, mode: 0o700 })
    yield* fs.chmod(directory, 0o700)
  })

/** Writes the entry atomically: a 0600 temporary file in the same directory, then a rename over the target. */
const write = (target: string, key: string, options: CacheOptions, response: TokenRequest, now: number) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    yield* ensureDirectory(options.directory)
    const entry = { version: 1 as const, key, cluster: options.cluster, fetchedAt: new Date(now), response }
    const text = yield* Schema.encode(Schema.parseJson(Entry))(entry)
    const temporary = `${target}.${(yield* Random.nextIntBetween(0, 2 ** 31)).toString(36)}.tmp`
    yield* Effect.gen(function* () {
      yield* fs.writeFileString(temporary, text, { flag: "wx", mode: 0o600 })
      yield* fs.chmod(temporary, 0o600)
      yield* fs.rename(temporary, target)
    }).pipe(Effect.tapError(() => fs.remove(temporary).pipe(Effect.ignore)))
  })

/** What {@link get} can fail with: the request is invalid, or the TokenRequest failed. */
export type CacheError = InvalidTokenRequest | TokenFetchError

/** The cached token for the request while it is before its refresh point; none when it must be fetched. */
export const lookup = (
  namespace: string,
  name: string,
  request: TokenRequest,
  options: CacheOptions,
): Effect.Effect<Option.Option<TokenRequest>, InvalidTokenRequest, FileSystem.FileSystem | Path.Path> =>
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
): Effect.Effect<TokenRequest, CacheError, TokenFetcher | FileSystem.FileSystem | Path.Path> =>
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
          Effect.annotateLogs({ key, directory: options.directory, error: error._tag }),
        )
      ),
    )
    return response
  })
