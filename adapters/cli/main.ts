#!/usr/bin/env node
/**
 * The npm package's `sa-token` bin. `bunx --bun sa-token` and `deno run npm:…` run this same file on Bun and Deno, whose
 * stand-ins for undici ignore TLS settings, so it wires the runtime it finds itself on.
 *
 * kubectl runs its exec plugin on every command, so the bin loads only what the command line needs, in three tiers:
 *
 * 1. `version`, `--version`, `--help` and `-h` print texts generated from the command's definition (`FastPath.ts`),
 *    loading nothing else;
 * 2. `exec-credential` first tries a lean answer in `effect/Micro` over the runtime's `LeanHost`
 *    (`ExecCredentialLean.ts`): the agent's socket, or the on-disk cache; no CLI framework, no kubeconfig loader, no
 *    TLS client, no Schema. Bun loads both answers as one module, `LeanAnswers.ts`, which the bundled bin ships as
 *    Bun's bytecode;
 * 3. everything else, and an `exec-credential` the lean answer cannot give, runs the full CLI (`FullCli.ts`) with the
 *    runtime's layer.
 *
 * Each tier is loaded by dynamic import, and the bundled bin builds each as files of its own (`scripts/build-bin.sh`).
 * This module imports nothing else: on Deno it reads its arguments from `Deno.args`, since the first `node:` module
 * starts Deno's Node compatibility layer, which costs more than a lean answer.
 *
 * @module
 */
import { builtIn } from "./FastPath.ts"

const onDeno = "Deno" in globalThis
const onBun = "Bun" in globalThis
const args: ReadonlyArray<string> = onDeno ? Deno.args : (await import("node:process")).default.argv.slice(2)

/**
 * Whether a lean answer printed the credential. `--name` means the agent's socket, as the lean reading of the command
 * line will say. Each lean answer reads the command line itself.
 */
const lean = async (rest: ReadonlyArray<string>): Promise<boolean> => {
  const socket = rest.some((arg) => arg === "--name" || arg.startsWith("--name="))
  if (onBun) {
    const [answers, host] = await Promise.all([import("./LeanAnswers.ts"), import("../bun/BunLeanHost.ts")])
    return (socket ? answers.socket : answers.cache)(rest, host.leanHost)
  }
  const [hit, host] = await Promise.all([
    socket ? import("./ExecCredentialSocketHit.ts") : import("./ExecCredentialCacheHit.ts"),
    onDeno ? import("../deno/DenoLeanHost.ts") : import("../node/NodeLeanHost.ts"),
  ])
  return hit.run(rest, host.leanHost)
}

const full = async (): Promise<void> => {
  const [FullCli, Runtime, process] = await Promise.all([
    import("./FullCli.ts"),
    onDeno
      ? import("../deno/DenoRuntime.ts")
      : onBun
      ? import("../bun/BunRuntime.ts")
      : import("../node/NodeRuntime.ts"),
    import("node:process"),
  ])
  FullCli.run(process.default.argv, Runtime)
}

const answer = builtIn(args)
// console.log, not process.stdout: Bun builds process.stdout lazily as a Node stream, which costs as much as its whole
// start-up; console.log writes to the descriptor directly on every runtime. Each answer ends with its newline.
if (answer !== undefined) console.log(answer.slice(0, -1))
else if (!(args[0] === "exec-credential" && await lean(args.slice(1)))) await full()
