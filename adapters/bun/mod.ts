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
export * from "./BunTlsHttpClient.ts"
export * from "./BunRuntime.ts"
