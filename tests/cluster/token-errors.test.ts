/**
 * What the real API server refuses, and how `sa-token token` reports it on Deno, Node and Bun: kubectl's own message
 * for the same request is the reference. Each refusal also goes through the Kubernetes fetcher in this process, to
 * check the typed reason (and HTTP status) it maps to: a missing ServiceAccount (404), a user without RBAC permission
 * (403), a lifetime under 10 minutes (422), an expired client certificate and a revoked bearer token (401), a bound Pod
 * deleted before the request (404), a Pod UID that does not match (409), and an API server that is not reachable.
 * A server started with `--service-account-max-token-expiration` caps the lifetime, and the CLI prints its warning
 * on stderr as kubectl does.
 */
import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as KubeConnection from "../../adapters/kube/KubeConnection.ts"
import * as KubeTokenFetcher from "../../adapters/kube/KubeTokenFetcher.ts"
import * as NodeRuntime from "../../adapters/node/mod.ts"
import type { FetchReason } from "../../core/TokenError.ts"
import * as TokenFetcher from "../../core/TokenFetcher.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import { type Run, runEveryCli, runtimes } from "../_support/clis.ts"
import { countTokenRequests, kubectl, startCluster } from "./_cluster.ts"
import { clusterSuite, poll } from "./_agent.ts"
import {
  admin,
  apply,
  clientCertificate,
  closedPort,
  issuer,
  kubectlWith,
  objects,
  uidOf,
  verifyToken,
  writeKubeconfig,
} from "./_tokens.ts"

const ns = "ctoken-errors"

/** The failure of one fetch through the Kubernetes fetcher (Node's TLS client), in this process. */
const fetchFailure = async (
  kubeconfig: string,
  name: string,
  request: TokenRequest = { spec: {} },
): Promise<{ readonly reason: FetchReason; readonly status: number | undefined; readonly message: string }> => {
  const failure = await Effect.flatMap(TokenFetcher.TokenFetcher, (fetcher) => fetcher.fetch(ns, name, request)).pipe(
    Effect.provide(KubeTokenFetcher.layer().pipe(Layer.provide(KubeConnection.layerKubeconfig({ kubeconfig })))),
    Effect.provide(NodeRuntime.layer),
    Effect.flip,
    Effect.runPromise,
  )
  assert.equal(failure._tag, "TokenFetchError", failure.message)
  return {
    reason: (failure as { reason: FetchReason }).reason,
    status: (failure as { status?: number }).status,
    message: failure.message,
  }
}

/** Each CLI failed with exit code 1, nothing on stdout, and `stderr`. */
const failedWith = (runs: Record<string, Run>, stderr: string) => {
  for (const [runtime, run] of Object.entries(runs)) {
    assert.equal(run.stderr, stderr, runtime)
    assert.equal(run.code, 1, runtime)
    assert.equal(run.stdout, "", runtime)
  }
}

/** `error: failed to create token: ` and the rest of kubectl's message, for the typed error's message. */
const serverMessage = (kubectlStderr: string) => kubectlStderr.replace(/^error: failed to create token: /, "").trim()

