/**
 * The agent's JSON answer to `GET /v1/tokens/NAME?format=json`: `{"name", "token", "expirationTimestamp"}`, written by
 * the endpoint and read by `exec-credential`, both through this module. It loads no Schema, so that the lean
 * `exec-credential` answer reads it within a few milliseconds of the runtime's start.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import * as Redacted from "effect/Redacted"
 * import * as TokenReply from "./TokenReply.ts"
 *
 * const reply = { name: "vault", token: Redacted.make("a.b.c"), expirationTimestamp: new Date("2030-01-01T00:00:00Z") }
 * const text = JSON.stringify(TokenReply.encode(reply))
 * assert.equal(text, '{"name":"vault","token":"a.b.c","expirationTimestamp":"2030-01-01T00:00:00Z"}')
 * assert.equal(Redacted.value(TokenReply.decode(text)!.token), "a.b.c")
 * assert.equal(TokenReply.decode('{"name":"vault","token":""}'), undefined)
 * ```
 *
 * @module
 */
import * as Redacted from "effect/Redacted"
import { formatTime, parseTime } from "../../core/Timestamp.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"

/** A token as the agent hands it out. */
export interface TokenReply {
  /** The name the agent declares the token under. */
  readonly name: string
  readonly token: Redacted.Redacted<string>
  readonly expirationTimestamp: Date
}

/** The request target that asks for the token `name` as JSON. */
export const path = (name: string): string => `/v1/tokens/${encodeURIComponent(name)}?format=json`

/** How a client asks: for JSON, waiting at most 5 s for the whole answer and reading at most 1 MiB of it. */
export const asking: {
  readonly headers: Readonly<Record<string, string>>
  readonly timeoutMillis: number
  readonly maxBytes: number
} = { headers: { accept: "application/json" }, timeoutMillis: 5000, maxBytes: 1024 * 1024 }

/** The reply as the TokenRequest response it stands for: a status, the token and its expiry, and no spec. */
export const toResponse = (reply: TokenReply): TokenRequest => ({
  spec: {},
  status: { token: reply.token, expirationTimestamp: reply.expirationTimestamp },
})

/** The JSON value of a reply: the token in clear, the expiry in RFC 3339 with whole seconds. */
export const encode = (reply: TokenReply): Record<string, string> => ({
  name: reply.name,
  token: Redacted.value(reply.token),
  expirationTimestamp: formatTime(reply.expirationTimestamp),
})

/**
 * Reads the JSON text of a reply: an object with a string `name`, a non-empty string `token` and an RFC 3339
 * `expirationTimestamp` (other fields are ignored); `undefined` for anything else.
 */
export const decode = (text: string): TokenReply | undefined => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined
  const { name, token, expirationTimestamp } = value as Record<string, unknown>
  if (typeof name !== "string" || typeof token !== "string" || token === "") return undefined
  const expires = typeof expirationTimestamp === "string" ? parseTime(expirationTimestamp) : NaN
  return Number.isNaN(expires)
    ? undefined
    : { name, token: Redacted.make(token), expirationTimestamp: new Date(expires) }
}
