/**
 * Kubernetes wire formats shared by the fetcher, the CLI and the development API server, each written once:
 * the `client.authentication.k8s.io` ExecCredential (one schema, used to render what kubectl reads and to parse
 * what an exec plugin prints), the HTTP status code ↔ `meta/v1` Status reason table, and Go's duration syntax.
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
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { formatTime } from "../../core/TokenRequest.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"

/** The ExecCredential API version kubectl is given. */
export const execCredentialApiVersion = "client.authentication.k8s.io/v1"

/** The `status` of an ExecCredential: a token, or a client certificate and key, and when they expire. */
export interface ExecCredentialStatus {
  /** A bearer token. */
  readonly token?: string
  /** RFC 3339; absent when the credential does not expire. */
  readonly expirationTimestamp?: string
  /** A PEM client certificate. */
  readonly clientCertificateData?: string
  /** The PEM key of that certificate. */
  readonly clientKeyData?: string
}

/** A `client.authentication.k8s.io` ExecCredential, as kubectl and client-go exchange it with exec plugins. */
export interface ExecCredential {
  /** `client.authentication.k8s.io/v1` (or `v1beta1`). */
  readonly apiVersion: string
  /** Always `ExecCredential`. */
  readonly kind: "ExecCredential"
  /** What the caller tells the plugin (`KUBERNETES_EXEC_INFO`): whether it may prompt, and the cluster. */
  readonly spec?: { readonly interactive?: boolean; readonly cluster?: unknown }
  /** What the plugin answers. */
  readonly status?: ExecCredentialStatus
}

const optionalString = Schema.optionalWith(Schema.String, { exact: true })

/** The schema of {@link ExecCredential}; unknown fields are ignored, as client-go ignores them. */
export const ExecCredential: Schema.Schema<ExecCredential> = Schema.Struct({
  apiVersion: Schema.String,
  kind: Schema.Literal("ExecCredential"),
  spec: Schema.optionalWith(
    Schema.Struct({
      interactive: Schema.optionalWith(Schema.Boolean, { exact: true }),
      cluster: Schema.optionalWith(Schema.Unknown, { exact: true }),
    }),
    { exact: true },
  ),
  status: Schema.optionalWith(
    Schema.Struct({
      token: optionalString,
      expirationTimestamp: optionalString,
      clientCertificateData: optionalString,
      clientKeyData: optionalString,
    }),
    { exact: true },
  ),
})

/** The JSON text of an ExecCredential, compact unless an indent is given. */
export const renderExecCredential = (credential: ExecCredential, indent?: number): string =>
  JSON.stringify(Schema.encodeSync(ExecCredential)(credential), null, indent)

/**
 * The ExecCredential text kubectl is given for an issued token (`status.token` and `status.expirationTimestamp`),
 * compact unless an indent is given. This is where the token leaves its `Redacted` wrapper: the text is meant for
 * stdout only.
 */
export const renderTokenCredential = (response: TokenRequest, indent?: number): string => {
  const status = response.status!
  return renderExecCredential({
    apiVersion: execCredentialApiVersion,
    kind: "ExecCredential",
    status: { token: Redacted.value(status.token), expirationTimestamp: formatTime(status.expirationTimestamp) },
  }, indent)
}

/** Parses the JSON text of an ExecCredential; the error says what is wrong without quoting any value. */
export const parseExecCredential = (text: string): Either.Either<ExecCredential, string> =>
  Either.try(() => JSON.parse(text) as unknown).pipe(
    Either.mapLeft(() => "not a JSON ExecCredential"),
    Either.flatMap((json) =>
      Either.mapLeft(Schema.decodeUnknownEither(ExecCredential)(json), () => "not an ExecCredential")
    ),
  )

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
