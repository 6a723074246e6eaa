/**
 * Runtime-neutral ports that the runtime adapters (`@sa-token/manager/deno`, `/node`, `/bun`) implement, and the
 * implementations they share: {@link TlsHttpClient} (HTTPS with a private CA and client certificates),
 * {@link Signals} (SIGHUP as "reload"), {@link PrivateFile} (race-free writes of private files) and its `node:fs`
 * implementation {@link NodePrivateFile}, {@link LocalHttp} (the agent's endpoint and its client) and its `node:http`
 * implementation {@link NodeLocalHttp}, {@link ProcessControl} (exit codes, signals to other processes) and its
 * `node:process` implementation {@link NodeProcessControl}, and {@link Connections} (limits on a server's
 * connections).
 *
 * @module
 */
export * as Connections from "./Connections.ts"
export * as LocalHttp from "./LocalHttp.ts"
export * as NodeLocalHttp from "./NodeLocalHttp.ts"
export * as NodePrivateFile from "./NodePrivateFile.ts"
export * as NodeProcessControl from "./NodeProcessControl.ts"
export * as Ports from "./Ports.ts"
export * as PrivateFile from "./PrivateFile.ts"
export * as ProcessControl from "./ProcessControl.ts"
export * as Signals from "./Signals.ts"
export * as TlsHttpClient from "./TlsHttpClient.ts"
