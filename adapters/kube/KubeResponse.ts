/**
 * Reading an API server's answer: a size-limited body, `Warning` headers, a `meta/v1` Status turned into a
 * `TokenFetchError` (reason from the HTTP status, message from the Status, `Retry-After` seconds), a TokenRequest
 * decoded without ever echoing the token, and the discovery document's `serviceaccounts/token` resource.
 *
 * @example A 403 Status becomes a TokenFetchError
 * ```ts
 * import assert from "node:assert/strict"
 * import { KubeResponse } from "@sa-token/manager/kube"
 * import * as Headers from "@effect/platform/Headers"
 *
 * const error = KubeResponse.decodeFailure({
 *   status: 403,
 *   headers: Headers.empty,
 *   body: JSON.stringify({
 *     kind: "Status",
 *     apiVersion: "v1",
 *     status: "Failure",
 *     message: 'serviceaccounts "builder" is forbidden',
 *     reason: "Forbidden",
 *     code: 403,
 *   }),
 * })
 * assert.equal(error.reason, "Forbidden")
 * assert.match(error.message, /is forbidden/)
 * ```
 *
 * @module
 */
import type * as Headers from "@effect/platform/Headers"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { Status } from "../../core/Status.ts"
import { TokenFetchError } from "../../core/TokenError.ts"
import type { FetchReason } from "../../core/TokenError.ts"
import { TokenRequestJson } from "../../core/TokenRequest.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import * as KubeWire from "./KubeWire.ts"

/** One request's answer: status, headers and the body as text. */
export interface Exchange {
  /** The HTTP status code. */
  readonly status: number
  /** The response headers. */
  readonly headers: Headers.Headers
  /** The response body as text (size-limited). */
  readonly body: string
}

/** Reads the body as UTF-8, failing with `Decode` once it exceeds `limit` bytes. */
export const readBody = (
  response: HttpClientResponse.HttpClientResponse,
  limit: number,
): Effect.Effect<string, TokenFetchError | HttpClientError.ResponseError> => {
  const tooLarge = new TokenFetchError({
    reason: "Decode",
    description: `the response body exceeds the limit of ${limit} bytes`,
    status: response.status,
  })
  const declared = Number(response.headers["content-length"] ?? "0")
  if (declared > limit) return Effect.fail(tooLarge)
  return response.stream.pipe(
    Stream.runFoldEffect({ chunks: [] as Array<Uint8Array>, size: 0 }, (acc, chunk) => {
      const size = acc.size + chunk.length
      if (size > limit) return Effect.fail(tooLarge)
      acc.chunks.push(chunk)
      return Effect.succeed({ chunks: acc.chunks, size })
    }),
    Effect.map(({ chunks, size }) => {
      const all = new Uint8Array(size)
      let offset = 0
      for (const chunk of chunks) {
        all.set(chunk, offset)
        offset += chunk.length
      }
      return new TextDecoder().decode(all)
    }),
  )
}

const warningPattern = /\d{3} \S+ "((?:[^"\\]|\\.)*)"/g

/** The texts of `Warning` headers (`299 - "text"`), in order. */
export const warnings = (headers: Headers.Headers): ReadonlyArray<string> =>
  [...(headers["warning"] ?? "").matchAll(warningPattern)].map((m) => m[1]!.replace(/\\(.)/g, "$1"))

/** Logs each `Warning` header, as client-go does. */
export const logWarnings = (headers: Headers.Headers): Effect.Effect<void> =>
  Effect.forEach(warnings(headers), (text) => Effect.logWarning(`Warning: ${text}`), { discard: true })

const fetchReasons: ReadonlySet<string> = new Set<FetchReason>([
  "BadRequest",
  "Unauthorized",
  "Forbidden",
  "NotFound",
  "Conflict",
  "Invalid",
  "TooManyRequests",
])

/** The fetch reason of an error code: a 4xx code's Status reason when the fetcher tells it apart, else by class. */
const reasonOf = (code: number): FetchReason => {
  if (code < 400 || code >= 500) return "ServerError"
  const reason = KubeWire.reasonForCode(code)
  return fetchReasons.has(reason) ? reason as FetchReason : "BadRequest"
}

