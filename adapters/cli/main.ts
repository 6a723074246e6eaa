#!/usr/bin/env node
/**
 * The npm package's `sa-token` bin. `bunx --bun sa-token` and `deno run npm:…` run this same file on Bun and Deno, whose
 * stand-ins for undici ignore TLS settings, so it wires the runtime it finds itself on.
 *
 * kubectl runs its exec plugin on every command, so the bin loads only what the command line needs, in three tiers:
 *
 * 1. `version`, `--version`, `--help` and `-h` print texts generated from the command's definition (`FastPath.ts`),
 *    loading nothing else;
 * 2. `exec-credential` first tries a lean path (`ExecCredentialLean.ts`): the agent's socket (no file system, no
 *    YAML) or the on-disk cache (files and paths only); no CLI framework, no kubeconfig loader, no TLS client;
 * 3. everything else, and an `exec-credential` the lean path cannot answer, runs the full CLI with the runtime's layer.
 *
 * The tiers are separate modules loaded by dynamic import, so that the bundled bin keeps each in its own chunks.
 *
 * @module
 */
import process from "node:process"
import { builtIn } from "./FastPath.ts"

const args = process.argv.slice(2)

/**
 * Whether a lean path printed the credential. `--name` means the agent's socket, as the lean reading of the command
 * line will say. Each lean path is one module that reads the command line itself, which the bundled bin builds as one
 * self-contained file (`scripts/build-bin.sh`).
 */
const lean = async (rest: ReadonlyArray<string>): Promise<boolean> => {
  const socket = rest.some((arg) => arg === "--name" || arg.startsWith("--name="))
  const hit = socket ? await import("./ExecCredentialSocketHit.ts") : await import("./ExecCredentialCacheHit.ts")
  return hit.run(rest)
}

const full = async (): Promise<void> => {
  const [Effect, Cli, MissingPermission, Runtime] = await Promise.all([
    import("effect/Effect"),
    import("./Cli.ts"),
    import("./MissingPermission.ts"),
    "Deno" in globalThis
      ? import("../deno/mod.ts")
      : process.versions.bun !== undefined
      ? import("../bun/mod.ts")
      : import("../node/mod.ts"),
  ])
  MissingPermission.reportUncaught()
  Cli.run(process.argv).pipe(Effect.provide(Runtime.layer), Runtime.runMain({ disableErrorReporting: true }))
}

const answer = builtIn(args)
// console.log, not process.stdout: Bun builds process.stdout lazily as a Node stream, which costs as much as its whole
// start-up; console.log writes to the descriptor directly on every runtime. Each answer ends with its newline.
if (answer !== undefined) console.log(answer.slice(0, -1))
else if (!(args[0] === "exec-credential" && await lean(args.slice(1)))) await full()
