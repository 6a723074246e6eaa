/**
 * The manifests of `deploy/` against the real API server, in their namespace `apps`: the server accepts every object
 * (`kubectl apply -k --dry-run=server`); applied, the Role grants the agent's service account `create` on
 * `serviceaccounts/token` for the service accounts its configuration declares and nothing else (`kubectl auth can-i`);
 * the ConfigMap's configuration loads; and the agent container, run as the Deployment says (its init container, user,
 * Deno permission flags, volumes and projected credentials, in a private mount namespace), keeps both tokens in the
 * shared volume. The image and the `npm:` specifier are not run: the container runs this checkout's Node main (the
 * source of the npm bin) with this checkout's Deno.
 */
import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as path from "node:path"
import { after, before, describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Yaml from "yaml"
import * as Config from "../../adapters/agent/Config.ts"
import * as NodeRuntime from "../../adapters/node/mod.ts"
import { type Cluster, kubectl, root, sharedCluster, tokenRequests } from "./_cluster.ts"
import { cli, mountNamespaceSkip, poll, type Process, start, tempDir } from "./_agent.ts"
import { admin, review } from "./_tokens.ts"

const deploy = path.join(root, "deploy")
const ns = "apps"
const agentUser = `system:serviceaccount:${ns}:sa-token-agent`

interface Manifest {
  readonly kind: string
  readonly metadata: { readonly name: string; readonly namespace?: string }
  readonly [field: string]: unknown
}

const manifests = (file: string): ReadonlyArray<Manifest> =>
  Yaml.parseAllDocuments(fs.readFileSync(path.join(deploy, file), "utf8")).map((d) => d.toJS() as Manifest)

const find = (file: string, kind: string): Manifest => manifests(file).find((m) => m.kind === kind)!

interface Container {
  readonly name: string
  readonly command?: ReadonlyArray<string>
  readonly args?: ReadonlyArray<string>
  readonly env?: ReadonlyArray<{ readonly name: string; readonly value: string }>
  readonly securityContext?: { readonly capabilities?: { readonly add?: ReadonlyArray<string> } }
  readonly volumeMounts: ReadonlyArray<{ readonly name: string; readonly mountPath: string }>
}

interface PodSpec {
  readonly securityContext: { readonly runAsUser: number; readonly runAsGroup: number }
  readonly initContainers?: ReadonlyArray<Container>
  readonly containers: ReadonlyArray<Container>
}

const podSpec = (): PodSpec =>
  (find("deployment.yaml", "Deployment") as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec

const agentConfigText = (): string =>
  (find("configmap.yaml", "ConfigMap") as unknown as { data: Record<string, string> }).data["agent.yaml"]!

const quote = (word: string): string => `'${word.replaceAll("'", `'"'"'`)}'`

describe("deploy/ against the real API server", () => {
  let cluster: Cluster
  before(async () => {
    cluster = await sharedCluster()
    const created = await kubectl(cluster, "create", "namespace", ns)
    assert.ok(created.code === 0 || /AlreadyExists/.test(created.stderr), created.stderr)
  })

  it("kubectl apply -k deploy/ --dry-run=server accepts every object, and the kustomization lists every file", async () => {
    const listed = (Yaml.parse(fs.readFileSync(path.join(deploy, "kustomization.yaml"), "utf8")) as {
      resources: ReadonlyArray<string>
    }).resources
    const files = fs.readdirSync(deploy).filter((name) => name.endsWith(".yaml") && name !== "kustomization.yaml")
    assert.deepEqual([...listed].sort(), files.sort())
    const out = await admin(cluster, "apply", "-k", deploy, "--dry-run=server")
    const expected = files.flatMap((file) => manifests(file).map((m) => `${m.kind.toLowerCase()}/${m.metadata.name}`))
    for (const object of expected) {
      const kind = object.split("/")[0]!
      const name = object.split("/")[1]!
      assert.match(out, new RegExp(`^${kind}(\\.[a-z0-9.]+)?/${name} .*\\(server dry run\\)$`, "m"), out)
    }
    for (const file of files) {
      for (const m of manifests(file)) assert.equal(m.metadata.namespace, ns, `${file}: ${m.kind}/${m.metadata.name}`)
    }
  })

  it("the Role lets the agent create tokens of the configured service accounts and nothing else (kubectl auth can-i)", async () => {
    await admin(
      cluster,
      "apply",
      "-f",
      path.join(deploy, "rbac.yaml"),
      "-f",
      path.join(deploy, "service-accounts.yaml"),
    )
    const canI = async (...args: ReadonlyArray<string>) => {
      const run = await kubectl(cluster, "auth", "can-i", ...args, "--as", agentUser)
      return run.stdout.trim()
    }
    for (const account of ["vault-auth", "builder"]) {
      assert.equal(await canI("create", `serviceaccounts/${account}`, "--subresource=token", "-n", ns), "yes", account)
    }
    const denied: ReadonlyArray<ReadonlyArray<string>> = [
      ["create", "serviceaccounts/sa-token-agent", "--subresource=token", "-n", ns],
      ["create", "serviceaccounts/default", "--subresource=token", "-n", ns],
      ["create", "serviceaccounts", "--subresource=token", "-n", ns],
      ["create", "serviceaccounts/vault-auth", "--subresource=token", "-n", "default"],
      ["get", "serviceaccounts/vault-auth", "--subresource=token", "-n", ns],
      ["create", "serviceaccounts/vault-auth", "-n", ns],
      ["get", "serviceaccounts", "-n", ns],
      ["list", "secrets", "-n", ns],
      ["get", "secrets", "-n", ns],
      ["create", "pods", "-n", ns],
      ["get", "pods", "-n", ns],
      ["create", "tokenreviews.authentication.k8s.io"],
    ]
    for (const args of denied) assert.equal(await canI(...args), "no", args.join(" "))

    // beyond what every service account gets (compared with one that has no binding): exactly the two token rules
    const rules = async (user: string) =>
      (await admin(cluster, "auth", "can-i", "--list", "-n", ns, "--as", user)).split("\n").slice(1)
        .map((line) => line.trim().split(/\s+/).join(" ")).filter((line) => line !== "")
    const baseline = new Set(await rules(`system:serviceaccount:${ns}:builder`))
    const extra = (await rules(agentUser)).filter((line) => !baseline.has(line)).sort()
    assert.deepEqual(extra, [
      "serviceaccounts/token [] [builder] [create]",
      "serviceaccounts/token [] [vault-auth] [create]",
    ])
  })

  it("the ConfigMap's configuration loads and declares exactly the Role's service accounts, in the mounted volume", async () => {
    const dir = tempDir("deploy-config")
    try {
      fs.writeFileSync(path.join(dir, "agent.yaml"), agentConfigText())
      const config = await Config.load(path.join(dir, "agent.yaml"), { writer: false }).pipe(
        Effect.provide(NodeRuntime.layer),
        Effect.runPromise,
      )
      assert.equal(config.cluster.inCluster, true)
      const role = find("rbac.yaml", "Role") as unknown as { rules: ReadonlyArray<{ resourceNames: Array<string> }> }
      const accounts = manifests("service-accounts.yaml").map((m) => m.metadata.name).sort()
      assert.deepEqual(config.tokens.map((token) => token.serviceAccount).sort(), accounts)
      assert.deepEqual([...role.rules[0]!.resourceNames].sort(), accounts)
      assert.deepEqual([...new Set(config.tokens.map((token) => token.namespace))], [ns])
      const agentContainer = podSpec().containers.find((c) => c.name === "sa-token-agent")!
      const tokensMount = agentContainer.volumeMounts.find((m) => m.name === "tokens")!.mountPath
      for (const token of config.tokens) assert.ok(token.file!.path.startsWith(`${tokensMount}/`), token.file!.path)
      const configMount = agentContainer.volumeMounts.find((m) => m.name === "config")!.mountPath
      assert.equal(agentContainer.args![agentContainer.args!.indexOf("--config") + 1], `${configMount}/agent.yaml`)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  describe("the agent container, run as the Deployment says", { skip: mountNamespaceSkip }, () => {
    let dir: string
    let running: Process | undefined
    before(() => {
      dir = tempDir("deploy-pod")
    })
    after(async () => {
      await running?.stop()
      fs.rmSync(dir, { recursive: true, force: true })
    })

    /**
     * Starts the agent container in a private mount namespace: /run (so /var/run) is a fresh tmpfs with the tokens
     * emptyDir (mode 0777, as kubelet makes it) and the projected credentials (kubelet's layout: `..data` links to a
     * timestamped directory), /etc gets an overlay holding the ConfigMap's volume, the init container's command runs
     * as root with only its capabilities (when `init`), and the agent runs as the pod's user with the container's
     * Deno flags and environment.
     */
    const startPod = async (init: boolean): Promise<Process> => {
      const spec = podSpec()
      const agentContainer = spec.containers.find((c) => c.name === "sa-token-agent")!
      const mount = (volume: string) => agentContainer.volumeMounts.find((m) => m.name === volume)!.mountPath
      const [configDir, credentials, tokens] = [mount("config"), mount("agent-credentials"), mount("tokens")]
      assert.ok(configDir.startsWith("/etc/") && credentials.startsWith("/var/run/") && tokens.startsWith("/var/run/"))
      const source = path.join(dir, "source")
      fs.mkdirSync(source, { recursive: true })
      const token = await admin(cluster, "create", "token", "sa-token-agent", "-n", ns, "--duration", "1h")
      fs.writeFileSync(path.join(source, "token"), token)
      fs.copyFileSync(cluster.caFile, path.join(source, "ca.crt"))
      fs.writeFileSync(path.join(source, "namespace"), ns)
      fs.writeFileSync(path.join(source, "agent.yaml"), agentConfigText())
      const overlay = path.join(dir, "overlay")
      fs.mkdirSync(overlay, { recursive: true })
      const denoDir = "/run/deno-dir"

      const initContainer = spec.initContainers?.find((c) => c.volumeMounts.some((m) => m.name === "tokens"))
      assert.ok(initContainer !== undefined, "an init container prepares the tokens volume")
      const capabilities = (initContainer.securityContext?.capabilities?.add ?? []).map((c) => `+${c.toLowerCase()}`)
      const initCommand = ["setpriv", `--bounding-set=-all${capabilities.map((c) => `,${c}`).join("")}`, "--"]
        .concat([...initContainer.command ?? [], ...initContainer.args ?? []])

      const env = Object.fromEntries((agentContainer.env ?? []).map(({ name, value }) => [name, value]))
      const url = new URL(cluster.url)
      const denoArgs = agentContainer.args!.map((arg) => arg.startsWith("npm:") ? cli.at(-1)! : arg)
      assert.deepEqual(agentContainer.command, ["deno"])
      const agentCommand = [
        "setpriv",
        `--reuid=${spec.securityContext.runAsUser}`,
        `--regid=${spec.securityContext.runAsGroup}`,
        "--clear-groups",
        "env",
        "-i",
        `PATH=${process.env.PATH}`,
        ...Object.entries({ ...env, DENO_DIR: denoDir }).map(([name, value]) => `${name}=${value}`),
        `KUBERNETES_SERVICE_HOST=${url.hostname}`,
        `KUBERNETES_SERVICE_PORT=${url.port}`,
        path.join(root, "node_modules/.bin/deno"),
        ...denoArgs,
      ]
      const script = [
        "set -e",
        "mount -t tmpfs -o mode=0755 tmpfs /run",
        `mkdir -p ${quote(tokens)} ${denoDir}`,
        `chmod 0777 ${quote(tokens)} ${denoDir}`,
        // kubelet's projected volume: files in a timestamped directory, reached through ..data
        `mkdir -p ${quote(credentials)}/..2030_01_01_00_00_00.1 && cd ${quote(credentials)}`,
        `cp ${quote(source)}/token ${quote(source)}/ca.crt ${quote(source)}/namespace ..2030_01_01_00_00_00.1/`,
        "chmod 0644 ..2030_01_01_00_00_00.1/*",
        "ln -s ..2030_01_01_00_00_00.1 ..data && ln -s ..data/token token && ln -s ..data/ca.crt ca.crt",
        "ln -s ..data/namespace namespace",
        `mount -t tmpfs tmpfs ${quote(overlay)} && mkdir ${quote(overlay)}/upper ${quote(overlay)}/work`,
        `mount -t overlay overlay -o lowerdir=/etc,upperdir=${overlay}/upper,workdir=${overlay}/work /etc`,
        `mkdir -p ${quote(configDir)}/..2030_01_01_00_00_00.1 && cd ${quote(configDir)}`,
        `cp ${quote(source)}/agent.yaml ..2030_01_01_00_00_00.1/ && chmod 0644 ..2030_01_01_00_00_00.1/agent.yaml`,
        "ln -s ..2030_01_01_00_00_00.1 ..data && ln -s ..data/agent.yaml agent.yaml",
        `cd ${quote(root)}`,
        ...init ? [initCommand.map(quote).join(" ")] : [],
        `exec ${agentCommand.map(quote).join(" ")}`,
      ].join("\n")
      return start(["unshare", "--mount", "--propagation", "private", "sh", "-c", script])
    }

    it("without the init container, the agent refuses the world-writable emptyDir (exit 2, naming it)", async () => {
      const run = await startPod(false)
      const { code } = await run.exited
      assert.equal(code, 2, run.stderr())
      assert.match(run.stderr(), /\/var\/run\/sa-token is writable by every user \(mode 0777\)/)
    })

    it("with it, keeps both tokens in the shared volume, as the pod's user, with the Deployment's Deno flags", async () => {
      const earlier = (name: string) => tokenRequests(cluster, { namespace: ns, name }).length
      const seen = { "vault-auth": earlier("vault-auth"), builder: earlier("builder") }
      running = await startPod(true)
      const agentProcess = running
      // the agent's view of its files, through its mount namespace (/var/run is a symlink to /run, which would be
      // resolved in this process's namespace)
      const tokens = `/proc/${agentProcess.child.pid}/root${fs.realpathSync("/var/run")}/sa-token/tokens`
      const read = (name: string) => fs.readFileSync(path.join(tokens, name), "utf8")
      await poll(() => {
        if (agentProcess.child.exitCode !== null) throw new Error(`the agent exited: ${agentProcess.stderr()}`)
        return fs.existsSync(path.join(tokens, "vault")) && fs.existsSync(path.join(tokens, "builder"))
      }, "both token files").catch((error) => Promise.reject(new Error(`${error.message}\n${agentProcess.stderr()}`)))
      const { runAsUser } = podSpec().securityContext
      for (const name of ["vault", "builder"]) {
        const stat = fs.statSync(path.join(tokens, name))
        assert.deepEqual([stat.uid, stat.mode & 0o777], [runAsUser, 0o600], name)
      }
      assert.equal(fs.statSync(path.dirname(tokens)).uid, runAsUser)
      const vault = await review(cluster, read("vault"), ["vault"])
      assert.equal(vault.user?.username, `system:serviceaccount:${ns}:vault-auth`)
      const builder = await review(cluster, read("builder"))
      assert.equal(builder.user?.username, `system:serviceaccount:${ns}:builder`)
      for (const name of ["vault-auth", "builder"] as const) {
        const events = tokenRequests(cluster, { namespace: ns, name }).slice(seen[name])
        assert.deepEqual(events.map((event) => [event.user.username, event.responseStatus?.code]), [[agentUser, 201]])
      }
      assert.doesNotMatch(agentProcess.stderr(), /"logLevel":"(WARN|ERROR)"/)
      assert.equal((await agentProcess.stop()).code, 0)
    })
  })
})
