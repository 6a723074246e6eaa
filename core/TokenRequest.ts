/**
 * The TokenRequest domain model, shaped like Kubernetes' `authentication.k8s.io/v1` TokenRequest, its wire schema, and
 * kubelet's cache key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import { TokenRequest } from "@sa-token/manager"
 * import * as Schema from "effect/Schema"
 *
 * const response = Schema.decodeUnknownSync(TokenRequest.TokenRequestJson)({
 *   apiVersion: "authentication.k8s.io/v1",
 *   kind: "TokenRequest",
 *   spec: { audiences: ["vault"], expirationSeconds: 600 },
 *   status: { token: "eyJ...", expirationTimestamp: "2030-01-01T00:10:00Z" },
 * })
 * assert.ok(response.status?.expirationTimestamp.getTime() === Date.UTC(2030, 0, 1, 0, 10))
 * assert.ok(!String(response.status?.token).includes("eyJ"))
 * ```
 *
 * @module
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { formatTime, parseTime } from "./Timestamp.ts"

/** The object a token is bound to (`spec.boundObjectRef`): a Pod, Secret or Node. */
export interface BoundObjectReference {
  /** `Pod`, `Secret` or `Node`. */
  readonly kind?: string | undefined
  /** `v1`. */
  readonly apiVersion?: string | undefined
  /** The object's name. */
  readonly name?: string | undefined
  /** The object's UID; when set, the server checks it against the live object. */
  readonly uid?: string | undefined
}

/** What a client asks for. */
export interface TokenRequestSpec {
  /** Intended audiences; absent means "the API server's audiences", which is different from an empty list. */
  readonly audiences?: ReadonlyArray<string> | undefined
  /** Requested lifetime in seconds; the server defaults it to 3600 and may shorten it. */
  readonly expirationSeconds?: number | undefined
  /** The object whose lifetime bounds the token's. */
  readonly boundObjectRef?: BoundObjectReference | undefined
}

/** What the server issued. */
export interface TokenRequestStatus {
  /** The bearer token, redacted so that it cannot be logged, inspected or serialised by accident. */
  readonly token: Redacted.Redacted<string>
  /** When the token stops being valid for the manager (the JWT itself may live longer). */
  readonly expirationTimestamp: Date
}

/** The name, namespace and UID of the service account (`metadata.uid` takes part in the cache key, as in 1.34). */
export interface TokenRequestMetadata {
  /** The service account's name. */
  readonly name?: string | undefined
  /** The service account's namespace. */
  readonly namespace?: string | undefined
  /** The service account's UID (sent by callers that know it; the server rejects a mismatch). */
  readonly uid?: string | undefined
}

/** A TokenRequest: a request (spec only) or a response (spec and status). */
export interface TokenRequest {
  /** The service account's identity. */
  readonly metadata?: TokenRequestMetadata | undefined
  /** What is asked for. */
  readonly spec: TokenRequestSpec
  /** What was issued (responses only). */
  readonly status?: TokenRequestStatus | undefined
}

// Part of this module's interface; defined in Schema-free modules, which code that must not load Schema imports directly.
export { formatTime } from "./Timestamp.ts"
export { cacheKey, quote } from "./CacheKey.ts"

/** An RFC 3339 timestamp on the wire, a `Date` in the model; encodes with whole seconds, like Kubernetes. */
export const Rfc3339: Schema.Schema<Date, string> = Schema.transformOrFail(Schema.String, Schema.DateFromSelf, {
  strict: true,
  decode: (s, _, ast) => {
    const millis = parseTime(s)
    return Number.isNaN(millis)
      ? ParseResult.fail(new ParseResult.Type(ast, s, `Expected an RFC 3339 timestamp, received ${JSON.stringify(s)}`))
      : ParseResult.succeed(new Date(millis))
  },
  encode: (d, _, ast) =>
    Number.isNaN(d.getTime())
      ? ParseResult.fail(new ParseResult.Type(ast, d, "Expected a valid date"))
      : ParseResult.succeed(formatTime(d)),
})

const optional = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { nullable: true })

const BoundObjectReferenceJson = Schema.Struct({
  kind: optional(Schema.String),
  apiVersion: optional(Schema.String),
  name: optional(Schema.String),
  uid: optional(Schema.String),
})

