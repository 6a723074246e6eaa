/**
 * The runtime layer of whichever runtime runs the tests (Deno, Bun or Node), picked by `globalThis.Deno` and
 * `process.versions.bun`, so that one contract suite exercises each runtime's own TLS client.
 */
import type * as Layer from "effect/Layer"
import type * as TlsHttpClient from "../../adapters/platform/TlsHttpClient.ts"

/** The runtime running this process. */
export const runtime: "deno" | "bun" | "node" = "Deno" in globalThis
  ? "deno"
  : typeof process !== "undefined" && process.versions.bun !== undefined
  ? "bun"
  : "node"

/**
 * The skip option of tests that spawn the agent with the Node main: the runner's runtime changes nothing there, so they
 * run once, under Node.
 */
export const spawnsNodeAgent: string | false = runtime === "node"
  ? false
  : "spawns the agent with the Node main; runs once, under the Node runner"

/** The TLS client factory of this runtime. */
export const tlsLayer: Layer.Layer<TlsHttpClient.TlsHttpClient> = runtime === "deno"
  ? (await import("../../adapters/deno/mod.ts")).layerTlsHttpClient
  : runtime === "bun"
  ? (await import("../../adapters/bun/mod.ts")).layerTlsHttpClient
  : (await import("../../adapters/node/mod.ts")).layerTlsHttpClient
