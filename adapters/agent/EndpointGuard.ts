/**
 * Who may ask the agent's local endpoint: the bearer token, compared in time that depends only on what was presented,
 * and, on TCP, a `Host` that names the endpoint itself and no foreign `Origin`, so that a web page whose host name was
 * rebound to 127.0.0.1 (DNS rebinding) is refused even before the token is checked.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import { EndpointGuard } from "@sa-token/manager/agent"
 * import * as Redacted from "effect/Redacted"
 *
 * assert.equal(EndpointGuard.authorized("Bearer s3cret", Redacted.make("s3cret")), true)
 * assert.equal(EndpointGuard.hostMatches("localhost:8080", "127.0.0.1", 8080), true)
 * assert.equal(EndpointGuard.hostMatches("evil.example:8080", "127.0.0.1", 8080), false)
 * ```
 *
 * @module
 */
import * as Redacted from "effect/Redacted"
import { isLoopback } from "./Loopback.ts"

const encoder = new TextEncoder()

/**
 * Compares a presented `Authorization` header with the expected bearer token in time that depends only on the length
 * of what was presented: every presented byte is compared (with the expected bytes repeated as needed), and the
 * lengths are compared too, without an early exit.
 */
export const authorized = (header: string | undefined, expected: Redacted.Redacted<string>): boolean => {
  const match = /^Bearer[ \t]+(.+)$/i.exec((header ?? "").trim())
  const presented = encoder.encode(match === null ? "" : match[1]!.trim())
  const wanted = encoder.encode(Redacted.value(expected))
  let difference = presented.length ^ wanted.length
  for (let i = 0; i < presented.length; i++) difference |= presented[i]! ^ (wanted[i % (wanted.length || 1)] ?? 0)
  return match !== null && wanted.length > 0 && difference === 0
}

const unbracket = (host: string): string => host.replace(/^\[(.*)\]$/, "$1").toLowerCase()

const isIpLiteral = (host: string): boolean => /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(":")

/**
 * Whether a `Host` header names a TCP endpoint bound to `host:port`: the bound address itself, or `localhost` for a
 * loopback address, or any IP literal for a wildcard address (`0.0.0.0`, `::`); always with the port (bare for port
 * 80). A host name an attacker controls (DNS rebinding) never matches.
 */
export const hostMatches = (header: string | undefined, host: string, port: number): boolean => {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec((header ?? "").trim())
  if (match === null || (match[2] === undefined ? port !== 80 : Number(match[2]) !== port)) return false
  const named = unbracket(match[1]!)
  const bound = unbracket(host)
  if (named === bound) return true
  if (bound === "0.0.0.0" || bound === "::") return named === "localhost" || isIpLiteral(named)
  return isLoopback(bound) && (named === "localhost" || (bound === "localhost" && isLoopback(named)))
}

/** Whether an `Origin` header, when present, is the TCP endpoint's own (`http://` and a matching host). */
export const originAllowed = (header: string | undefined, host: string, port: number): boolean => {
  if (header === undefined) return true
  const match = /^http:\/\/([^/]+)$/i.exec(header.trim())
  return match !== null && hostMatches(match[1], host, port)
}
