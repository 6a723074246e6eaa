/**
 * The runtime port for HTTPS with a private CA and client certificates. Each runtime adapter (`adapters/deno`,
 * `adapters/node`, `adapters/bun`) provides a layer whose `make` builds an `HttpClient` that trusts the given CA,
 * presents the given client certificate and rejects every server it cannot verify, unless
 * `insecureSkipTlsVerify` is set.
 *
 * @example
 * ```ts
 * import * as TlsHttpClient from "./TlsHttpClient.ts"
 * import * as Effect from "effect/Effect"
 *
 * const client = Effect.flatMap(TlsHttpClient.TlsHttpClient, (tls) => tls.make({ caPem: "-----BEGIN CERTIFICATE-----..." }))
 * ```
 *
 * @module
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import * as ErrorBase from "../../core/ErrorBase.ts"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"

/** The TLS material of a connection, as PEM text. */
export interface TlsOptions {
  /** The certificate authorities to trust instead of the system roots. */
  readonly caPem?: string | undefined
  /** The client certificate to present (with `keyPem`). */
  readonly certPem?: string | undefined
  /** The private key of the client certificate, redacted so that logging or inspecting a connection cannot leak it. */
  readonly keyPem?: Redacted.Redacted<string> | undefined
  /** The name to verify the server certificate against, when it differs from the URL's host. */
  readonly serverName?: string | undefined
  /** Accept any server certificate. Dangerous: only kubeconfig's `insecure-skip-tls-verify` sets it. */
  readonly insecureSkipTlsVerify?: boolean | undefined
}

/** The fields of a {@link TlsHttpClientError}. */
export interface TlsHttpClientErrorFields {
  /** Whether the runtime cannot do it or the material is bad. */
  readonly reason: "Unsupported" | "InvalidMaterial"
  /** What went wrong (never key material). */
  readonly description: string
}

const TlsHttpClientErrorBase: ErrorBase.Constructor<"TlsHttpClientError", TlsHttpClientErrorFields> = ErrorBase.make(
  "TlsHttpClientError",
  (e) => `cannot build the HTTPS client (${e.reason}): ${e.description}`,
)

/** The runtime cannot build a client for the given TLS material. */
export class TlsHttpClientError extends TlsHttpClientErrorBase {}

/** Builds HTTP clients for TLS material; the client's resources (agents, connection pools) live in the scope. */
export interface TlsHttpClient {
  /** Builds a client for the TLS material; its resources are released when the scope closes. */
  readonly make: (options: TlsOptions) => Effect.Effect<HttpClient.HttpClient, TlsHttpClientError, Scope.Scope>
}

/** The tag of the {@link TlsHttpClient} service. */
export const TlsHttpClient: Context.Tag<TlsHttpClient, TlsHttpClient> = Context.GenericTag<TlsHttpClient>(
  "@sa-token/manager/TlsHttpClient",
)

/** A layer providing a runtime's TLS client factory. */
export const layer = (client: TlsHttpClient): Layer.Layer<TlsHttpClient> => Layer.succeed(TlsHttpClient, client)

/**
 * The fetch-based client with fixed `RequestInit` fields (a Deno `client`, Bun `tls`, a Node `dispatcher`) and
 * optionally a fetch function of its own. The fields are provided to every request, whatever the caller's context.
 * Redirects are not followed (`redirect: "manual"`), so credentials never travel to another URL.
 */
export const fromRequestInit = (
  init: globalThis.RequestInit,
  fetch?: typeof globalThis.fetch,
): Effect.Effect<HttpClient.HttpClient> =>
  HttpClient.HttpClient.pipe(
    Effect.provide(FetchHttpClient.layer),
    Effect.map((client) =>
      HttpClient.transformResponse(client, (effect) => {
        const withInit = Effect.provideService(effect, FetchHttpClient.RequestInit, { redirect: "manual", ...init })
        return fetch === undefined ? withInit : Effect.provideService(withInit, FetchHttpClient.Fetch, fetch)
      })
    ),
  )

/** Whether client certificate and key come as a pair; both or neither. */
export const checkPair = (options: TlsOptions): Effect.Effect<void, TlsHttpClientError> =>
  (options.certPem === undefined) === (options.keyPem === undefined) ? Effect.void : Effect.fail(
    new TlsHttpClientError({
      reason: "InvalidMaterial",
      description: "a client certificate needs its private key and a private key needs its certificate",
    }),
  )
