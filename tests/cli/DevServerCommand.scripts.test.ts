/**
 * The `dev-server` command through each runtime's npm script (`cli:deno`, `cli:node`, `cli:bun`): it prints one line
 * with its URL, writes a 0600 kubeconfig that reaches `/healthz`, and stops on SIGINT or SIGTERM. Runs under Node only: the
 * scripts start the three runtimes themselves.
 */
import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as https from "node:https"
import * as os from "node:os"
import * as path from "node:path"
import { after, describe, it } from "node:test"
import * as Yaml from "yaml"

const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), "..", "..")
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "devserver-cli-"))
after(() => fs.rmSync(dir, { recursive: true, force: true }))

interface Kubeconfig {
  readonly clusters: ReadonlyArray<{ cluster: { server: string; "certificate-authority-data": string } }>
  readonly users: ReadonlyArray<{ user: { "client-certificate-data": string; "client-key-data": string } }>
  readonly contexts: ReadonlyArray<{ context: { namespace: string } }>
}

const fromBase64 = (s: string): string => Buffer.from(s, "base64").toString("utf8")

const get = (url: string, ca: string, cert?: string, key?: string): Promise<{ status: number; text: string }> =>
  new Promise((resolve, reject) => {
    const req = https.get(url, { ca, cert, key, agent: false, timeout: 10_000 }, (res) => {
      let text = ""
      res.on("data", (c) => (text += c))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }))
    })
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: no answer within 10 s`)))
    req.on("error", reject)
  })

const runScript = async (script: string, signal: NodeJS.Signals): Promise<void> => {
  const kubeconfigPath = path.join(dir, `${script}.kubeconfig`)
  const child = spawn(
    "npm",
    [
      "run",
      "-s",
      script,
      "--",
      "dev-server",
      "--listen",
      "127.0.0.1:0",
      "--kubeconfig-out",
      kubeconfigPath,
      "--max-token-expiration",
      "1h",
    ],
    { cwd: root, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  )
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  let output = ""
  let url = ""
  try {
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${script}: no URL within 30 s; output: ${output}`)), 30_000)
      const onData = (chunk: Uint8Array) => {
        output += String(chunk)
        const found = output.split("\n").find((l) => l.includes("https://"))
        if (found !== undefined) {
          clearTimeout(timer)
          resolve(found)
        }
      }
      child.stdout.on("data", onData)
      child.stderr.on("data", (c) => (output += String(c)))
      child.on("exit", () => {
        clearTimeout(timer)
        reject(new Error(`${script}: exited early: ${output}`))
      })
    })
    url = /https:\/\/127\.0\.0\.1:\d+/.exec(line)?.[0] ?? ""
    assert.ok(url, line)
    assert.equal(fs.statSync(kubeconfigPath).mode & 0o777, 0o600)
    const kubeconfig = Yaml.parse(fs.readFileSync(kubeconfigPath, "utf8")) as Kubeconfig
    assert.equal(kubeconfig.clusters[0]!.cluster.server, url)
    assert.equal(kubeconfig.contexts[0]!.context.namespace, "default")
    const ca = fromBase64(kubeconfig.clusters[0]!.cluster["certificate-authority-data"])
    const health = await get(`${url}/healthz`, ca)
    assert.deepEqual(health, { status: 200, text: "ok" })
    const user = kubeconfig.users[0]!.user
    const sas = await get(
      `${url}/api/v1/namespaces/default/serviceaccounts/default`,
      ca,
      fromBase64(user["client-certificate-data"]),
      fromBase64(user["client-key-data"]),
    )
    assert.equal(sas.status, 200)
  } finally {
    if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, signal)
  }
  await exited
  // stopped: soon nothing listens on the port any more (npm may exit before the runtime has closed its server)
  let refused: string | undefined
  for (let i = 0; i < 100 && refused !== "ECONNREFUSED"; i++) {
    refused = await get(`${url}/healthz`, "").then(() => "answered", (e: NodeJS.ErrnoException) => e.code)
    if (refused !== "ECONNREFUSED") await new Promise((resolve) => setTimeout(resolve, 100))
  }
  assert.equal(refused, "ECONNREFUSED", `${script} after ${signal}`)
}

/** The scripts start all three runtimes themselves, so the suite runs this once, under Node. */
const underNode = !("Deno" in globalThis) && process.versions.bun === undefined

describe("dev-server command", () => {
  it(
    "starts through npm run cli:deno, cli:node and cli:bun, serves /healthz with the written kubeconfig, stops on SIGINT/SIGTERM",
    {
      skip: underNode ? false : "runs once, under Node (each script starts its own runtime)",
      timeout: 60_000,
    },
    () =>
      Promise.all([
        runScript("cli:deno", "SIGTERM"),
        runScript("cli:node", "SIGINT"),
        runScript("cli:bun", "SIGTERM"),
      ]).then(() => undefined),
  )
})