const TokenRequestBody = Schema.Struct({
  metadata: optional(Schema.Struct({
    name: optional(Schema.String),
    namespace: optional(Schema.String),
    uid: optional(Schema.String),
  })),
  spec: Schema.Struct({
    audiences: optional(Schema.Array(Schema.String)),
    expirationSeconds: optional(Schema.Number),
    boundObjectRef: optional(BoundObjectReferenceJson),
  }),
  status: optional(Schema.Struct({
    token: Schema.Redacted(Schema.String),
    expirationTimestamp: Rfc3339,
  })),
})

/** The JSON form of a TokenRequest, as it travels over the wire (`null` is accepted wherever a field may be absent). */
export interface TokenRequestEncoded {
  /** `authentication.k8s.io/v1`. */
  readonly apiVersion?: string
  /** `TokenRequest`. */
  readonly kind?: string
  /** The service account's identity. */
  readonly metadata?:
    | {
      readonly name?: string | null | undefined
      readonly namespace?: string | null | undefined
      readonly uid?: string | null | undefined
    }
    | null
    | undefined
  /** What is asked for. */
  readonly spec: {
    readonly audiences?: ReadonlyArray<string> | null | undefined
    readonly expirationSeconds?: number | null | undefined
    readonly boundObjectRef?:
      | {
        readonly kind?: string | null | undefined
        readonly apiVersion?: string | null | undefined
        readonly name?: string | null | undefined
        readonly uid?: string | null | undefined
      }
      | null
      | undefined
  }
  /** What was issued. */
  readonly status?: { readonly token: string; readonly expirationTimestamp: string } | null | undefined
}

/**
 * Decodes the JSON of an `authentication.k8s.io/v1` TokenRequest into a {@link TokenRequest} and encodes one back with
 * `apiVersion` and `kind`. Fields that are `null` or absent become absent, except that `audiences: []` stays an empty
 * list (kubelet keys the two differently). Unknown fields such as `creationTimestamp` are ignored.
 */
export const TokenRequestJson: Schema.Schema<TokenRequest, TokenRequestEncoded> = Schema.transform(
  Schema.Struct({
    apiVersion: Schema.optionalWith(Schema.String, { exact: true }),
    kind: Schema.optionalWith(Schema.String, { exact: true }),
  }).pipe(
    Schema.extend(Schema.encodedSchema(TokenRequestBody)),
  ),
  TokenRequestBody,
  {
    strict: false,
    decode: ({ apiVersion: _a, kind: _k, ...body }) => body,
    encode: (body) => ({ apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", ...body }),
  },
)

const scrub = (text: string, input: unknown): string => {
  const token = (input as { status?: { token?: unknown } } | null)?.status?.token
  if (typeof token !== "string" || token.length === 0) return text
  return text.split(token).join("<redacted>").split(JSON.stringify(token).slice(1, -1)).join("<redacted>")
}

/**
 * Decodes a TokenRequest from unknown JSON with a short, log-safe error: one `path: problem` per issue, and the
 * input's token, should a message quote it, replaced by `<redacted>`. Use it instead of `Schema.decodeUnknown` on
 * responses, whose parse errors would otherwise print the token they failed to accept.
 */
export const decode = (input: unknown): Either.Either<TokenRequest, string> =>
  Either.mapLeft(Schema.decodeUnknownEither(TokenRequestJson)(input, { errors: "all" }), (error) =>
    scrub(
      ParseResult.ArrayFormatter.formatErrorSync(error)
        .filter((issue) => !/^Expected (null|undefined), actual /.test(issue.message))
        .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "body"}: ${issue.message}`)
        .join("; "),
      input,
    ))

/** A copy of the request without its token, for logs (kubelet blanks `status.token` the same way). */
export const withoutToken = (request: TokenRequest): TokenRequest => {
  const { status: _status, ...rest } = request
  return rest
}

/**
 * A short, stable fingerprint of a token for logs and status output: 12 hex digits of two FNV-1a hashes. It tells two
 * tokens apart and cannot be turned back into the token.
 */
export const fingerprint = (token: string): string => {
  let a = 0x811c9dc5
  let b = 0x01000193 ^ token.length
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193) >>> 0
    b = Math.imul(b ^ c, 0x5bd1e995) >>> 0
  }
  return (a.toString(16).padStart(8, "0") + b.toString(16).padStart(8, "0")).slice(0, 12)
}
