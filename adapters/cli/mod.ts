/**
 * The `sa-token` command-line interface: `token`, `agent`, `exec-credential`, `demo` and `dev-server`, assembled in
 * {@link Cli}. A runtime adapter (`@sa-token/manager/deno`, `/node` or `/bun`) provides the platform services; the
 * package's bin (`adapters/cli/main.ts`) picks the one it runs on.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import { Cli } from "@sa-token/manager/cli"
 * import * as Node from "@sa-token/manager/node"
 * import * as Effect from "effect/Effect"
 *
 * await Effect.runPromise(Cli.run(["node", "sa-token", "version"]).pipe(Effect.provide(Node.layer)))
 * assert.ok(true)
 * ```
 *
 * @module
 */
export * as Cli from "./Cli.ts"
export * as StatusLine from "./StatusLine.ts"
