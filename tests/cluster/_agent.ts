/**
 * Helpers for the cluster suite's agent files: unique namespaces and service accounts on the real API server, the
 * agent (and the CLI) as a process with the Node main, TokenReviews and an audit-log barrier through the admin's
 * client certificate, bounded polling (never a fixed sleep), and the setup of a suite on the shared API server.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as http from "node:http"
import { after, before } from "node:test"
import { decodeJwt, type JWTPayload } from "jose"
import { cliCommand } from "../_support/clis.ts"
import { removeDir, tempDir } from "../_support/scratch.ts"
import { auditEvents, type Cluster, root, sharedCluster } from "./_cluster.ts"
import { admin, review } from "./_tokens.ts"

/** `sa-token` under Node (the npm bin's runtime). */
export const cli: ReadonlyArray<string> = cliCommand("node")

export { tempDir }

/** What the tests of a suite work with: the shared API server and a scratch directory of the suite's own. */
export interface Suite {
  readonly cluster: Cluster
  readonly dir: string
}

/**
 * Sets a suite up on the shared API server: before its tests, the server and a new private (0700) directory
 * `PREFIX-…`, then `setup` with them; after its tests, the directory is removed. The returned fields are set once the
 * suite's `before` has run.
 */
export const clusterSuite = (prefix: string, setup: (cluster: Cluster, dir: string) => Promise<void>): Suite => {
  const suite: { cluster?: Cluster; dir?: string } = {}
  before(async () => {
    suite.cluster = await sharedCluster()
    suite.dir = tempDir(prefix)
    await setup(suite.cluster, suite.dir)
  })
  after(() => {
    if (suite.dir !== undefined) removeDir(suite.dir)
  })
  return suite as Suite
}

/** Polls `condition` every 100 ms until it holds, or fails after `timeoutMs` naming `what`. */
export const poll = async <A>(
  condition: () => A | undefined | false | Promise<A | undefined | false>,
  what: string,
  timeoutMs = 60_000,
): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await condition()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** Creates a namespace named `prefix-<random>` and the given service accounts in it; returns its name. */
export const namespace = async (
  cluster: Cluster,
  prefix: string,
  serviceAccounts: ReadonlyArray<string> = [],
): Promise<string> => {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`
  await admin(cluster, "create", "namespace", name)
  for (const account of serviceAccounts) await admin(cluster, "create", "serviceaccount", account, "-n", name)
  return name
}

/** The claims of a JWT (not verified: the TokenReview is what checks it). */
export const claims = (token: string): JWTPayload & { readonly "kubernetes.io"?: Record<string, unknown> } =>
  decodeJwt(token.trim())

/**
 * Returns once every request answered before the call is in the audit log: the server writes an event when its
 * response is complete, so a TokenReview sent now and found in the log comes after the events of earlier requests.
 */
export const auditBarrier = async (cluster: Cluster): Promise<void> => {
  const { auditID } = await review(cluster, "not-a-token")
  await poll(() => auditEvents(cluster).some((event) => event.auditID === auditID), "the barrier's audit event")
}

/** `GET path` on a unix-socket endpoint of the agent. */
export const socketGet = (socketPath: string, urlPath: string): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    http.get({ socketPath, path: urlPath }, (response) => {
      let body = ""
      response.setEncoding("utf8").on("data", (chunk: string) => body += chunk)
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }))
    }).on("error", reject)
  })

/** Whether the agent on `socketPath` answers `/readyz` with 200. */
export const ready = (socketPath: string): Promise<boolean> =>
  socketGet(socketPath, "/readyz").then((answer) => answer.status === 200, () => false)

export interface Process {
  readonly child: ChildProcess
  /** stderr so far (the agent logs there). */
  readonly stderr: () => string
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
  /** Sends `signal` (default SIGTERM) and waits for the exit; a no-op once exited. */
  readonly stop: (signal?: NodeJS.Signals) => Promise<{ readonly code: number | null }>
}

const live = new Set<ChildProcess>()
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL")
})

/** Spawns `argv` from the repository root (where tsx resolves), collecting stderr. */
export const start = (argv: ReadonlyArray<string>, env: NodeJS.ProcessEnv = process.env): Process => {
  const child = spawn(argv[0]!, argv.slice(1), { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] })
  live.add(child)
  let stderr = ""
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => stderr = (stderr + chunk).slice(-200_000))
  child.stdout!.resume()
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      live.delete(child)
      resolve({ code, signal })
    })
  )
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    return await exited
  }
  return { child, stderr: () => stderr, exited, stop }
}

/** Starts `sa-token agent --config FILE` (with the Node main unless told). */
export const agent = (config: string, env?: NodeJS.ProcessEnv, argv: ReadonlyArray<string> = cli): Process =>
  start([...argv, "agent", "--config", config], env)

/** The JSON log lines of an agent's stderr. */
export const logLines = (
  agentProcess: Process,
): ReadonlyArray<{ message: string; annotations: Record<string, unknown> }> =>
  agentProcess.stderr().split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line))

/**
 * Why the mount-namespace cases cannot run here, or `false`: they need root and `unshare --mount`, to put a pod's
 * files at their fixed paths in a private mount namespace without touching the host's.
 */
export const mountNamespaceSkip: string | false = (() => {
  if (process.getuid?.() !== 0) return "needs root, for a private mount namespace (unshare --mount)"
  try {
    execFileSync("unshare", ["--mount", "--propagation", "private", "true"], { stdio: "ignore" })
    return false
  } catch {
    return "unshare --mount is not available here"
  }
})()
