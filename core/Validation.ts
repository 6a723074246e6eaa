/**
 * Client-side validation of a token request, applied before any network call: the same rules an API server applies
 * to the URL path and the spec, so that a bad name never reaches a URL and a bad lifetime never costs a round trip.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import { Validation } from "@sa-token/manager"
 *
 * const problem = Validation.check("default", "../admin", { spec: {} })
 * assert.ok(problem?.field === "name")
 * ```
 *
 * @module
 */
import * as Effect from "effect/Effect"
import { InvalidTokenRequest } from "./TokenError.ts"
import type { InvalidReason } from "./TokenError.ts"
import { quote } from "./TokenRequest.ts"
import type { TokenRequest } from "./TokenRequest.ts"

/** The smallest lifetime an API server accepts, in seconds (10 minutes). */
export const minExpirationSeconds = 600
/** The largest lifetime an API server accepts, in seconds (2^32). */
export const maxExpirationSeconds = 4294967296
/** The longest audience accepted, in characters. */
export const maxAudienceLength = 2048
/** The most audiences accepted in one request. */
export const maxAudiences = 64

const label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

const render = (value: unknown): string => {
  const text = typeof value === "string" ? quote(value) : String(value)
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

const invalid = (field: string, reason: InvalidReason, value: unknown, detail: string): InvalidTokenRequest =>
  new InvalidTokenRequest({ field, reason, value: render(value), detail })

/** A DNS-1123 name check: empty, longer than `max`, or not matching `pattern` (described by `format`). */
const dnsName =
  (pattern: RegExp, max: number, format: string) => (field: string, value: string): InvalidTokenRequest | undefined =>
    value.length === 0
      ? invalid(field, "Required", value, "must not be empty")
      : value.length > max
      ? invalid(field, "TooLong", value, `must be no more than ${max} characters`)
      : pattern.test(value)
      ? undefined
      : invalid(field, "Format", value, format)

/** Checks a DNS-1123 label (a namespace): lower-case alphanumerics and `-`, at most 63 characters. */
export const checkLabel: (field: string, value: string) => InvalidTokenRequest | undefined = dnsName(
  label,
  63,
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
)

/** Checks a DNS-1123 subdomain (a service-account or object name): labels joined by `.`, at most 253 characters. */
export const checkSubdomain: (field: string, value: string) => InvalidTokenRequest | undefined = dnsName(
  subdomain,
  253,
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
)

const checkSpec = (request: TokenRequest): InvalidTokenRequest | undefined => {
  const { audiences, expirationSeconds, boundObjectRef } = request.spec
  if (audiences !== undefined) {
    if (audiences.length > maxAudiences) {
      return invalid("spec.audiences", "TooLong", audiences.length, `must hold at most ${maxAudiences} audiences`)
    }
    for (let i = 0; i < audiences.length; i++) {
      const audience = audiences[i]
      if (typeof audience !== "string" || audience.length === 0) {
        return invalid(`spec.audiences[${i}]`, "Empty", audience, "must be a non-empty string")
      }
      if (audience.length > maxAudienceLength) {
        return invalid(`spec.audiences[${i}]`, "TooLong", audience, `must be at most ${maxAudienceLength} characters`)
      }
    }
  }
  if (expirationSeconds !== undefined) {
    if (!Number.isInteger(expirationSeconds)) {
      return invalid("spec.expirationSeconds", "Format", expirationSeconds, "must be a whole number of seconds")
    }
    if (expirationSeconds < minExpirationSeconds) {
      return invalid(
        "spec.expirationSeconds",
        "OutOfRange",
        expirationSeconds,
        "may not specify a duration less than 10 minutes",
      )
    }
    if (expirationSeconds > maxExpirationSeconds) {
      return invalid(
        "spec.expirationSeconds",
        "OutOfRange",
        expirationSeconds,
        "may not specify a duration larger than 2^32 seconds",
      )
    }
  }
  for (const field of ["kind", "apiVersion", "name", "uid"] as const) {
    const value = boundObjectRef?.[field]
    if (value !== undefined && (typeof value !== "string" || value.length > 253)) {
      return invalid(`spec.boundObjectRef.${field}`, "TooLong", value, "must be a string of at most 253 characters")
    }
  }
  const uid = request.metadata?.uid
  if (uid !== undefined && (typeof uid !== "string" || uid.length > 253)) {
    return invalid("metadata.uid", "TooLong", uid, "must be a string of at most 253 characters")
  }
  return undefined
}

/** The first problem with a request, or `undefined` when it may be sent. */
export const check = (namespace: string, name: string, request: TokenRequest): InvalidTokenRequest | undefined =>
  checkLabel("namespace", namespace) ?? checkSubdomain("name", name) ?? checkSpec(request)

/** Succeeds when the request may be sent, fails with the first problem otherwise. */
export const validate = (
  namespace: string,
  name: string,
  request: TokenRequest,
): Effect.Effect<void, InvalidTokenRequest> => {
  const problem = check(namespace, name, request)
  return problem === undefined ? Effect.void : Effect.fail(problem)
}
