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
import { TlsHttpClient } from "./TlsHttpClient.ts"

/** The services of a runtime's ports. */
export type Ports = TlsHttpClient | Signals | PrivateFile | LocalHttp | ProcessControl

/** The ports of a runtime, from its TLS client factory and its SIGHUP layer. */
export const layer = (tlsHttpClient: TlsHttpClient, signals: Layer.Layer<Signals>): Layer.Layer<Ports> =>
  Layer.mergeAll(
    Layer.succeed(TlsHttpClient, tlsHttpClient),
    signals,
    NodePrivateFile.layer,
    NodeLocalHttp.layer,
    NodeProcessControl.layer,
  )
