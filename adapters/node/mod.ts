/**
 * The Node runtime layer: an HTTPS client factory over an undici 7 `Agent` used as the `dispatcher` of undici's own
 * `fetch`, plus Node's file system, path, terminal and command executor. Untrusted servers are rejected unless
 * `insecureSkipTlsVerify` is set.
 *
 * @example Run a program that needs the agent's platform services on Node
 * ```ts
 * import assert from "node:assert/strict"
 * import * as Runtime from "@sa-token/manager/node"
 * import * as FileSystem from "@effect/platform/FileSystem"
 * import * as Effect from "effect/Effect"
 *
 * const program = Effect.flatMap(FileSystem.FileSystem, (fs) => fs.exists("package.json"))
 * assert.equal(await Effect.runPromise(program.pipe(Effect.provide(Runtime.layer))), true)
 * ```
 *
 * @example The CLI entry point (what the `sa-token` bin does)
 * ```ts ignore
 * import * as Runtime from "@sa-token/manager/node"
 * import { Cli } from "@sa-token/manager/cli"
 * import * as Effect from "effect/Effect"
 *
 * Cli.run(process.argv).pipe(Effect.provide(Runtime.layer), Runtime.runMain({ disableErrorReporting: true }))
 * ```
 *
 * @module
 */
import { layer as nodeContext, type NodeContext } from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import type { RunMain } from "@effect/platform/Runtime"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { Agent, fetch } from "undici"
import * as Signals from "../platform/Signals.ts"
import * as TlsHttpClient from "../platform/TlsHttpClient.ts"
import * as Ports from "../platform/Ports.ts"

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

/** SIGHUP as the agent's "reload the configuration" signal. */
export const layerSignals: Layer.Layer<Signals.Signals> = Signals.layerProcess

/**
 * Everything the agent and the CLI need from Node: the platform ports (TLS client, SIGHUP, private files, the local
 * HTTP transport, process control), and Node's file system, path, terminal and command executor.
 */
export const layer: Layer.Layer<Ports.Ports | NodeContext> = Ports.runtimeLayer(
  tlsHttpClient,
  layerSignals,
  nodeContext,
)

/** Runs a main effect, interrupting it on SIGINT and SIGTERM. */
export const runMain: RunMain = NodeRuntime.runMain
