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
export * from "./NodeTlsHttpClient.ts"
export * from "./NodeRuntime.ts"