describe("token errors from the real API server, on Deno, Node and Bun", () => {
  const suite = clusterSuite("ctoken-errors", async (cluster) => {
    await apply(cluster, [
      objects.namespace(ns),
      objects.serviceAccount(ns, "app"),
      objects.serviceAccount(ns, "doomed"),
      objects.tokenCreator(ns, "token-creator"),
      objects.binding(ns, "doomed-creates-tokens", "token-creator", { serviceAccounts: ["doomed"] }),
    ])
    const pod = (name: string) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: ns },
      spec: {
        serviceAccountName: "app",
        automountServiceAccountToken: false,
        containers: [{ name: "c", image: "registry.k8s.io/pause:3.10" }],
      },
    })
    await apply(cluster, [pod("web"), pod("gone")])
  })

  /** Runs `token …args` on the three CLIs and kubectl's `create token …args`, with the same kubeconfig. */
  const both = async (kubeconfig: string, ...args: ReadonlyArray<string>) => {
    const [runs, reference] = await Promise.all([
      runEveryCli(["token", ...args, "--kubeconfig", kubeconfig]),
      kubectlWith(kubeconfig, "create", "token", ...args),
    ])
    assert.equal(reference.code, 1, reference.stderr)
    return { runs, kubectl: reference }
  }

  /**
   * Requests a token for `name` with the three CLIs and kubectl: kubectl prints `error: failed to create token: ` and
   * `message`, the CLIs print the same and exit 1, and the fetcher's typed failure carries `reason`, `status` and the
   * server's message.
   */
  const refused = async (
    kubeconfig: string,
    name: string,
    expected: { reason: string; status: number; message: string },
    ...flags: ReadonlyArray<string>
  ) => {
    const { runs, kubectl } = await both(kubeconfig, name, ...flags)
    assert.equal(kubectl.stderr, `error: failed to create token: ${expected.message}\n`)
    failedWith(runs, kubectl.stderr)
    assert.deepEqual(await fetchFailure(kubeconfig, name), expected)
  }

  it("a missing ServiceAccount: 404 NotFound, kubectl's message", async () => {
    const message = 'serviceaccounts "ghost" not found'
    await refused(suite.cluster.kubeconfig, "ghost", { reason: "NotFound", status: 404, message }, "-n", ns)
  })

  it("a user without RBAC permission for serviceaccounts/token: 403 Forbidden, kubectl's message", async () => {
    const cert = await clientCertificate(suite.cluster, "ctoken-nobody", { organizations: ["ctoken-nobodies"] })
    const kubeconfig = writeKubeconfig(path.join(suite.dir, "nobody.yaml"), suite.cluster, {
      "client-certificate-data": btoa(cert.certPem),
      "client-key-data": btoa(cert.keyPem),
    }, ns)
    const message =
      `serviceaccounts "app" is forbidden: User "ctoken-nobody" cannot create resource "serviceaccounts/token" in API group "" in the namespace "${ns}"`
    await refused(kubeconfig, "app", { reason: "Forbidden", status: 403, message })
  })

  it("a lifetime under 10 minutes: the server answers 422 Invalid; the CLI leaves the bound to it, as kubectl", async () => {
    const before = countTokenRequests(suite.cluster, { namespace: ns, name: "app" })
    const { runs, kubectl } = await both(suite.cluster.kubeconfig, "app", "-n", ns, "--duration", "100s")
    assert.equal(
      kubectl.stderr,
      'error: failed to create token: TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 100: may not specify a duration less than 10 minutes\n',
    )
    // Below 600 s the CLI asks the server, as kubectl does (a server may have a lower minimum), and reports its 422
    // in kubectl's words: kubectl's request and one per runtime reached the server.
    failedWith(runs, kubectl.stderr)
    assert.equal(
      countTokenRequests(suite.cluster, { namespace: ns, name: "app" }),
      before + 1 + Object.keys(runs).length,
    )
    // The fetcher alone does not check the lifetime: the server's 422 maps to Invalid.
    const failure = await fetchFailure(suite.cluster.kubeconfig, "app", { spec: { expirationSeconds: 100 } })
    assert.deepEqual(failure, { reason: "Invalid", status: 422, message: serverMessage(kubectl.stderr) })
  })

  it("an expired client certificate: 401 Unauthorized, kubectl's message", async () => {
    const day = 24 * 3600_000
    const cert = await clientCertificate(suite.cluster, "ctoken-admin", {
      organizations: ["system:masters"],
      notBefore: new Date(Date.now() - 2 * day),
      notAfter: new Date(Date.now() - day),
    })
    const kubeconfig = writeKubeconfig(path.join(suite.dir, "expired.yaml"), suite.cluster, {
      "client-certificate-data": btoa(cert.certPem),
      "client-key-data": btoa(cert.keyPem),
    }, ns)
    await refused(kubeconfig, "app", { reason: "Unauthorized", status: 401, message: "Unauthorized" })
  })

  it("a revoked bearer token (its ServiceAccount deleted): 401 Unauthorized, kubectl's message", async () => {
    const bearer = (await admin(suite.cluster, "create", "token", "doomed", "-n", ns)).trim()
    const kubeconfig = writeKubeconfig(path.join(suite.dir, "doomed.yaml"), suite.cluster, { token: bearer }, ns)
    const working = await runEveryCli(["token", "app", "--kubeconfig", kubeconfig])
    for (const runtime of runtimes) {
      assert.equal(working[runtime].code, 0, `${runtime}: ${working[runtime].stderr}`)
      await verifyToken(suite.cluster, working[runtime].stdout, issuer)
    }
    await admin(suite.cluster, "delete", "serviceaccount", "doomed", "-n", ns)
    // The server remembers a successful authentication for a few seconds: wait (bounded) until it refuses the token.
    await poll(async () => {
      const whoami = await kubectlWith(kubeconfig, "auth", "whoami")
      return whoami.code !== 0 && /Unauthorized/.test(whoami.stderr)
    }, "the server to refuse the revoked token")
    await refused(kubeconfig, "app", { reason: "Unauthorized", status: 401, message: "Unauthorized" })
  })

  it("a bound Pod deleted before the request: 404 NotFound for the pod", async () => {
    const podUid = await uidOf(suite.cluster, "pod", "gone", ns)
    // Scheduled nowhere, the pod goes at once.
    await admin(suite.cluster, "delete", "pod", "gone", "-n", ns, "--wait=true")
    const bound = ["--bound-object-kind", "Pod", "--bound-object-name", "gone", "--bound-object-uid", podUid]
    const { runs, kubectl } = await both(suite.cluster.kubeconfig, "app", "-n", ns, ...bound)
    assert.equal(kubectl.stderr, 'error: failed to create token: pods "gone" not found\n')
    failedWith(runs, kubectl.stderr)
    const failure = await fetchFailure(suite.cluster.kubeconfig, "app", {
      spec: { boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "gone", uid: podUid } },
    })
    assert.deepEqual(failure, { reason: "NotFound", status: 404, message: serverMessage(kubectl.stderr) })
  })

  it("a Pod UID that does not match: 409 Conflict, kubectl's message", async () => {
    const wrong = "00000000-0000-4000-8000-000000000000"
    const bound = ["--bound-object-kind", "Pod", "--bound-object-name", "web", "--bound-object-uid", wrong]
    const { runs, kubectl } = await both(suite.cluster.kubeconfig, "app", "-n", ns, ...bound)
    assert.equal(
      kubectl.stderr,
      `error: failed to create token: Operation cannot be fulfilled on Pod "web": the UID in the bound object reference (${wrong}) does not match the UID in record. The object might have been deleted and then recreated\n`,
    )
    failedWith(runs, kubectl.stderr)
    const failure = await fetchFailure(suite.cluster.kubeconfig, "app", {
      spec: { boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "web", uid: wrong } },
    })
    assert.deepEqual(failure, { reason: "Conflict", status: 409, message: serverMessage(kubectl.stderr) })
  })

  it("an API server that is not reachable: a connection error naming the URL, exit code 1", async () => {
    const port = await closedPort()
    const kubeconfig = path.join(suite.dir, "closed.yaml")
    fs.writeFileSync(
      kubeconfig,
      fs.readFileSync(suite.cluster.kubeconfig, "utf8").replace(/server: \S+/, `server: https://127.0.0.1:${port}`),
      { mode: 0o600 },
    )
    const url = `https://127.0.0.1:${port}/api/v1/namespaces/${ns}/serviceaccounts/app/token`
    const { runs, kubectl } = await both(kubeconfig, "app", "-n", ns)
    assert.equal(
      kubectl.stderr,
      `error: failed to create token: Post "${url}": dial tcp 127.0.0.1:${port}: connect: connection refused\n`,
    )
    for (const runtime of runtimes) {
      const { code, stdout, stderr } = runs[runtime]
      assert.equal(code, 1, runtime)
      assert.equal(stdout, "", runtime)
      assert.ok(stderr.startsWith(`error: failed to create token: POST "${url}": `), `${runtime}: ${stderr}`)
      assert.match(stderr, /refused/i, runtime)
      assert.equal(stderr.trim().split("\n").length, 1, runtime)
    }
    const failure = await fetchFailure(kubeconfig, "app")
    assert.equal(failure.reason, "Transport")
    assert.equal(failure.status, undefined)
    assert.match(failure.message, /refused/i)
  })

  it("a server with --service-account-max-token-expiration caps the lifetime and warns on stderr, as kubectl", async () => {
    const capped = await startCluster({ maxTokenExpiration: "1h" })
    try {
      const args = ["default", "-n", "default", "--duration", "2h"]
      const [runs, reference] = await Promise.all([
        runEveryCli(["token", ...args, "--kubeconfig", capped.kubeconfig, "-o", "json"]),
        kubectl(capped, "create", "token", ...args),
      ])
      assert.equal(reference.code, 0, reference.stderr)
      assert.equal(reference.stderr, "Warning: requested expiration of 7200 seconds shortened to 3600 seconds\n")
      const claims = await verifyToken(capped, reference.stdout, issuer)
      assert.equal(claims.exp! - claims.iat!, 3600)
      for (const runtime of runtimes) {
        const { code, stdout, stderr } = runs[runtime]
        assert.equal(code, 0, `${runtime}: ${stderr}`)
        assert.equal(stderr, reference.stderr, runtime)
        const body = JSON.parse(stdout)
        assert.equal(body.spec.expirationSeconds, 3600, runtime)
        const claims = await verifyToken(capped, body.status.token, issuer)
        assert.equal(claims.exp! - claims.iat!, 3600, runtime)
      }
    } finally {
      await capped.stop()
    }
  })
})
