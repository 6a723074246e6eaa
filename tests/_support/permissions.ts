/**
 * Helpers of the least-privilege suites: Deno and Node run as child processes with exact permission flags, the flags
 * `permissions` computes, an agent configuration and an agent process to run under them.
 */
import assert from "node:assert/strict"
import { execFile, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as nodePath from "node:path"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as PermissionsCommand from "../../adapters/cli/PermissionsCommand.ts"
import * as NodePrivateFile from "../../adapters/platform/NodePrivateFile.ts"
import { main, root } from "./agentProcess.ts"

/** How a child process ended and what it printed. */
export interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** The Deno binary of the npm devDependency. */
export const deno: string = nodePath.join(root, "node_modules", ".bin", "deno")

const runFile = (file: string, args: ReadonlyArray<string>, cwd: string, env?: NodeJS.ProcessEnv): Promise<Run> =>
  new Promise((resolve) =>
    execFile(
      file,
      [...args],
      { cwd, maxBuffer: 1 << 28, ...(env !== undefined ? { env } : {}) },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    )
  )

/** Runs `deno ARGS` in `cwd` (the repository by default). */
export const runDeno = (args: ReadonlyArray<string>, cwd: string = root): Promise<Run> => runFile(deno, args, cwd)

/** Runs `node ARGS`, through `/usr/bin/env`: Deno's child_process would run a bare "node" as Deno. */
export const runNode = (args: ReadonlyArray<string>): Promise<Run> => runFile("/usr/bin/env", ["node", ...args], root)

/** Runs a program with `env`. */
export const runWith = (file: string, args: ReadonlyArray<string>, cwd: string, env: NodeJS.ProcessEnv): Promise<Run> =>
  runFile(file, args, cwd, env)

/** `exec-credential` asking the agent of `config` for its `default` token. */
export const askAgent = (config: string): ReadonlyArray<string> => [
  "exec-credential",
  "--config",
  config,
  "--name",
  "default",
]

/** Checks that a run of {@link askAgent} printed an ExecCredential. */
export const assertCredential = (run: Run): void => {
  assert.equal(run.code, 0, run.stderr)
  assert.equal(JSON.parse(run.stdout).kind, "ExecCredential")
}

/**
 * What the exec-credential cache directory `dir` holds, each name without its hash: `.json` for an entry, `.ns.json`
 * for the namespace remembered for a kubeconfig.
 */
export const cacheFiles = (dir: string): ReadonlyArray<string> =>
  fs.readdirSync(dir).map((name) => name.replace(/^[0-9a-f]{64}/, "")).sort()

/** The Deno flags `permissions` prints for `flags`. */
export const flagsFor = (flags: Partial<PermissionsCommand.PermissionsFlags>): Promise<ReadonlyArray<string>> =>
  PermissionsCommand.compute({
    config: Option.none(),
    kubeconfig: Option.none(),
    context: Option.none(),
    cacheDir: Option.none(),
    name: Option.none(),
    socket: Option.none(),
    socketOwner: Option.none(),
    for: "auto",
    runtime: "deno",
    ...flags,
  }).pipe(Effect.provide(NodePrivateFile.layer), Effect.provide(NodeContext.layer), Effect.runPromise)

/** Polls `condition` every 10 ms for a minute; the timeout's message ends with `output()`. */
export const waitFor = async (condition: () => boolean, what: string, output: () => string = () => "") => {
  for (let i = 0; i < 6000; i++) {
    if (condition()) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`timed out waiting for ${what}\n${output()}`)
}

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

/** A new directory under `parent` holding an agent config: one token file under `tokens/`, a unix or TCP endpoint. */
export const agentConfig = async (
  parent: string,
  kubeconfig: string,
  endpoint: "unix" | "tcp",
): Promise<{ readonly dir: string; readonly config: string }> => {
  const dir = fs.mkdtempSync(nodePath.join(parent, `agent-${endpoint}-`))
  const config = nodePath.join(dir, "agent.yaml")
  const address = endpoint === "unix"
    ? `{ unix: { path: ${nodePath.join(dir, "agent.sock")} } }`
    : `{ tcp: { address: "127.0.0.1:${await freePort()}", bearerToken: "${"0123456789abcdef".repeat(2)}" } }`
  fs.writeFileSync(
    config,
    [
      `cluster: { kubeconfig: ${kubeconfig} }`,
      "tokens:",
      "  - { name: default, namespace: default, serviceAccount: default, file: { path: tokens/default } }",
      `endpoint: ${address}`,
    ].join("\n"),
    { mode: 0o600 },
  )
  return { dir, config }
}

/** A running agent: what it printed on stderr, and `stop` (SIGTERM), which resolves to its exit code. */
export interface Agent {
  readonly stderr: () => string
  readonly stop: () => Promise<number | null>
}

/** Starts `agent --config CONFIG` with `command` (its program and arguments): by default the bin entry on Deno. */
export const startAgent = (
  flags: ReadonlyArray<string>,
  config: string,
  command: ReadonlyArray<string> = [deno, "run", ...flags, main],
): Agent => {
  const child = spawn(command[0]!, [...command.slice(1), "agent", "--config", config], {
    stdio: ["ignore", "pipe", "pipe"],
  })
  let stderr = ""
  child.stderr!.on("data", (chunk) => (stderr += String(chunk)))
  child.stdout!.resume()
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  return {
    stderr: () => stderr,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM")
      return exited
    },
  }
}
