/**
 * The `client.authentication.k8s.io` ExecCredential as one schema: what client-go gives an exec plugin
 * (`KUBERNETES_EXEC_INFO`) and what the plugin prints back. The text `exec-credential` prints for kubectl is
 * `KubeWire.renderTokenCredential`, which writes the same document without loading Schema.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import * as Either from "effect/Either"
 * import { ExecCredentialWire } from "@sa-token/manager/kube"
 *
 * const parsed = ExecCredentialWire.parseExecCredential(
 *   '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t"}}',
 * )
 * assert.ok(Either.isRight(parsed) && parsed.right.status?.token === "t")
 * assert.deepEqual(ExecCredentialWire.parseExecCredential("{}"), Either.left("not an ExecCredential"))
 * ```
 *
 * @module
 */
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"

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

/** Parses the JSON text of an ExecCredential; the error says what is wrong without quoting any value. */
export const parseExecCredential = (text: string): Either.Either<ExecCredential, string> =>
  Either.try(() => JSON.parse(text) as unknown).pipe(
    Either.mapLeft(() => "not a JSON ExecCredential"),
    Either.flatMap((json) =>
      Either.mapLeft(Schema.decodeUnknownEither(ExecCredential)(json), () => "not an ExecCredential")
    ),
  )
