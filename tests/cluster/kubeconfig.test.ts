/**
 * `sa-token token` through each kind of kubeconfig credential the real API server accepts, on Deno, Node and Bun: a
 * client certificate (files), a bearer token, a token file, an exec plugin (our own `sa-token exec-credential`, on the
 * same runtime), and a context and namespace other than the current ones (also through `KUBECONFIG`). The audit log
 * shows who asked: the identity of the kubeconfig, not the cluster admin.
 */
import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, it } from "node:test"
import { cliCommand, type Run, runEveryCli, type Runtime, runtimes } from "../_support/clis.ts"
import { clusterSuite } from "./_agent.ts"
import { tokenRequests } from "./_cluster.ts"
import {
  admin,
  apply,
  clientCertificate,
  closedPort,
  issuer,
  kubeconfigText,
  kubectlWith,
  objects,
  review,
  verifyToken,
  writeKubeconfig,
} from "./_tokens.ts"

const ns = "ctoken-kubeconfig"
const user = "ctoken-user"
const issuerSa = `system:serviceaccount:${ns}:issuer`

describe("token through every kind of kubeconfig credential, on Deno, Node and Bun", () => {
  // `issuer` (a service account) and `ctoken-user` (a client certificate) may create tokens for `app` only.
  const suite = clusterSuite("ctoken-kubeconfig", (cluster) =>
    apply(cluster, [
      objects.namespace(ns),
      objects.serviceAccount(ns, "app"),
      objects.serviceAccount(ns, "issuer"),
      objects.tokenCreator(ns, "app-tokens", ["app"]),
      objects.binding(ns, "app-tokens", "app-tokens", { serviceAccounts: ["issuer"], users: [user] }),
    ]))

  /** A client certificate of `ctoken-user`, written as files next to the kubeconfigs. */
  const userCertificate = async () => {
    const cert = await clientCertificate(suite.cluster, user)
    const certFile = path.join(suite.dir, "user.crt")
    const keyFile = path.join(suite.dir, "user.key")
    fs.writeFileSync(certFile, cert.certPem)
    fs.writeFileSync(keyFile, cert.keyPem, { mode: 0o600 })
    return { "client-certificate": certFile, "client-key": keyFile }
  }

  /** A token of service account `issuer`, from the cluster admin. */
  const issuerToken = async () => (await admin(suite.cluster, "create", "token", "issuer", "-n", ns)).trim()

  /**
   * Each CLI succeeded with a token of `app` that the server accepts, and asked for it as `username`: one
   * TokenRequest per runtime since `before` (the index of the first audit event to look at).
   */
  const issuedAs = async (runs: Record<Runtime, Run>, username: string, before: number) => {
    for (const runtime of runtimes) {
      const { code, stdout, stderr } = runs[runtime]
      assert.equal(code, 0, `${runtime}: ${stderr}`)
      assert.equal(stderr, "", runtime)
      const claims = await verifyToken(suite.cluster, stdout, issuer)
      assert.equal(claims.sub, `system:serviceaccount:${ns}:app`, runtime)
      const status = await review(suite.cluster, stdout)
      assert.equal(status.authenticated, true, status.error)
      assert.equal(status.user?.username, `system:serviceaccount:${ns}:app`, runtime)
    }
    const audited = tokenRequests(suite.cluster, { namespace: ns, name: "app" }).slice(before)
    assert.deepEqual(audited.map((e) => [e.user.username, e.responseStatus?.code]), runtimes.map(() => [username, 201]))
  }

  const requests = () => tokenRequests(suite.cluster, { namespace: ns, name: "app" }).length

  it("a client certificate and key in files", async () => {
    const kubeconfig = writeKubeconfig(path.join(suite.dir, "cert.yaml"), suite.cluster, await userCertificate(), ns)
    const before = requests()
    await issuedAs(await runEveryCli(["token", "app", "--kubeconfig", kubeconfig]), user, before)
  })

  it("a bearer token", async () => {
    const kubeconfig = writeKubeconfig(path.join(suite.dir, "bearer.yaml"), suite.cluster, {
      token: await issuerToken(),
    }, ns)
    const before = requests()
    await issuedAs(await runEveryCli(["token", "app", "--kubeconfig", kubeconfig]), issuerSa, before)
  })

  it("a token file", async () => {
    const tokenFile = path.join(suite.dir, "issuer.token")
    fs.writeFileSync(tokenFile, `${await issuerToken()}\n`, { mode: 0o600 })
    const kubeconfig = writeKubeconfig(path.join(suite.dir, "token-file.yaml"), suite.cluster, {
      "token-file": tokenFile,
    }, ns)
    const before = requests()
    await issuedAs(await runEveryCli(["token", "app", "--kubeconfig", kubeconfig]), issuerSa, before)
  })

  it("an exec plugin: our own exec-credential, which gets the issuer's token with the admin kubeconfig", async () => {
    // One kubeconfig per runtime: its exec plugin is that runtime's CLI, with a token cache of its own.
    const kubeconfigs = Object.fromEntries(runtimes.map((runtime) => {
      const [command, ...prefix] = cliCommand(runtime)
      const exec = {
        apiVersion: "client.authentication.k8s.io/v1",
        command,
        args: [
          ...prefix,
          "exec-credential",
          "issuer",
          "-n",
          ns,
          "--kubeconfig",
          suite.cluster.kubeconfig,
          "--cache-dir",
          path.join(suite.dir, `cache-${runtime}`),
        ],
        interactiveMode: "Never",
      }
      return [runtime, writeKubeconfig(path.join(suite.dir, `exec-${runtime}.yaml`), suite.cluster, { exec }, ns)]
    })) as Record<Runtime, string>
    const issued = tokenRequests(suite.cluster, { namespace: ns, name: "issuer" }).length
    const before = requests()
    await issuedAs(
      await runEveryCli((runtime) => ["token", "app", "--kubeconfig", kubeconfigs[runtime]]),
      issuerSa,
      before,
    )
    // Each plugin asked for the issuer's token once, as the cluster admin.
    const plugins = tokenRequests(suite.cluster, { namespace: ns, name: "issuer" }).slice(issued)
    assert.deepEqual(plugins.map((e) => e.user.username), runtimes.map(() => "kubernetes-admin"))
    // kubectl accepts the same plugin (here Deno's, whose cache now holds the credential).
    const whoami = await kubectlWith(kubeconfigs.deno, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
    assert.equal(whoami.code, 0, whoami.stderr)
    assert.equal(whoami.stdout, issuerSa)
    assert.equal(tokenRequests(suite.cluster, { namespace: ns, name: "issuer" }).length, issued + 3)
  })

  it("a context and namespace other than the current ones, with --kubeconfig and with KUBECONFIG", async () => {
    const certificate = await userCertificate()
    // The current context points to a server that does not answer: only --context reaches the cluster.
    const kubeconfig = path.join(suite.dir, "contexts.yaml")
    fs.writeFileSync(
      kubeconfig,
      kubeconfigText(
        suite.cluster,
        { broken: { token: "not-a-token" }, user: certificate },
        {
          broken: { user: "broken", namespace: ns, server: `https://127.0.0.1:${await closedPort()}` },
          work: { user: "user", namespace: ns },
          elsewhere: { user: "user", namespace: "default" },
        },
        "broken",
      ),
      { mode: 0o600 },
    )
    let before = requests()
    // The namespace of the context.
    await issuedAs(await runEveryCli(["token", "app", "--kubeconfig", kubeconfig, "--context", "work"]), user, before)
    before = requests()
    // -n wins over the context's namespace; the kubeconfig comes from KUBECONFIG.
    await issuedAs(
      await runEveryCli(["token", "app", "--context", "elsewhere", "-n", ns], { env: { KUBECONFIG: kubeconfig } }),
      user,
      before,
    )
    // Without --context, the current context is used (and its server refuses connections).
    const current = await runEveryCli(["token", "app"], { env: { KUBECONFIG: kubeconfig } })
    for (const runtime of runtimes) {
      assert.equal(current[runtime].code, 1, runtime)
      assert.match(
        current[runtime].stderr,
        /^error: failed to create token: POST "https:\/\/127\.0\.0\.1:\d+\//,
        runtime,
      )
    }
    // A context that does not exist.
    const missing = await runEveryCli(["token", "app", "--kubeconfig", kubeconfig, "--context", "nowhere"])
    for (const runtime of runtimes) {
      assert.equal(missing[runtime].code, 1, runtime)
      assert.equal(missing[runtime].stderr, `error: ${kubeconfig}: context "nowhere" not found\n`, runtime)
    }
  })
})
