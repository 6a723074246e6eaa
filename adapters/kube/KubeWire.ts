/**
 * Kubernetes wire formats shared by the fetcher, the CLI and the development API server, each written once: the
 * ExecCredential kubectl is given for a token, the HTTP status code ↔ `meta/v1` Status reason table, and Go's duration
 * syntax. Nothing here loads Schema, so that the lean `exec-credential` answers, which kubectl pays for on every
 * command, use this module as it is; the ExecCredential schema, which reads what an exec plugin prints, is
 * `ExecCredentialWire.ts`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import { KubeWire } from "@sa-token/manager/kube"
 *
 * assert.equal(KubeWire.reasonForCode(429), "TooManyRequests")
 * assert.equal(KubeWire.parseGoDuration("1h30m"), 5_400_000_000_000n)
 * ```
 *
 * @module
 */
import * as Redacted from "effect/Redacted"
import { formatTime } from "../../core/Timestamp.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"

/** The ExecCredential API version kubectl is given. */
export const execCredentialApiVersion = "client.authentication.k8s.io/v1"

/**
 * The ExecCredential text kubectl is given for an issued token (`status.token` and `status.expirationTimestamp`),
 * compact unless an indent is given. This is where the token leaves its `Redacted` wrapper: the text is meant for
 * stdout only.
 */
export const renderTokenCredential = (response: TokenRequest, indent?: number): string => {
  const status = response.status!
  return JSON.stringify(
    {
      apiVersion: execCredentialApiVersion,
      kind: "ExecCredential",
      status: { token: Redacted.value(status.token), expirationTimestamp: formatTime(status.expirationTimestamp) },
    },
    null,
    indent,
  )
}

/** The `meta/v1` Status reason an API server gives for an HTTP status code. */
export const statusReasons: Readonly<Record<number, string>> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  409: "Conflict",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
  504: "Timeout",
}

/** The Status reason for a code: from {@link statusReasons}, else `BadRequest` below 500 and `InternalError` above. */
export const reasonForCode = (code: number): string =>
  statusReasons[code] ?? (code < 500 ? "BadRequest" : "InternalError")

const units: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  "µs": 1_000n,
  "μs": 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
}

/** Go's `time.ParseDuration`, in nanoseconds; `undefined` when the text is not a duration. */
export const parseGoDuration = (text: string): bigint | undefined => {
  const match = /^([-+]?)(.*)$/.exec(text)!
  const sign = match[1] === "-" ? -1n : 1n
  const rest = match[2]!
  if (rest === "0") return 0n
  if (rest === "") return undefined
  const part = /(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/y
  let total = 0n
  let index = 0
  while (index < rest.length) {
    part.lastIndex = index
    const m = part.exec(rest)
    if (m === null || (m[1] === "" && (m[2] ?? "") === "")) return undefined
    const unit = units[m[3]!]!
    total += BigInt(m[1] || "0") * unit
    if (m[2]) total += (BigInt(m[2]) * unit) / 10n ** BigInt(m[2].length)
    index = part.lastIndex
  }
  return sign * total
}
