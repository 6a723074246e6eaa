/**
 * A real kube-apiserver (with etcd) for the cluster suite, run by `tools/cluster/run.sh` (which builds it first if
 * needed).
 *
 * `sharedCluster()` is the one API server of a suite run: `npm run test:cluster` starts it once (see `_run.ts`) and
 * hands it to every test file through the environment; a file run on its own starts one for its process and stops it
 * at exit. `startCluster(options)` starts another one with its own flags, for a test that needs them. Both resolve
 * once the harness has printed `ready https://127.0.0.1:PORT`: `/readyz` answers 200 and the `default` service
 * account of the `default` namespace exists.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as readline from "node:readline"
import { fileURLToPath } from "node:url"

/** The repository root. */
export const root: string = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")

export interface Cluster {
  /** `https://127.0.0.1:PORT`. */
  readonly url: string
  /** The harness's `--dir`: everything below lives there. */
  readonly dir: string
  /** A kubeconfig for the cluster admin (client certificate of `kubernetes-admin` in `system:masters`, inline). */
  readonly kubeconfig: string
  /** The CA that signs the serving certificate and the client certificates. */
  readonly caFile: string
  /** The CA's private key (PKCS #1 PEM), to sign more client certificates (a node's: CN=system:node:NAME, O=system:nodes). */
  readonly caKeyFile: string
  /** The audit log: one JSON event per line, for every TokenRequest (level Request) and TokenReview (Metadata). */
  readonly auditLog: string
  /** kube-apiserver's own log. */
  readonly apiserverLog: string
  /** Stops the harness (SIGTERM, then SIGKILL after 40 s) and removes `dir`; a no-op for a cluster this process only attached to. */
  readonly stop: () => Promise<void>
}

export interface ClusterOptions {
  /** `--service-account-max-token-expiration`, a Go duration (`"2h"`); the server rejects less than 1 h. Unset by default. */
  readonly maxTokenExpiration?: string
  /** `--service-account-extend-token-expiration` (the server's default: true). */
  readonly extendTokenExpiration?: boolean
  /** The service-account signing key: `"rsa"` (the default, as kubeadm makes it: RS256 tokens) or `"ecdsa"` (P-256: ES256). */
  readonly serviceAccountKey?: "rsa" | "ecdsa"
  /** More kube-apiserver flags, after the harness's own (so they win). */
  readonly apiserverArgs?: ReadonlyArray<string>
  /**
   * How long to wait for the ready line (default 5 minutes). `run.sh` builds the harness first when it is missing or
   * out of date: `npm run test:cluster` does that before any test starts, as a first build takes longer.
   */
  readonly readyTimeoutMs?: number
}

const clusterFiles = (url: string, dir: string, stop: () => Promise<void>): Cluster => ({
  url,
  dir,
  kubeconfig: path.join(dir, "kubeconfig"),
  caFile: path.join(dir, "ca.crt"),
  caKeyFile: path.join(dir, "ca.key"),
  auditLog: path.join(dir, "audit.log"),
  apiserverLog: path.join(dir, "apiserver.log"),
  stop,
})

// Harnesses still running when this process exits are told to stop (the harness also stops by itself once its parent
// is gone) and their directories removed.
const running = new Map<ChildProcess, string>()
process.on("exit", () => {
  for (const [child, dir] of running) {
    child.kill("SIGTERM")
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

/** Starts a harness of its own in a new temporary directory. */
export const startCluster = (options: ClusterOptions = {}): Promise<Cluster> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sa-token-cluster-"))
  const args = ["--dir", dir]
  if (options.maxTokenExpiration !== undefined) args.push("--max-token-expiration", options.maxTokenExpiration)
  if (options.extendTokenExpiration !== undefined) {
    args.push(`--extend-token-expiration=${options.extendTokenExpiration}`)
  }
  if (options.serviceAccountKey !== undefined) args.push("--service-account-key", options.serviceAccountKey)
  if (options.apiserverArgs?.length) args.push("--", ...options.apiserverArgs)
  const child = spawn("bash", [path.join(root, "tools/cluster/run.sh"), ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  })
  running.set(child, dir)
  let stderr = ""
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000)
  })
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  exited.then(() => running.delete(child))

  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> =>
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM")
        const timer = setTimeout(() => child.kill("SIGKILL"), 40_000)
        await exited
        clearTimeout(timer)
      }
      fs.rmSync(dir, { recursive: true, force: true })
    })()

  return new Promise<Cluster>((resolve, reject) => {
    let settled = false
    const failed = (why: string) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      void stop().then(() => reject(new Error(`cluster: ${why}\n${stderr.trim()}`)))
    }
    const timeoutMs = options.readyTimeoutMs ?? 5 * 60_000
    const timer = setTimeout(() => failed(`no ready line within ${timeoutMs} ms`), timeoutMs)
    const lines = readline.createInterface({ input: child.stdout! })
    lines.on("line", (line) => {
      const ready = /^ready (https:\/\/127\.0\.0\.1:\d+)$/.exec(line)
      if (ready && !settled) {
        settled = true
        clearTimeout(timer)
        // A running harness does not keep this process alive: a test file ends when its tests do.
        child.unref()
        for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref(): void }).unref()
        resolve(clusterFiles(ready[1]!, dir, stop))
      }
    })
    child.once("exit", (code, signal) => failed(`harness exited (${signal ?? code}) before it was ready`))
  })
}

