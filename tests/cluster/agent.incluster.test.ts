/**
 * The agent in cluster against the real API server: it gets what a pod gets (`KUBERNETES_SERVICE_HOST` and `_PORT`,
 * and `token`, `ca.crt` and `namespace` at /var/run/secrets/kubernetes.io/serviceaccount, mounted in a private mount
 * namespace so the host's directory is untouched) with a real ServiceAccount token, and the RBAC of the README (a Role
 * allowing `create` on `serviceaccounts/token` for the listed names only). It finds the in-cluster credentials without
 * being told, mints tokens for the listed service accounts, and gets 403 for one that is not listed.
 */
import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as path from "node:path"
import { after, before, describe, it } from "node:test"
import * as Yaml from "yaml"
import { type Cluster, root, sharedCluster, tokenRequests } from "./_cluster.ts"
import { cli, mountNamespaceSkip, namespace, poll, type Process, start, tempDir } from "./_agent.ts"
import { admin, apply, review } from "./_tokens.ts"

/** The YAML block of the README's RBAC paragraph: the Role and RoleBinding a user is told to apply. */
interface RbacObject {
  readonly metadata: { namespace: string }
  readonly rules?: ReadonlyArray<unknown>
  readonly subjects?: Array<{ namespace: string }>
}

const readmeRbac = (): Array<RbacObject> => {
  const readme = fs.readFileSync(path.join(root, "README.md"), "utf8")
  const section = readme.slice(readme.indexOf("**RBAC.**"))
  const block = /```yaml\n([\s\S]*?)```/.exec(section)![1]!
  return Yaml.parseAllDocuments(block).map((document) => document.toJS() as RbacObject)
}

describe("the agent in cluster, against the real API server", { skip: mountNamespaceSkip }, () => {
  let cluster: Cluster
  let dir: string
  let running: Process | undefined
  before(async () => {
    cluster = await sharedCluster()
    dir = tempDir("cluster-incluster")
  })
  after(async () => {
    await running?.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("with the README's Role, mints tokens for the listed service accounts and gets 403 for another", async () => {
    const agentNs = await namespace(cluster, "incluster-agent", ["sa-token-agent"])
    const appsNs = await namespace(cluster, "incluster-apps", ["vault-auth", "builder", "other"])
    const [role, binding] = readmeRbac()
    assert.deepEqual(role!.rules, [{
      apiGroups: [""],
      resources: ["serviceaccounts/token"],
      verbs: ["create"],
      resourceNames: ["vault-auth", "builder"],
    }])
    role!.metadata.namespace = appsNs
    binding!.metadata.namespace = appsNs
    binding!.subjects![0]!.namespace = agentNs
    await apply(cluster, [role, binding])

    // what the kubelet mounts into a pod of sa-token-agent
    const pod = path.join(dir, "serviceaccount")
    fs.mkdirSync(pod)
    const token = await admin(cluster, "create", "token", "sa-token-agent", "-n", agentNs, "--duration", "1h")
    fs.writeFileSync(path.join(pod, "token"), token)
    fs.copyFileSync(cluster.caFile, path.join(pod, "ca.crt"))
    fs.writeFileSync(path.join(pod, "namespace"), agentNs)

    // no cluster section, no KUBECONFIG and no ~/.kube/config: the agent must pick the in-cluster credentials itself
    const config = path.join(dir, "agent.yaml")
    fs.writeFileSync(
      config,
      `log: { format: json, level: info }\ntokens:\n` +
        `  - { name: vault, namespace: ${appsNs}, serviceAccount: vault-auth, audiences: [vault], file: { path: tokens/vault } }\n` +
        `  - { name: builder, namespace: ${appsNs}, serviceAccount: builder, file: { path: tokens/builder } }\n` +
        `  - { name: other, namespace: ${appsNs}, serviceAccount: other, file: { path: tokens/other } }\n`,
    )
    const { KUBECONFIG: _, ...inherited } = process.env
    const url = new URL(cluster.url)
    const mountPod =
      "set -e; mount -t tmpfs tmpfs /var/run/secrets; d=/var/run/secrets/kubernetes.io/serviceaccount; " +
      'mkdir -p "$d"; cp "$1/token" "$1/ca.crt" "$1/namespace" "$d"; shift; exec "$@"'
    running = start(
      [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        mountPod,
        "sh",
        pod,
        ...cli,
        "agent",
        "--config",
        config,
      ],
      {
        ...inherited,
        HOME: dir,
        KUBERNETES_SERVICE_HOST: url.hostname,
        KUBERNETES_SERVICE_PORT: url.port,
      },
    )

    const file = (name: string) => path.join(dir, "tokens", name)
    await poll(() => fs.existsSync(file("vault")) && fs.existsSync(file("builder")), "the listed tokens' files")
    const vault = await review(cluster, fs.readFileSync(file("vault"), "utf8"), ["vault"])
    assert.equal(vault.user?.username, `system:serviceaccount:${appsNs}:vault-auth`)
    const builder = await review(cluster, fs.readFileSync(file("builder"), "utf8"))
    assert.equal(builder.user?.username, `system:serviceaccount:${appsNs}:builder`)

    const denied = await poll(
      () => tokenRequests(cluster, { namespace: appsNs, name: "other" }).at(0),
      "the TokenRequest for the service account the Role does not list",
    )
    assert.equal(denied.responseStatus?.code, 403)
    const agentUser = `system:serviceaccount:${agentNs}:sa-token-agent`
    assert.equal(denied.user.username, agentUser)
    for (const name of ["vault-auth", "builder"]) {
      const events = tokenRequests(cluster, { namespace: appsNs, name })
      assert.deepEqual(events.map((event) => [event.user.username, event.responseStatus?.code]), [[agentUser, 201]])
    }
    assert.ok(!fs.existsSync(file("other")))
    assert.match(running.stderr(), /serviceaccounts \\"other\\" is forbidden/)
    assert.equal((await running.stop()).code, 0)
    // the pod's files lived in the agent's mount namespace only
    assert.ok(!fs.existsSync("/var/run/secrets/kubernetes.io/serviceaccount/token"))
  })
})
