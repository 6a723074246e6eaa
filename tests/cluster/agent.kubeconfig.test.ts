/**
 * The agent with the admin's kubeconfig (a client certificate) against the real API server, on Node, Deno and Bun:
 * the files it writes have the configured mode and hold tokens the server's TokenReview accepts; a restart with valid
 * files (a pod-bound token the server extended to a year included) sends no TokenRequest, as the audit log shows;
 * SIGHUP starts added tokens and leaves unchanged ones alone.
 */
import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as path from "node:path"
import { after, before, describe, it } from "node:test"
import { type Cluster, countTokenRequests, sharedCluster, tokenRequests } from "./_cluster.ts"
import { cliCommand, runtimes } from "../_support/clis.ts"
import { agent, auditBarrier, claims, logLines, namespace, poll, type Process, ready, tempDir } from "./_agent.ts"
import { admin, review } from "./_tokens.ts"

const year = 365 * 24 * 3600

for (const runtime of runtimes) {
  const argv = cliCommand(runtime)
  describe(`the agent with a kubeconfig, against the real API server (${runtime})`, () => {
    let cluster: Cluster
    let ns: string
    let dir: string
    let running: Process | undefined
    const file = (name: string) => path.join(dir, "tokens", name)
    const read = (name: string) => fs.readFileSync(file(name), "utf8")
    const socket = () => path.join(dir, "run", "agent.sock")
    const config = (tokens: ReadonlyArray<string>) =>
      `cluster: { kubeconfig: ${JSON.stringify(cluster.kubeconfig)} }\n` +
      `endpoint: { unix: { path: run/agent.sock } }\nlog: { format: json, level: info }\ntokens:\n` +
      tokens.map((line) => `  - ${line}\n`).join("")
    const tokens = {
      vault:
        `{ name: vault, namespace: NS, serviceAccount: app, audiences: [vault], file: { path: tokens/vault, mode: "0640" } }`,
      builder: `{ name: builder, namespace: NS, serviceAccount: builder, file: { path: tokens/builder } }`,
      pod: `{ name: pod, namespace: NS, serviceAccount: default, expirationSeconds: 3607, ` +
        `boundObject: { kind: Pod, name: web }, file: { path: tokens/pod } }`,
      deployer:
        `{ name: deployer, namespace: NS, serviceAccount: deployer, expirationSeconds: 7200, file: { path: tokens/deployer } }`,
    }
    const writeConfig = (names: ReadonlyArray<keyof typeof tokens>) =>
      fs.writeFileSync(path.join(dir, "agent.yaml"), config(names.map((name) => tokens[name].replaceAll("NS", ns))))
    const count = (serviceAccount: string) => countTokenRequests(cluster, { namespace: ns, name: serviceAccount })
    const startAgent = async () => {
      running = agent(path.join(dir, "agent.yaml"), process.env, argv)
      const agentProcess = running
      await poll(() => {
        if (agentProcess.child.exitCode !== null) throw new Error(`the agent exited: ${agentProcess.stderr()}`)
        return ready(socket())
      }, "the agent's readiness")
    }

    before(async () => {
      cluster = await sharedCluster()
      ns = await namespace(cluster, `agent-kubeconfig-${runtime}`, ["app", "builder", "deployer"])
      // The service-account controller creates `default`; a pod can only be created once it exists.
      await poll(
        async () => (await admin(cluster, "get", "serviceaccounts", "-n", ns, "-o", "name")).includes("/default"),
        "the namespace's default service account",
      )
      await admin(cluster, "run", "web", "-n", ns, "--image=registry.k8s.io/pause:3.10", "--restart=Never")
      dir = tempDir(`cluster-agent-${runtime}`)
      writeConfig(["vault", "builder", "pod"])
    })

    after(async () => {
      await running?.stop()
      fs.rmSync(dir, { recursive: true, force: true })
    })

    it("writes each token to its file with the configured mode, and the real server accepts each one", async () => {
      await startAgent()
      assert.equal(fs.statSync(file("vault")).mode & 0o777, 0o640)
      assert.equal(fs.statSync(file("builder")).mode & 0o777, 0o600)
      assert.equal(fs.statSync(file("vault")).uid, process.getuid!())

      const vault = await review(cluster, read("vault"), ["vault"])
      assert.equal(vault.authenticated, true, vault.error)
      assert.equal(vault.user?.username, `system:serviceaccount:${ns}:app`)
      assert.deepEqual(vault.audiences, ["vault"])
      // a token for `vault` is no token for the API server
      assert.notEqual((await review(cluster, read("vault"))).authenticated, true)
      const builder = await review(cluster, read("builder"))
      assert.equal(builder.authenticated, true, builder.error)
      assert.equal(builder.user?.username, `system:serviceaccount:${ns}:builder`)
      assert.equal(claims(read("builder")).exp! - claims(read("builder")).iat!, 3600)

      // kube-apiserver extends a pod-bound 3607 s token to a year and keeps the 3607 s in kubernetes.io.warnafter
      const pod = claims(read("pod"))
      assert.equal(pod.exp! - pod.iat!, year)
      assert.equal((pod["kubernetes.io"]?.warnafter as number) - pod.iat!, 3607)
      assert.equal((await review(cluster, read("pod"))).user?.username, `system:serviceaccount:${ns}:default`)

      await auditBarrier(cluster)
      assert.deepEqual([count("app"), count("builder"), count("default")], [1, 1, 1])
      const [request] = tokenRequests(cluster, { namespace: ns, name: "app" })
      assert.equal(request!.user.username, "kubernetes-admin")
      assert.equal(request!.responseStatus?.code, 201)
      assert.deepEqual(request!.requestObject?.spec?.audiences, ["vault"])
      assert.equal(request!.requestObject?.spec?.expirationSeconds, 3600)
      const bound = tokenRequests(cluster, { namespace: ns, name: "default" })[0]!.requestObject?.spec
      assert.equal(bound?.expirationSeconds, 3607)
      assert.deepEqual([bound?.boundObjectRef?.kind, bound?.boundObjectRef?.name], ["Pod", "web"])
    })

    it("restarted with valid files, adopts them all and sends no TokenRequest (audit log)", async () => {
      const { code } = await running!.stop()
      assert.equal(code, 0)
      const before = Object.fromEntries(["vault", "builder", "pod"].map((name) => [name, read(name)]))
      await startAgent()
      await auditBarrier(cluster)
      assert.deepEqual([count("app"), count("builder"), count("default")], [1, 1, 1])
      for (const [name, content] of Object.entries(before)) assert.equal(read(name), content, name)
      const adopted = logLines(running!).filter((line) => line.message === "token adopted")
      assert.deepEqual(adopted.map((line) => line.annotations.token).sort(), ["builder", "pod", "vault"])
      // the extended token is adopted with the lifetime the server reported, so it is refreshed as a 3607 s token
      const pod = claims(before.pod!)
      const expiresAt = adopted.find((line) => line.annotations.token === "pod")!.annotations.expiresAt
      assert.equal(Date.parse(String(expiresAt)), (pod["kubernetes.io"]?.warnafter as number) * 1000)
    })

    it("SIGHUP starts an added token, leaves unchanged ones alone and a removed one's file in place", async () => {
      const unchanged = { vault: read("vault"), builder: read("builder"), pod: read("pod") }
      writeConfig(["vault", "pod", "deployer"])
      running!.child.kill("SIGHUP")
      await poll(() => fs.existsSync(file("deployer")), "the added token's file")
      const deployer = await review(cluster, read("deployer"))
      assert.equal(deployer.user?.username, `system:serviceaccount:${ns}:deployer`)
      assert.equal(claims(read("deployer")).exp! - claims(read("deployer")).iat!, 7200)
      await poll(
        () => logLines(running!).some((line) => line.message === "configuration reloaded"),
        "the reload's end",
      )
      await auditBarrier(cluster)
      assert.deepEqual([count("app"), count("builder"), count("default"), count("deployer")], [1, 1, 1, 1])
      assert.deepEqual({ vault: read("vault"), builder: read("builder"), pod: read("pod") }, unchanged)
      const { code } = await running!.stop()
      assert.equal(code, 0)
      assert.deepEqual(fs.readdirSync(path.join(dir, "tokens")).sort(), ["builder", "deployer", "pod", "vault"])
    })
  })
}
