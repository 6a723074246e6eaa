/**
 * The reader of `exec-credential`'s cache files, without Schema: an entry (`{version: 1, key, cluster, fetchedAt,
 * response}`, the response a TokenRequest in its wire form) and a remembered namespace (`{version: 1, cluster,
 * namespace}`). `ExecCredential.ts` writes both with Schema and reads them with this module, as does the lean answer
 * from the cache, which must start within a few milliseconds: one reader, so the two cannot disagree about a file.
 *
 * A text is read to what Schema's `TokenRequestJson` decodes it to: fields that are `null` or absent become absent
 * (but `audiences: []` stays an empty list, which kubelet keys differently), unknown fields are dropped, and anything
 * of the wrong type, a missing field or a timestamp that is not RFC 3339 makes the whole text unreadable (`undefined`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import * as Redacted from "effect/Redacted"
 * import * as CacheEntry from "./CacheEntry.ts"
 *
 * const response = {
 *   spec: { audiences: [], expirationSeconds: 3600, boundObjectRef: null },
 *   status: { token: "a.b.c", expirationTimestamp: "2030-01-01T01:00:00Z" },
 * }
 * const text = JSON.stringify({ version: 1, key: "k", cluster: "c", fetchedAt: "2030-01-01T00:00:00Z", response })
 * const entry = CacheEntry.decodeEntry(text)
 * assert.deepEqual(entry?.response.spec, { audiences: [], expirationSeconds: 3600 })
 * assert.equal(Redacted.value(entry!.response.status!.token), "a.b.c")
 * assert.equal(CacheEntry.decodeEntry(text.replace('"version":1', '"version":2')), undefined)
 * ```
 *
 * @module
 */
import * as Redacted from "effect/Redacted"
import { parseTime } from "../../core/Timestamp.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"

/** A cache entry: the response cached for a request's key, on a cluster, when it was fetched. */
export interface Entry {
  readonly version: 1
  readonly key: string
  readonly cluster: string
  readonly fetchedAt: Date
  readonly response: TokenRequest
}

/** The namespace of a kubeconfig's context, remembered for its identity (`cluster`). */
export interface Remembered {
  readonly version: 1
  readonly cluster: string
  readonly namespace: string
}

/** Thrown inside this module when a value does not have the expected shape; never leaves it. */
const unreadable: unique symbol = Symbol("unreadable")

type Fields = Readonly<Record<string, unknown>>

const object = (value: unknown): Fields => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw unreadable
  return value as Fields
}

const string = (value: unknown): string => {
  if (typeof value !== "string") throw unreadable
  return value
}

const time = (value: unknown): Date => {
  const millis = parseTime(string(value))
  if (Number.isNaN(millis)) throw unreadable
  return new Date(millis)
}

/** The fields of `fields` that are present and not null, each read by its reader; the others are absent. */
const optionals = (
  fields: Fields,
  readers: Readonly<Record<string, (value: unknown) => unknown>>,
): Record<string, unknown> => {
  const read: Record<string, unknown> = {}
  for (const [name, reader] of Object.entries(readers)) {
    const value = fields[name]
    if (value !== undefined && value !== null) read[name] = reader(value)
  }
  return read
}

const strings = (value: unknown): ReadonlyArray<string> => {
  if (!Array.isArray(value)) throw unreadable
  return value.map(string)
}

const number = (value: unknown): number => {
  if (typeof value !== "number") throw unreadable
  return value
}

const names = (value: unknown) => optionals(object(value), { name: string, namespace: string, uid: string })

const reference = (value: unknown) =>
  optionals(object(value), { kind: string, apiVersion: string, name: string, uid: string })

const status = (value: unknown) => {
  const fields = object(value)
  return { token: Redacted.make(string(fields["token"])), expirationTimestamp: time(fields["expirationTimestamp"]) }
}

const tokenRequest = (value: unknown): TokenRequest => {
  const fields = object(value)
  if (fields["apiVersion"] !== undefined) string(fields["apiVersion"])
  if (fields["kind"] !== undefined) string(fields["kind"])
  const spec = optionals(object(fields["spec"]), {
    audiences: strings,
    expirationSeconds: number,
    boundObjectRef: reference,
  })
  return { ...optionals(fields, { metadata: names }), spec, ...optionals(fields, { status }) } as TokenRequest
}

/** What `read` returns, or `undefined` when it throws (a value of another shape, a text that is not JSON). */
const attempt = <A>(read: () => A): A | undefined => {
  try {
    return read()
  } catch {
    return undefined
  }
}

const version = (fields: Fields): 1 => {
  if (fields["version"] !== 1) throw unreadable
  return 1
}

/** A TokenRequest from its wire JSON value (as `TokenRequestJson` decodes it), or `undefined`. */
export const readTokenRequest = (value: unknown): TokenRequest | undefined => attempt(() => tokenRequest(value))

/** The entry of a cache file's text, or `undefined` when it is not one. */
export const decodeEntry = (text: string): Entry | undefined =>
  attempt(() => {
    const fields = object(JSON.parse(text))
    return {
      version: version(fields),
      key: string(fields["key"]),
      cluster: string(fields["cluster"]),
      fetchedAt: time(fields["fetchedAt"]),
      response: tokenRequest(fields["response"]),
    }
  })

/** The remembered namespace of a `.ns.json` file's text, or `undefined` when it is not one. */
export const decodeRemembered = (text: string): Remembered | undefined =>
  attempt(() => {
    const fields = object(JSON.parse(text))
    return { version: version(fields), cluster: string(fields["cluster"]), namespace: string(fields["namespace"]) }
  })

/**
 * The cached response in an entry's text, when the entry is for `key` on `cluster`; `undefined` otherwise. A file's
 * name is a hash anyone can derive: an entry copied under another request's or cluster's name is not that request's
 * token.
 */
export const responseFor = (text: string, key: string, cluster: string): TokenRequest | undefined => {
  const entry = decodeEntry(text)
  return entry !== undefined && entry.key === key && entry.cluster === cluster ? entry.response : undefined
}

/** The namespace in a `.ns.json` file's text, when it was remembered for `cluster`; `undefined` otherwise. */
export const namespaceFor = (text: string, cluster: string): string | undefined => {
  const remembered = decodeRemembered(text)
  return remembered !== undefined && remembered.cluster === cluster ? remembered.namespace : undefined
}
