/**
 * kubectl with a kubeconfig whose user runs `sa-token exec-credential`, against the real API server: `kubectl auth
 * whoami` shows the service account, both with the token of a running agent (its unix socket) and with the one the
 * command fetches itself through its on-disk cache; the audit log shows that kubectl's calls caused one TokenRequest in
 * all for the cache and none for the socket.
 */
import assert from "node:assert/strict"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { after, before, describe, it } from "node:test"
import * as Yaml from "yaml"
import { type Cluster, countTokenRequests, root, sharedCluster } from "./_cluster.ts"
import { agent, auditBarrier, cli, namespace, poll, type Process, ready, tempDir } from "./_agent.ts"

/** A kubeconfig for the cluster whose user is the exec plugin `sa-token exec-credential ...args`. */
const execKubeconfig = (cluster: Cluster, file: string, args: ReadonlyArray<string>) =>
  fs.writeFileSync(
    file,
    Yaml.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "real", cluster: { server: cluster.url, "certificate-authority": cluster.caFile } }],
      users: [{
        name: "sa",
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1",
            command: cli[0],
            args: [...cli.slice(1), "exec-credential", ...args],
            interactiveMode: "Never",
          },
        },
      }],
      contexts: [{ name: "sa", context: { cluster: "real", user: "sa" } }],
      "current-context": "sa",
    }),
    { mode: 0o600 },
  )

/** `kubectl auth whoami -o json` with that kubeconfig (from the repository root, where tsx resolves). */
const whoami = (kubeconfig: string): Promise<string> =>
  new Promise((resolve, reject) =>
    execFile(
      "kubectl",
      ["--kubeconfig", kubeconfig, "auth", "whoami", "-o", "json"],
      { cwd: root, timeout: 60_000 },
      (error, stdout, stderr) =>
        error
          ? reject(new Error(`kubectl auth whoami: ${stderr}`))
          : resolve(JSON.parse(stdout).status.userInfo.username),
    )
  )

describe("kubectl with the exec-credential plugin, against the real API server", () => {
  let cluster: Cluster
  let ns: string
  let dir: string
  let running: Process | undefined
  before(async () => {
    cluster = await sharedCluster()
    ns = await namespace(cluster, "exec-credential", ["builder", "deployer"])
    dir = tempDir("cluster-exec-credential")
  })
  after(async () => {
    await running?.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("from the agent's socket: kubectl auth whoami is the service account, and kubectl causes no TokenRequest", async () => {
    const socket = path.join(dir, "run", "agent.sock")
    const config = path.join(dir, "agent.yaml")
    fs.writeFileSync(
      config,
      `cluster: { kubeconfig: ${JSON.stringify(cluster.kubeconfig)} }\nendpoint: { unix: { path: run/agent.sock } }\n` +
        `log: { format: json, level: info }\ntokens:\n  - { name: builder, namespace: ${ns}, serviceAccount: builder }\n`,
    )
    running = agent(config)
    await poll(() => ready(socket), "the agent's readiness")
    const kubeconfig = path.join(dir, "socket.kubeconfig")
    execKubeconfig(cluster, kubeconfig, ["--name", "builder", "--socket", socket])
    assert.equal(await whoami(kubeconfig), `system:serviceaccount:${ns}:builder`)
    assert.equal(await whoami(kubeconfig), `system:serviceaccount:${ns}:builder`)
    await auditBarrier(cluster)
    assert.equal(countTokenRequests(cluster, { namespace: ns, name: "builder" }), 1)
    assert.equal((await running.stop()).code, 0)
  })

  it("from the on-disk cache: kubectl auth whoami is the service account, after one TokenRequest for two calls", async () => {
    const cache = path.join(dir, "cache")
    const kubeconfig = path.join(dir, "cache.kubeconfig")
    execKubeconfig(cluster, kubeconfig, [
      "deployer",
      "-n",
      ns,
      "--kubeconfig",
      cluster.kubeconfig,
      "--cache-dir",
      cache,
    ])
    assert.equal(await whoami(kubeconfig), `system:serviceaccount:${ns}:deployer`)
    const entries = fs.readdirSync(cache)
    assert.equal(entries.length, 1)
    assert.equal(fs.statSync(path.join(cache, entries[0]!)).mode & 0o777, 0o600)
    assert.equal(fs.statSync(cache).mode & 0o777, 0o700)
    assert.equal(await whoami(kubeconfig), `system:serviceaccount:${ns}:deployer`)
    await auditBarrier(cluster)
    assert.equal(countTokenRequests(cluster, { namespace: ns, name: "deployer" }), 1)
  })
})
