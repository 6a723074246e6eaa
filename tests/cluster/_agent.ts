/**
 * Helpers for the cluster suite's agent files: unique namespaces and service accounts on the real API server, the
 * agent (and the CLI) as a process with the Node main, TokenReviews and an audit-log barrier through the admin's
 * client certificate, and bounded polling (never a fixed sleep).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as http from "node:http"
import * as https from "node:https"
import * as os from "node:os"
import * as path from "node:path"
import { decodeJwt, type JWTPayload } from "jose"
import * as Yaml from "yaml"
import { auditEvents, type Cluster, kubectl, root } from "./_cluster.ts"

/** The Node main (the npm bin's source), run with tsx from the repository root. */
export const main: string = path.join(root, "adapters/node/main.ts")

/** `node --import tsx <main>`, through `/usr/bin/env` so that a bare `node` is Node under any runner. */
export const cli: ReadonlyArray<string> = ["/usr/bin/env", "node", "--import", "tsx", main]

/** The CLI on each runtime, each with its own main (and so its own TLS client, files and signals). */
export const runtimes: Readonly<Record<"node" | "deno" | "bun", ReadonlyArray<string>>> = {
  node: cli,
  deno: [path.join(root, "node_modules/.bin/deno"), "run", "-A", path.join(root, "adapters/deno/main.ts")],
  bun: [path.join(root, "node_modules/.bin/bun"), path.join(root, "adapters/bun/main.ts")],
}

/** A new private (0700) temporary directory. */
export const tempDir = (prefix: string): string => fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`))

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

/** Runs kubectl as the admin and fails with its stderr unless it exits 0; returns stdout. */
export const kubectlOk = async (cluster: Cluster, ...args: ReadonlyArray<string>): Promise<string> => {
  const run = await kubectl(cluster, ...args)
  if (run.code !== 0) throw new Error(`kubectl ${args.join(" ")}: exit ${run.code}: ${run.stderr}`)
  return run.stdout
}

/** Creates a namespace named `prefix-<random>` and the given service accounts in it; returns its name. */
export const namespace = async (
  cluster: Cluster,
  prefix: string,
  serviceAccounts: ReadonlyArray<string> = [],
): Promise<string> => {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`
  await kubectlOk(cluster, "create", "namespace", name)
  for (const account of serviceAccounts) await kubectlOk(cluster, "create", "serviceaccount", account, "-n", name)
  return name
}

/** `kubectl apply -f -` of YAML documents, as the admin. */
export const apply = async (cluster: Cluster, documents: ReadonlyArray<unknown>): Promise<void> => {
  const file = path.join(tempDir("apply"), "objects.yaml")
  fs.writeFileSync(file, documents.map((document) => Yaml.stringify(document)).join("---\n"))
  try {
    await kubectlOk(cluster, "apply", "-f", file)
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true })
  }
}

/** The claims of a JWT (not verified: the TokenReview is what checks it). */
export const claims = (token: string): JWTPayload & { readonly "kubernetes.io"?: Record<string, unknown> } =>
  decodeJwt(token.trim())

interface Admin {
  readonly ca: string
  readonly cert: string
  readonly key: string
}

const admin = (cluster: Cluster): Admin => {
  const config = Yaml.parse(fs.readFileSync(cluster.kubeconfig, "utf8"))
  const user = config.users[0].user
  const decode = (field: string) => Buffer.from(user[field], "base64").toString("utf8")
  return {
    ca: fs.readFileSync(cluster.caFile, "utf8"),
    cert: decode("client-certificate-data"),
    key: decode("client-key-data"),
  }
}

/** One request to the API server as the admin (client certificate); returns the status, body and audit ID. */
export const adminRequest = (
  cluster: Cluster,
  method: string,
  apiPath: string,
  body?: unknown,
): Promise<{ status: number; body: unknown; auditID: string }> =>
  new Promise((resolve, reject) => {
    const request = https.request(new URL(apiPath, cluster.url), {
      ...admin(cluster),
      method,
      headers: { "content-type": "application/json", accept: "application/json" },
    }, (response) => {
      let text = ""
      response.setEncoding("utf8").on("data", (chunk: string) => text += chunk)
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          body: text === "" ? undefined : JSON.parse(text),
          auditID: String(response.headers["audit-id"] ?? ""),
        }))
    })
    request.on("error", reject)
    request.end(body === undefined ? undefined : JSON.stringify(body))
  })

export interface Review {
  readonly authenticated?: boolean
  readonly user?: { readonly username?: string }
  readonly audiences?: ReadonlyArray<string>
  readonly error?: string
}

/** A TokenReview of `token` (for `audiences`, or the API server's own) by the real server. */
export const tokenReview = async (
  cluster: Cluster,
  token: string,
  audiences?: ReadonlyArray<string>,
): Promise<Review & { readonly auditID: string }> => {
  const answer = await adminRequest(cluster, "POST", "/apis/authentication.k8s.io/v1/tokenreviews", {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenReview",
    spec: { token: token.trim(), ...(audiences === undefined ? {} : { audiences }) },
  })
  if (answer.status !== 201) throw new Error(`TokenReview: HTTP ${answer.status}`)
  return { ...(answer.body as { status: Review }).status, auditID: answer.auditID }
}

/**
 * Returns once every request answered before the call is in the audit log: the server writes an event when its
 * response is complete, so a TokenReview sent now and found in the log comes after the events of earlier requests.
 */
export const auditBarrier = async (cluster: Cluster): Promise<void> => {
  const { auditID } = await tokenReview(cluster, "not-a-token")
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
