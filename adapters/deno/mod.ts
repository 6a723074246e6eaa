/**
 * The Deno runtime layer: an HTTPS client factory over `Deno.createHttpClient` (passed to `fetch` as `client`), plus
 * the file system, path, terminal and command executor (Node's implementations, which run on Deno), and a `runMain`
 * that interrupts the program on SIGINT and SIGTERM through `Deno.addSignalListener`.
 *
 * @example Run a program that needs the agent's platform services on Deno
 * ```ts
 * import assert from "node:assert/strict"
 * import * as Runtime from "@sa-token/manager/deno"
 * import * as FileSystem from "@effect/platform/FileSystem"
 * import * as Effect from "effect/Effect"
 *
 * const program = Effect.flatMap(FileSystem.FileSystem, (fs) => fs.exists("deno.json"))
 * assert.equal(await Effect.runPromise(program.pipe(Effect.provide(Runtime.layer))), true)
 * ```
 *
 * @example The CLI entry point (what the `sa-token` bin, `adapters/cli/main.ts`, does on Deno)
 * ```ts ignore
 * import * as Runtime from "@sa-token/manager/deno"
 * import { Cli } from "@sa-token/manager/cli"
 * import * as Effect from "effect/Effect"
 *
 * Cli.run(["deno", "sa-token", ...Deno.args]).pipe(Effect.provide(Runtime.layer), Runtime.runMain({ disableErrorReporting: true }))
 * ```
 *
 * @module
 */
import { layer as nodeContext, type NodeContext } from "@effect/platform-node/NodeContext"
import { makeRunMain } from "@effect/platform/Runtime"
import type { RunMain } from "@effect/platform/Runtime"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Signals from "../platform/Signals.ts"
import * as TlsHttpClient from "../platform/TlsHttpClient.ts"
import * as Ports from "../platform/Ports.ts"

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

/** SIGHUP as the agent's "reload the configuration" signal. */
export const layerSignals: Layer.Layer<Signals.Signals> = Signals.layerFromListener((onHangup) => {
  Deno.addSignalListener("SIGHUP", onHangup)
  return () => Deno.removeSignalListener("SIGHUP", onHangup)
})

/**
 * Everything the agent and the CLI need from Deno: the platform ports (TLS client, SIGHUP, private files, the local
 * HTTP transport, process control), and Deno's file system, path, terminal and command executor.
 */
export const layer: Layer.Layer<Ports.Ports | NodeContext> = Ports.runtimeLayer(
  tlsHttpClient,
  layerSignals,
  nodeContext,
)

/** Runs a main effect; SIGINT and SIGTERM interrupt it, and the process exits with the teardown's code. */
export const runMain: RunMain = makeRunMain(({ fiber, teardown }) => {
  const signals = ["SIGINT", "SIGTERM"] as const
  let received = false
  const keepAlive = setInterval(() => {}, 2 ** 31 - 1)
  const onSignal = (): void => {
    received = true
    fiber.unsafeInterruptAsFork(fiber.id())
  }
  for (const signal of signals) Deno.addSignalListener(signal, onSignal)
  fiber.addObserver((exit) => {
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal)
    clearInterval(keepAlive)
    teardown(exit, (code) => {
      if (received || code !== 0) Deno.exit(code)
    })
  })
})
