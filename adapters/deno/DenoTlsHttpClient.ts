/**
 * The Deno implementation of the `TlsHttpClient` port: `Deno.createHttpClient` and `fetch`, holding the cluster's CA and
 * client certificate.
 *
 * @module
 */
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as TlsHttpClient from "../platform/TlsHttpClient.ts"

/** Builds clients over a `Deno.HttpClient` holding the TLS material; the client closes with the scope. */
export const tlsHttpClient: TlsHttpClient.TlsHttpClient = {
  make: (options) =>
    options.insecureSkipTlsVerify === true
      ? Effect.fail(
        new TlsHttpClient.TlsHttpClientError({
          reason: "Unsupported",
          description:
            "Deno.createHttpClient cannot skip certificate verification; run deno with --unsafely-ignore-certificate-errors=<host> and drop insecure-skip-tls-verify, or give the cluster's CA",
        }),
      )
      : options.serverName !== undefined
      ? Effect.fail(
        new TlsHttpClient.TlsHttpClientError({
          reason: "Unsupported",
          description: `Deno.createHttpClient cannot verify the server as "${options.serverName}" (tls-server-name)`,
        }),
      )
      : TlsHttpClient.checkPair(options).pipe(
        Effect.zipRight(Effect.acquireRelease(
          Effect.try({
            try: () =>
              Deno.createHttpClient({
                ...(options.caPem !== undefined ? { caCerts: [options.caPem] } : {}),
                ...(options.certPem !== undefined && options.keyPem !== undefined
                  ? { cert: options.certPem, key: Redacted.value(options.keyPem) }
                  : {}),
              }),
            catch: refused,
          }),
          (client) => Effect.sync(() => client.close()),
        )),
        Effect.flatMap((client) => TlsHttpClient.fromRequestInit({ client } as RequestInit)),
      ),
}

/**
 * Deno refuses some material that Node and Bun accept, such as an X.509 v1 client certificate
 * (`invalid peer certificate: UnsupportedCertVersion`). Only the first line of the message is kept: no key material.
 */
const refused = (error: unknown): TlsHttpClient.TlsHttpClientError => {
  const message = (error instanceof Error ? error.message : String(error)).split("\n")[0]!
  return /UnsupportedCertVersion/.test(message)
    ? new TlsHttpClient.TlsHttpClientError({
      reason: "Unsupported",
      description:
        `Deno refuses the client certificate, an X.509 v1 certificate (${message}); Node and Bun accept it: run sa-token with node or bun for this kubeconfig`,
    })
    : new TlsHttpClient.TlsHttpClientError({
      reason: "InvalidMaterial",
      description: `Deno.createHttpClient: ${message}`,
    })
}

/** A layer providing {@link tlsHttpClient}. */
export const layerTlsHttpClient: Layer.Layer<TlsHttpClient.TlsHttpClient> = TlsHttpClient.layer(tlsHttpClient)
