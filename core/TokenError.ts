/**
 * The errors of the token manager. Every message is computed from the error's fields and none of them ever holds a
 * token: fetchers describe failures with the API server's Status message, the manager adds the cache key, which is
 * built from names, audiences and lifetimes only.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import { TokenError } from "@sa-token/manager"
 *
 * const cause = new TokenError.TokenFetchError({ reason: "NotFound", description: 'serviceaccounts "build" not found' })
 * const error = new TokenError.FetchFailed({ key: "k", cause })
 * assert.ok(error.message === 'failed to fetch token: serviceaccounts "build" not found')
 * ```
 *
 * @module
 */
import * as ErrorBase from "./ErrorBase.ts"

/**
 * Why a fetch failed. The first eleven mirror what an API server answers (HTTP status and Status reason); `Timeout`,
 * `Transport` and `Decode` are client-side; `Unsupported` means the server has no TokenRequest endpoint; `Standalone`
 * means no API server is configured at all.
 */
export type FetchReason =
  | "Unauthorized"
  | "Forbidden"
  | "NotFound"
  | "Conflict"
  | "Invalid"
  | "BadRequest"
  | "TooManyRequests"
  | "ServerError"
  | "Timeout"
  | "Transport"
  | "Decode"
  | "Unsupported"
  | "Standalone"

/** Every {@link FetchReason}, for exhaustive tests and for decoding reasons from strings. */
export const fetchReasons: ReadonlyArray<FetchReason> = [
  "Unauthorized",
  "Forbidden",
  "NotFound",
  "Conflict",
  "Invalid",
  "BadRequest",
  "TooManyRequests",
  "ServerError",
  "Timeout",
  "Transport",
  "Decode",
  "Unsupported",
  "Standalone",
]

/** The message of the standalone fetcher, as kubelet words it. */
export const standaloneMessage = "cannot use TokenManager when kubelet is in standalone mode"

/** The message kubelet gives when discovery shows no `serviceaccounts/token` resource. */
export const unsupportedMessage = "the API server does not have TokenRequest endpoints enabled"

/** The fields of a {@link TokenFetchError}. */
export interface TokenFetchErrorFields {
  /** Why the fetch failed. */
  readonly reason: FetchReason
  /** What went wrong, typically the API server's Status message. Must never contain a token. */
  readonly description: string
  /** The HTTP status code, when the server answered. */
  readonly status?: number | undefined
  /** The server's `Retry-After`, in seconds, when it sent one. */
  readonly retryAfterSeconds?: number | undefined
}

const TokenFetchErrorBase: ErrorBase.Constructor<"TokenFetchError", TokenFetchErrorFields> = ErrorBase.make(
  "TokenFetchError",
  (e) => e.description,
)

/** A {@link TokenFetcher} could not obtain a token. */
export class TokenFetchError extends TokenFetchErrorBase {}

/** The fields shared by the manager's errors about one cache entry. */
export interface KeyedErrorFields {
  /** The cache key (safe to log: it never holds the token). */
  readonly key: string
  /** The fetch failure behind this error. */
  readonly cause: TokenFetchError
}

const FetchFailedBase: ErrorBase.Constructor<"FetchFailed", KeyedErrorFields> = ErrorBase.make(
  "FetchFailed",
  (e) => `failed to fetch token: ${e.cause.message}`,
)

/** Nothing was cached for the key and the fetch failed. Message (kubelet's text): `failed to fetch token: <cause>`. */
export class FetchFailed extends FetchFailedBase {
  /** The fetch failure's reason. */
  get reason(): FetchReason {
    return this.cause.reason
  }
}

const TokenExpiredBase: ErrorBase.Constructor<"TokenExpired", KeyedErrorFields> = ErrorBase.make(
  "TokenExpired",
  (e) => `token ${e.key} expired and refresh failed: ${e.cause.message}`,
)

/**
 * The cached token expired and refreshing it failed. Message (kubelet's text):
 * `token <key> expired and refresh failed: <cause>`.
 */
export class TokenExpired extends TokenExpiredBase {
  /** The fetch failure's reason. */
  get reason(): FetchReason {
    return this.cause.reason
  }
}

/** What is wrong with a rejected request field. */
export type InvalidReason = "Required" | "Format" | "TooLong" | "OutOfRange" | "Empty"

/** The fields of an {@link InvalidTokenRequest}. */
export interface InvalidTokenRequestFields {
  /** The path of the offending field, such as `namespace` or `spec.expirationSeconds`. */
  readonly field: string
  /** The kind of problem. */
  readonly reason: InvalidReason
  /** A human explanation of the rule that was broken. */
  readonly detail: string
  /** A printable rendering of the rejected value (quoted, escaped and truncated). */
  readonly value: string
}

const InvalidTokenRequestBase: ErrorBase.Constructor<"InvalidTokenRequest", InvalidTokenRequestFields> = ErrorBase.make(
  "InvalidTokenRequest",
  (e) => `invalid token request: ${e.field}: Invalid value: ${e.value}: ${e.detail}`,
)

/** The request was rejected before any network call. */
export class InvalidTokenRequest extends InvalidTokenRequestBase {}

/** The fields of a {@link TokenStoreError}. */
export interface TokenStoreErrorFields {
  /** Which operation failed: loading a saved response, or saving a fetched one. */
  readonly reason: "Load" | "Save"
  /** What went wrong (a path, an errno, a decoding problem). Must never contain a token. */
  readonly description: string
}

const TokenStoreErrorBase: ErrorBase.Constructor<"TokenStoreError", TokenStoreErrorFields> = ErrorBase.make(
  "TokenStoreError",
  (e) => `cannot ${e.reason === "Load" ? "load a token from" : "save a token to"} the store: ${e.description}`,
)

/** A `TokenStore` could not load or save; the manager logs and counts it, and goes on without the store. */
export class TokenStoreError extends TokenStoreErrorBase {}

/** Every error `TokenManager.getServiceAccountToken` can fail with. */
export type TokenManagerError = FetchFailed | TokenExpired | InvalidTokenRequest

/** Every error of this module. */
export type TokenError = TokenFetchError | TokenManagerError | TokenStoreError

/** Whether a reason is worth retrying later (transient), as opposed to a request that will keep failing. */
export const isTransient = (reason: FetchReason): boolean =>
  reason === "TooManyRequests" || reason === "ServerError" || reason === "Timeout" || reason === "Transport"
