/**
 * Runtime-neutral ports that the runtime adapters (`@sa-token/manager/deno`, `/node`, `/bun`) implement, and the
 * implementations they share: {@link TlsHttpClient} (HTTPS with a private CA and client certificates),
 * {@link Signals} (SIGHUP as "reload"), {@link PrivateFile} (race-free writes of private files) and its `node:fs`
 * implementation {@link NodePrivateFile}.
 *
 * @module
 */
export * as NodePrivateFile from "./NodePrivateFile.ts"
export * as Ports from "./Ports.ts"
export * as PrivateFile from "./PrivateFile.ts"
export * as Signals from "./Signals.ts"
export * as TlsHttpClient from "./TlsHttpClient.ts"
