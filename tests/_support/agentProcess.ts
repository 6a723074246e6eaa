/**
 * The agent as a process: `sa-token agent --config FILE` through the bin entry (`adapters/cli/main.ts`), under Node
 * unless another command is given. The one spawn helper of the suites that run the agent as a child process, and the
 * scratch directory with a development API server they run it against.
 */
import { spawn } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import * as nodePath from "node:path"
import { fileURLToPath } from "node:url"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as DevServer from "../../adapters/devserver/mod.ts"
import { nodeEntry } from "./clis.ts"
import { removeDir, tempDir } from "./scratch.ts"

/** The repository's root. */
export const root: string = nodePath.join(nodePath.dirname(fileURLToPath(import.meta.url)), "..", "..")

/** The bin entry. */
export const main: string = nodePath.join(root, "adapters", "cli", "main.ts")

/**
 * The Node command running the CLI (the bin bundle `npm test` builds, else {@link main} through tsx: see `nodeEntry`),
 * through `/usr/bin/env`: Deno's child_process would run a bare "node" as Deno.
 */
export const nodeMain: ReadonlyArray<string> = ["node", ...nodeEntry]

/** A running agent process. */
export interface AgentProcess {
  readonly child: ChildProcess
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: string | null }>
  /** What it wrote to stderr so far. */
  readonly stderr: () => string
  /** What it wrote to stdout and stderr so far, interleaved. */
  readonly output: () => string
}

/** Starts the agent with a configuration file. */
export const startAgent = (config: string, command: ReadonlyArray<string> = nodeMain): AgentProcess => {
  const child = spawn("/usr/bin/env", [...command, "agent", "--config", config], { stdio: ["ignore", "pipe", "pipe"] })
  let stderr = ""
  let output = ""
  child.stderr!.on("data", (chunk) => {
    stderr += String(chunk)
    output += String(chunk)
  })
  child.stdout!.on("data", (chunk) => (output += String(chunk)))
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal }))
  )
  return { child, exited, stderr: () => stderr, output: () => output }
}

/** Starts the agent in a scope; closing the scope kills it if it still runs (a failed test leaves no agent behind). */
export const scopedAgent = (
  config: string,
  command?: ReadonlyArray<string>,
): Effect.Effect<AgentProcess, never, Scope.Scope> =>
  Effect.acquireRelease(Effect.sync(() => startAgent(config, command)), (agent) =>
    Effect.sync(() => {
      if (agent.child.exitCode === null && agent.child.signalCode === null) agent.child.kill("SIGKILL")
    }))

/** Runs the agent until it exits or `giveUpMillis` pass (then SIGKILL); returns its exit code and stderr. */
export const runAgent = async (
  config: string,
  giveUpMillis: number,
): Promise<{ readonly code: number | null; readonly stderr: string; readonly killed: boolean }> => {
  const agent = startAgent(config)
  let killed = false
  const timer = setTimeout(() => {
    killed = true
    agent.child.kill("SIGKILL")
  }, giveUpMillis)
  const { code } = await agent.exited
  clearTimeout(timer)
  return { code, stderr: agent.stderr(), killed }
}

/**
 * Runs `body` in a scope with a new scratch directory `PREFIX-…` and a development API server (with `options`) whose
 * kubeconfig is the directory's `kubeconfig`: a config there names it as `cluster: { kubeconfig: kubeconfig }`. The
 * server stops with the scope, then the directory is removed, however `body` ends.
 */
export const withDevServer = <E>(
  prefix: string,
  options: Omit<DevServer.Options, "kubeconfigOut">,
  body: (dir: string, server: DevServer.DevServer) => Effect.Effect<void, E, Scope.Scope>,
): Promise<void> =>
  Effect.runPromise(Effect.scoped(Effect.gen(function* () {
    const dir = yield* Effect.acquireRelease(Effect.sync(() => tempDir(prefix)), (dir) =>
      Effect.sync(() => removeDir(dir)))
    const server = yield* DevServer.start({ ...options, kubeconfigOut: nodePath.join(dir, "kubeconfig") })
    yield* body(dir, server)
  })))
