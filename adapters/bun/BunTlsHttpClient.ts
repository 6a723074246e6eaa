/**
 * The Bun implementation of the `TlsHttpClient` port: Bun's `fetch` and its `tls` option, holding the cluster's CA and
 * client certificate.
 *
 * @module
 */
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as TlsHttpClient from "../platform/TlsHttpClient.ts"

/** Bun's extension of `RequestInit` (declared here: the Bun types are not installed). */
interface BunRequestInit extends RequestInit {
  readonly tls: {
    readonly ca?: string
    readonly cert?: string
    readonly key?: string
    readonly serverName?: string
    readonly rejectUnauthorized: boolean
  }
}

/** Builds clients that pass the TLS material to Bun's `fetch` on every request. */
export const tlsHttpClient: TlsHttpClient.TlsHttpClient = {
  make: (options) =>
    TlsHttpClient.checkPair(options).pipe(
      Effect.zipRight(TlsHttpClient.fromRequestInit(
        {
          tls: {
            ...(options.caPem !== undefined ? { ca: options.caPem } : {}),
            ...(options.certPem !== undefined && options.keyPem !== undefined
              ? { cert: options.certPem, key: Redacted.value(options.keyPem) }
              : {}),
            ...(options.serverName !== undefined ? { serverName: options.serverName } : {}),
            rejectUnauthorized: options.insecureSkipTlsVerify !== true,
          },
        } satisfies BunRequestInit as RequestInit,
      )),
    ),
}

/** A layer providing {@link tlsHttpClient}. */
export const layerTlsHttpClient: Layer.Layer<TlsHttpClient.TlsHttpClient> = TlsHttpClient.layer(tlsHttpClient)
