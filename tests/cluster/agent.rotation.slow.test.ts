/**
 * One rotation end to end against the real API server, which issues nothing shorter than 10 minutes: the agent asks
 * for 600 s, refreshes at 80 % of it (less its jitter) on the server's real clock, and replaces the file with a new
 * token that the server accepts, after exactly two TokenRequests. The runner runs this file alongside the others.
 */
import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as path from "node:path"
import { after, describe, it } from "node:test"
import { sharedCluster, tokenRequests } from "./_cluster.ts"
import { agent, auditBarrier, claims, namespace, poll, type Process, tempDir } from "./_agent.ts"
import { review } from "./_tokens.ts"

describe("the agent's rotation on the real API server", () => {
  let running: Process | undefined
  let dir: string | undefined
  after(async () => {
    await running?.stop()
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true })
  })

  it("rotates a 600 s token before it expires; the new one is accepted; two TokenRequests in all", {
    timeout: 15 * 60_000,
  }, async () => {
    const cluster = await sharedCluster()
    const ns = await namespace(cluster, "agent-rotation", ["app"])
    dir = tempDir("cluster-rotation")
    const file = path.join(dir, "tokens", "app")
    fs.writeFileSync(
      path.join(dir, "agent.yaml"),
      `cluster: { kubeconfig: ${JSON.stringify(cluster.kubeconfig)} }\nlog: { format: json, level: info }\n` +
        `tokens:\n  - { name: app, namespace: ${ns}, serviceAccount: app, audiences: [vault], ` +
        `expirationSeconds: 600, file: { path: tokens/app } }\n`,
    )
    running = agent(path.join(dir, "agent.yaml"))
    const first = await poll(() => fs.existsSync(file) && fs.readFileSync(file, "utf8"), "the first token")
    const issued = claims(first)
    assert.equal(issued.exp! - issued.iat!, 600)

    // the refresh comes at 80 % of 600 s less up to 10 % jitter: wait for it, up to 12 minutes
    const second = await poll(
      () => {
        const content = fs.readFileSync(file, "utf8")
        return content !== first && content
      },
      "the rotated token",
      12 * 60_000,
    )
    const rotated = claims(second)
    assert.equal(rotated.exp! - rotated.iat!, 600)
    assert.ok(rotated.iat! < issued.exp!, "rotated before the first token expired")
    assert.ok(rotated.iat! > issued.iat!)

    const reviewed = await review(cluster, second, ["vault"])
    assert.equal(reviewed.authenticated, true, reviewed.error)
    assert.equal(reviewed.user?.username, `system:serviceaccount:${ns}:app`)
    await auditBarrier(cluster)
    const requests = tokenRequests(cluster, { namespace: ns, name: "app" })
    assert.deepEqual(requests.map((event) => event.responseStatus?.code), [201, 201])
    assert.deepEqual(requests.map((event) => event.requestObject?.spec?.expirationSeconds), [600, 600])
    assert.equal((await running.stop()).code, 0)
  })
})