/** client-go's texts for an error answer without a Status message. */
const defaultMessage = (code: number): string =>
  code === 401
    ? "the server has asked for the client to provide credentials"
    : code === 403
    ? "the server does not allow access to the requested resource"
    : code === 404
    ? "the server could not find the requested resource"
    : code === 409
    ? "the server reported a conflict"
    : code === 422
    ? "the server rejected our request due to an error in our request"
    : code === 429
    ? "the server has received too many requests and has asked us to try again later"
    : code === 503
    ? "the server is currently unable to handle the request"
    : code === 504
    ? "the server was unable to return a response in the time allotted, but may still be processing the request"
    : code >= 500
    ? `an error on the server has prevented the request from succeeding (status ${code})`
    : code >= 300 && code < 400
    ? `the server redirected the request (status ${code}); redirects are not followed`
    : `the server responded with the unexpected status ${code}`

const parseJson = (text: string): Option.Option<unknown> => {
  try {
    return Option.some(JSON.parse(text))
  } catch {
    return Option.none()
  }
}

const retryAfter = (headers: Headers.Headers, status: Option.Option<Status>): number | undefined => {
  const header = headers["retry-after"]?.trim()
  if (header !== undefined && /^\d+$/.test(header)) return Number(header)
  return Option.getOrUndefined(status)?.details?.retryAfterSeconds
}

/** The error for a non-2xx answer: reason from the HTTP status, the Status message when the body holds one. */
export const decodeFailure = (exchange: Exchange): TokenFetchError => {
  const status = Option.flatMap(
    parseJson(exchange.body),
    (json) => Either.getRight(Schema.decodeUnknownEither(Status)(json)),
  )
  const message = Option.getOrUndefined(status)?.message
  const reason = reasonOf(exchange.status)
  const seconds = reason === "TooManyRequests" || reason === "ServerError"
    ? retryAfter(exchange.headers, status)
    : undefined
  return new TokenFetchError({
    reason,
    description: message !== undefined && message !== "" ? message : defaultMessage(exchange.status),
    status: exchange.status,
    ...(seconds !== undefined ? { retryAfterSeconds: seconds } : {}),
  })
}

const decodeError = (description: string): TokenFetchError => new TokenFetchError({ reason: "Decode", description })

/**
 * Decodes a TokenRequest response. A malformed response is reported by the paths of its problems only, never by its
 * values (the token could be among them); a response without a token fails like kubectl: `no token in server response`;
 * a body that is not labelled JSON, or a lifetime that is not positive, is refused.
 */
export const decodeTokenRequest = (exchange: Exchange): Effect.Effect<TokenRequest, TokenFetchError> => {
  // Like client-go, only JSON is decoded (an absent Content-Type counts as JSON, the content type we asked for).
  const mediaType = (exchange.headers["content-type"] ?? "application/json").split(";")[0]!.trim().toLowerCase()
  if (mediaType !== "application/json" && !mediaType.endsWith("+json")) {
    return Effect.fail(decodeError(`the response has the content type ${JSON.stringify(mediaType)}, not JSON`))
  }
  const json = parseJson(exchange.body)
  if (Option.isNone(json)) return Effect.fail(decodeError("the response is not valid JSON"))
  const value = json.value as { status?: { token?: unknown } } | null
  if (typeof value !== "object" || value === null || !value.status?.token) {
    return Effect.fail(decodeError("no token in server response"))
  }
  return Schema.decodeUnknown(TokenRequestJson)(json.value, { errors: "all" }).pipe(
    Effect.mapError((error) => {
      const paths = ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => issue.path.join(".") || "(root)")
      return decodeError(`the response is not a valid TokenRequest: invalid ${[...new Set(paths)].join(", ")}`)
    }),
    Effect.filterOrFail(
      (response) => response.status !== undefined && Redacted.value(response.status.token) !== "",
      () => decodeError("no token in server response"),
    ),
    Effect.filterOrFail(
      (response) => response.spec.expirationSeconds === undefined || response.spec.expirationSeconds > 0,
      (response) =>
        decodeError(`the response's spec.expirationSeconds is not positive: ${response.spec.expirationSeconds}`),
    ),
  )
}

const APIResourceList = Schema.Struct({
  kind: Schema.optional(Schema.Literal("APIResourceList")),
  resources: Schema.Array(Schema.Struct({ name: Schema.String })),
})

/**
 * Whether a `GET /api/v1` discovery document lists the `serviceaccounts/token` resource: `Some` when the body is an
 * `APIResourceList` (a JSON object with a `resources` array of named resources), `None` when it is not one.
 */
export const hasTokenRequestResource = (body: string): Option.Option<boolean> =>
  Option.flatMap(parseJson(body), (json) =>
    Option.map(
      Either.getRight(Schema.decodeUnknownEither(APIResourceList)(json)),
      (list) => list.resources.some((resource) => resource.name === "serviceaccounts/token"),
    ))
