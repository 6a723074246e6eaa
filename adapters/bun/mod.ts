/**
 * The Bun runtime layer: an HTTPS client factory over Bun's `fetch` and its `tls` option, plus Bun's file system,
 * path, terminal and command executor. Untrusted servers are rejected unless `insecureSkipTlsVerify` is set.
 *
 * @example Run a program that needs the agent's platform services on Bun (a no-op on other runtimes)
 * ```ts
 * import assert from "node:assert/strict"
 * import * as FileSystem from "@effect/platform/FileSystem"
 * import * as Effect from "effect/Effect"
 *
 * if ("Bun" in globalThis) {
 *   const Runtime = await import("@sa-token/manager/bun")
 *   const program = Effect.flatMap(FileSystem.FileSystem, (fs) => fs.exists("package.json"))
 *   assert.equal(await Effect.runPromise(program.pipe(Effect.provide(Runtime.layer))), true)
 * }
 * ```
 *
 * @module
 */
import { type BunContext, layer as bunContext } from "@effect/platform-bun/BunContext"
import * as BunRuntime from "@effect/platform-bun/BunRuntime"
import type { RunMain } from "@effect/platform/Runtime"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Signals from "../platform/Signals.ts"
import * as TlsHttpClient from "../platform/TlsHttpClient.ts"
import * as Ports from "../platform/Ports.ts"

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

/** SIGHUP as the agent's "reload the configuration" signal. */
export const layerSignals: Layer.Layer<Signals.Signals> = Signals.layerProcess

/**
 * Everything the agent and the CLI need from Bun: the platform ports (TLS client, SIGHUP, private files, the local
 * HTTP transport, process control), and Bun's file system, path, terminal and command executor.
 */
export const layer: Layer.Layer<Ports.Ports | BunContext> = Ports.runtimeLayer(tlsHttpClient, layerSignals, bunContext)

/** Runs a main effect, interrupting it on SIGINT and SIGTERM. */
export const runMain: RunMain = BunRuntime.runMain
