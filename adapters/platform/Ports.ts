/**
 * The ports every runtime layer provides, assembled once: the runtime's TLS client factory and SIGHUP listener;
 * race-free private files over `node:fs`, whose descriptor calls (`fchown`, `fchmod`, `fsync`, `fstat`) and
 * `O_NOFOLLOW`/`O_EXCL`/`O_NONBLOCK`/`O_DIRECTORY` flags Deno, Node and Bun implement alike; the local HTTP transport
 * over `node:http`, and process control over `node:process`, which the three runtimes also provide alike.
 *
 * @module
 */
import * as Layer from "effect/Layer"
import type { LocalHttp } from "./LocalHttp.ts"
import * as NodeLocalHttp from "./NodeLocalHttp.ts"
import * as NodePrivateFile from "./NodePrivateFile.ts"
import * as NodeProcessControl from "./NodeProcessControl.ts"
import type { PrivateFile } from "./PrivateFile.ts"
import type { ProcessControl } from "./ProcessControl.ts"
import type { Signals } from "./Signals.ts"
import * as Tls from "./TlsHttpClient.ts"

/** The services of a runtime's ports. */
export type Ports = Tls.TlsHttpClient | Signals | PrivateFile | LocalHttp | ProcessControl

/** The ports of a runtime, from its TLS client factory and its SIGHUP layer. */
export const layer = (tlsHttpClient: Tls.TlsHttpClient, signals: Layer.Layer<Signals>): Layer.Layer<Ports> =>
  Layer.mergeAll(
    Tls.layer(tlsHttpClient),
    signals,
    NodePrivateFile.layer,
    NodeLocalHttp.layer,
    NodeProcessControl.layer,
  )

/**
 * Everything the agent and the CLI need from a runtime: its ports (from its TLS client factory and its SIGHUP layer)
 * with its file system, path, terminal and command executor (`context`).
 */
export const runtimeLayer = <C>(
  tlsHttpClient: Tls.TlsHttpClient,
  signals: Layer.Layer<Signals>,
  context: Layer.Layer<C>,
): Layer.Layer<Ports | C> => Layer.merge(layer(tlsHttpClient, signals), context)
