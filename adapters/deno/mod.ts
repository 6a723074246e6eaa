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
export * from "./DenoTlsHttpClient.ts"
export * from "./DenoRuntime.ts"
