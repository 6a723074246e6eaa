/**
 * Kubelet's cache key of a token request, and the Go-style quoting it is rendered with. Free of Schema, so that code
 * which must start in a few milliseconds (the lean `exec-credential` answer from the on-disk cache) derives the same
 * keys as the token manager; `TokenRequest.ts` exports both as part of its interface.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import { cacheKey, quote } from "./CacheKey.ts"
 *
 * assert.equal(quote('a"b'), '"a\\"b"')
 * assert.ok(cacheKey("b", "a", { spec: {} }).startsWith('"b"/"a"/[]string(nil)/0/'))
 * ```
 *
 * @module
 */
import type { BoundObjectReference, TokenRequest } from "./TokenRequest.ts"

const escapes: Record<string, string> = { "\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r" }
// deno-lint-ignore no-control-regex
const needsEscape = /[\\"\u0000-\u001f\u007f]/
// deno-lint-ignore no-control-regex
const escapable = /[\\"\u0000-\u001f\u007f]/g
const escape = (c: string): string => escapes[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`

/** Renders a string as Go's `%q` does for the characters that matter here (an injective, printable rendering). */
export const quote = (s: string): string => {
  const text = String(s)
  return needsEscape.test(text) ? `"${text.replace(escapable, escape)}"` : `"${text}"`
}

const renderAudiences = (audiences: ReadonlyArray<string> | undefined): string =>
  audiences === undefined ? "[]string(nil)" : `[]string{${audiences.map(quote).join(", ")}}`

const renderRef = (ref: BoundObjectReference | undefined): string =>
  `v1.BoundObjectReference{Kind:${quote(ref?.kind ?? "")}, APIVersion:${quote(ref?.apiVersion ?? "")}, Name:${
    quote(ref?.name ?? "")
  }, UID:${quote(ref?.uid ?? "")}}`

/**
 * Kubelet's cache key: service-account name, namespace, audiences (absent and empty differ), expirationSeconds (absent
 * counts as 0), the bound object (absent counts as all-empty) and, as in Kubernetes 1.34, `metadata.uid`. Rendered as
 * kubelet renders it, so it is safe to log and never contains a token.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import { TokenRequest } from "@sa-token/manager"
 *
 * const key = TokenRequest.cacheKey("b", "a", { spec: { audiences: ["foo1"], expirationSeconds: 2000 } })
 * assert.ok(key.startsWith('"b"/"a"/[]string{"foo1"}/2000/'))
 * ```
 */
export const cacheKey = (name: string, namespace: string, request: TokenRequest): string =>
  `${quote(name)}/${quote(namespace)}/${renderAudiences(request.spec.audiences)}/${
    request.spec.expirationSeconds ?? 0
  }/${renderRef(request.spec.boundObjectRef)}/${quote(request.metadata?.uid ?? "")}`