/** Environment variables through which `_run.ts` hands its API server to the test files. */
export const sharedEnv = { url: "SA_TOKEN_CLUSTER_URL", dir: "SA_TOKEN_CLUSTER_DIR" } as const

let shared: Promise<Cluster> | undefined

/** The suite's API server: the one `npm run test:cluster` started, or one for this process (stopped at exit). */
export const sharedCluster = (): Promise<Cluster> =>
  shared ??= (() => {
    const url = process.env[sharedEnv.url]
    const dir = process.env[sharedEnv.dir]
    if (url && dir) return Promise.resolve(clusterFiles(url, dir, () => Promise.resolve()))
    return startCluster()
  })()

export interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs `kubectl --kubeconfig <cluster admin> ...args` (kubectl from PATH); never rejects. */
export const kubectl = (cluster: Cluster, ...args: ReadonlyArray<string>): Promise<Run> =>
  new Promise((resolve) =>
    execFile(
      "kubectl",
      ["--kubeconfig", cluster.kubeconfig, ...args],
      { timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    )
  )

/** The fields of an audit event (`audit.k8s.io/v1` Event) the suite looks at. */
export interface AuditEvent {
  readonly auditID: string
  readonly stage: string
  readonly verb: string
  readonly requestURI: string
  readonly user: { readonly username: string; readonly groups?: ReadonlyArray<string> }
  readonly objectRef?: {
    readonly resource?: string
    readonly subresource?: string
    readonly namespace?: string
    readonly name?: string
  }
  readonly responseStatus?: { readonly code?: number }
  /** The TokenRequest as sent (audiences, expirationSeconds, boundObjectRef); the issued token is never logged. */
  readonly requestObject?: {
    readonly spec?: {
      readonly audiences?: ReadonlyArray<string>
      readonly expirationSeconds?: number
      readonly boundObjectRef?: { readonly kind?: string; readonly name?: string; readonly uid?: string }
    }
  }
  readonly requestReceivedTimestamp: string
}

/** Every audit event so far (each request once, at ResponseComplete). */
export const auditEvents = (cluster: Cluster): ReadonlyArray<AuditEvent> => {
  let text: string
  try {
    text = fs.readFileSync(cluster.auditLog, "utf8")
  } catch {
    return []
  }
  return text.split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line) as AuditEvent)
}

/** The TokenRequests (`create serviceaccounts/token`) the server has answered, optionally for one service account. */
export const tokenRequests = (
  cluster: Cluster,
  filter: { readonly namespace?: string; readonly name?: string } = {},
): ReadonlyArray<AuditEvent> =>
  auditEvents(cluster).filter((event) =>
    event.verb === "create" && event.objectRef?.resource === "serviceaccounts" &&
    event.objectRef.subresource === "token" &&
    (filter.namespace === undefined || event.objectRef.namespace === filter.namespace) &&
    (filter.name === undefined || event.objectRef.name === filter.name)
  )

/** How many TokenRequests the server has answered (any status), optionally for one service account. */
export const countTokenRequests = (
  cluster: Cluster,
  filter: { readonly namespace?: string; readonly name?: string } = {},
): number => tokenRequests(cluster, filter).length
