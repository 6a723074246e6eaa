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
 * Run as a program (`deno run jsr:@sa-token/manager/cli agent --config agent.yaml`, or installed with
 * `deno install -g -n sa-token jsr:@sa-token/manager/cli`), it is the `sa-token` command itself: the same entry as the
 * npm bin. `sa-token permissions` prints the least-privilege flags to run it with.
 *
 * @module
 */
export * as Cli from "./Cli.ts"
export * as StatusLine from "./StatusLine.ts"
export * as Permissions from "./Permissions.ts"

// Imported as a library, nothing runs; as the main module (Deno's `import.meta.main`), the CLI runs.
if ((import.meta as { readonly main?: boolean }).main === true) await import("./main.ts")
