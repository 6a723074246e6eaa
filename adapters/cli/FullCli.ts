/**
 * The bin's last tier: the whole `sa-token` command line ({@link Cli.run}) on a runtime's layer, for everything the
 * built-in answers and the lean `exec-credential` answers do not take. The bin entry loads it, with the runtime's
 * module, only then: it brings `@effect/cli`, the kubeconfig loader, TLS and the rest of Effect along.
 *
 * @module
 */
import type { CliApp } from "@effect/cli/CliApp"
import type { RunMain } from "@effect/platform/Runtime"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Cli from "./Cli.ts"
import * as MissingPermission from "./MissingPermission.ts"

/** What the bin takes from a runtime's module (`NodeRuntime.ts`, `BunRuntime.ts`, `DenoRuntime.ts`). */
export interface Runtime {
  readonly layer: Layer.Layer<Cli.Requirements | CliApp.Environment>
  readonly runMain: RunMain
}

/**
 * Runs the command line (`argv` with the runtime and the script first, as `process.argv`) until it ends, reporting an
 * uncaught missing permission as the CLI's one line; the runtime's `runMain` sets the exit code.
 */
export const run = (argv: ReadonlyArray<string>, runtime: Runtime): void => {
  MissingPermission.reportUncaught()
  Cli.run(argv).pipe(Effect.provide(runtime.layer), runtime.runMain({ disableErrorReporting: true }))
}
