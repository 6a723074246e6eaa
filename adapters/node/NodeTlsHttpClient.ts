/**
 * The Node implementation of the `TlsHttpClient` port: an undici 7 `Agent` used as the `dispatcher` of undici's own `fetch`, holding the cluster's CA and
 * client certificate.
 *
 * @module
 */
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { Agent, fetch } from "undici"
import * as TlsHttpClient from "../platform/TlsHttpClient.ts"

/** Builds clients whose connections go through an undici `Agent` with the TLS material; the agent closes with the scope. */
export const tlsHttpClient: TlsHttpClient.TlsHttpClient = {
  make: (options) =>
    TlsHttpClient.checkPair(options).pipe(
      Effect.zipRight(Effect.acquireRelease(
        Effect.sync(() =>
          new Agent({
            connect: {
              ...(options.caPem !== undefined ? { ca: options.caPem } : {}),
              ...(options.certPem !== undefined ? { cert: options.certPem, key: Redacted.value(options.keyPem!) } : {}),
              ...(options.serverName !== undefined ? { servername: options.serverName } : {}),
              rejectUnauthorized: options.insecureSkipTlsVerify !== true,
            },
          })
        ),
        (agent) => Effect.promise(() => agent.destroy()),
      )),
      Effect.flatMap((agent) =>
        TlsHttpClient.fromRequestInit({ dispatcher: agent } as RequestInit, fetch as unknown as typeof globalThis.fetch)
      ),
    ),
}

/** A layer providing {@link tlsHttpClient}. */
export const layerTlsHttpClient: Layer.Layer<TlsHttpClient.TlsHttpClient> = TlsHttpClient.layer(tlsHttpClient)
