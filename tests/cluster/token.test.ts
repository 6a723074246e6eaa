/**
 * `sa-token token` against the real API server, on Deno, Node and Bun at once: default and explicit audiences,
 * `--duration`, tokens bound to a Pod, a Secret and a Node, `-o json` and `-o exec-credential`. Every token is verified
 * against the server's own JWKS and authenticated by a TokenReview of the same server (username, groups, audiences,
 * and the pod and node claims of bound tokens); the audit log shows what each CLI asked for.
 */
import assert from "node:assert/strict"
import { before, describe, it } from "node:test"
import { type Run, runEveryCli, type Runtime, runtimes } from "../_support/clis.ts"
import { type Cluster, kubectl, sharedCluster, tokenRequests } from "./_cluster.ts"
import { apply, type Claims, issuer, objects, review, type ReviewStatus, uidOf, verifyToken } from "./_tokens.ts"

const ns = "ctoken-token"
const node = "ctoken-node"
const groups = ["system:serviceaccounts", `system:serviceaccounts:${ns}`, "system:authenticated"]
const jwt = /^[\w-]+\.[\w-]+\.[\w-]+$/

describe("token against the real API server, on Deno, Node and Bun", () => {
  let cluster: Cluster
  const uid = { sa: "", pod: "", secret: "", node: "" }

  before(async () => {
    cluster = await sharedCluster()
    await apply(cluster, [
      objects.namespace(ns),
      objects.serviceAccount(ns, "app"),
      { apiVersion: "v1", kind: "Node", metadata: { name: node } },
    ])
    // A Pod need not run: scheduled to the Node object, it is what the server binds the token to.
    await apply(cluster, [
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "web", namespace: ns },
        spec: {
          serviceAccountName: "app",
          nodeName: node,
          automountServiceAccountToken: false,
          containers: [{ name: "web", image: "registry.k8s.io/pause:3.10" }],
        },
      },
      { apiVersion: "v1", kind: "Secret", metadata: { name: "creds", namespace: ns }, type: "Opaque" },
    ])
    uid.sa = await uidOf(cluster, "serviceaccount", "app", ns)
    uid.pod = await uidOf(cluster, "pod", "web", ns)
    uid.secret = await uidOf(cluster, "secret", "creds", ns)
    uid.node = await uidOf(cluster, "node", node)
  })

  /** Runs `token app -n NS …args` on the three CLIs; each must succeed with nothing on stderr. */
  const token = async (...args: ReadonlyArray<string>): Promise<Record<Runtime, Run>> => {
    const before = tokenRequests(cluster, { namespace: ns, name: "app" }).length
    const runs = await runEveryCli(["token", "app", "-n", ns, "--kubeconfig", cluster.kubeconfig, ...args])
    for (const runtime of runtimes) {
      const { code, stdout, stderr } = runs[runtime]
      assert.equal(code, 0, `${runtime}: ${stderr}`)
      assert.equal(stderr, "", runtime)
      assert.notEqual(stdout, "", runtime)
    }
    // One TokenRequest per CLI, each answered 201.
    const audited = tokenRequests(cluster, { namespace: ns, name: "app" }).slice(before)
    assert.equal(audited.length, 3)
    for (const event of audited) {
      assert.equal(event.responseStatus?.code, 201)
      assert.equal(event.user.username, "kubernetes-admin")
    }
    return runs
  }

  /**
   * The request bodies the server received for the last three TokenRequests (one per CLI), as the audit log records
   * them: after the API's defaulting (no `expirationSeconds` becomes 3600), without the fields that are null.
   */
  const lastSpecs = () =>
    tokenRequests(cluster, { namespace: ns, name: "app" }).slice(-3).map((e) =>
      Object.fromEntries(Object.entries(e.requestObject?.spec ?? {}).filter(([, value]) => value !== null))
    )

  /** The claims every token of service account `app` carries, with `audiences`. */
  const checkClaims = (claims: Claims, audiences: ReadonlyArray<string>, lifetime: number) => {
    assert.equal(claims.sub, `system:serviceaccount:${ns}:app`)
    assert.deepEqual(claims.aud, audiences)
    assert.equal(claims.exp! - claims.iat!, lifetime)
    assert.equal(claims["kubernetes.io"].namespace, ns)
    assert.deepEqual(claims["kubernetes.io"].serviceaccount, { name: "app", uid: uid.sa })
  }

  /**
   * The response's `expirationTimestamp` is the server's request time plus the lifetime, whole seconds; the JWT's `exp`
   * comes from its signing time, taken just after: the same second, or the next one.
   */
  const expiresWith = (timestamp: string, claims: Claims) => {
    assert.match(timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    const seconds = Date.parse(timestamp) / 1000
    assert.ok(claims.exp! - seconds >= 0 && claims.exp! - seconds <= 1, `${timestamp} vs exp ${claims.exp}`)
  }

  /** The TokenReview's user: the service account, its groups, the credential's JTI and the given extras. */
  const checkReview = (
    status: ReviewStatus,
    claims: Claims,
    audiences: ReadonlyArray<string>,
    extra: Record<string, ReadonlyArray<string>> = {},
  ) => {
    assert.equal(status.authenticated, true, status.error)
    assert.deepEqual(status.audiences, audiences)
    assert.equal(status.user?.username, `system:serviceaccount:${ns}:app`)
    assert.equal(status.user?.uid, uid.sa)
    assert.deepEqual(status.user?.groups, groups)
    assert.deepEqual(status.user?.extra, {
      "authentication.kubernetes.io/credential-id": [`JTI=${claims.jti}`],
      ...extra,
    })
  }

  it("prints the bare token, for the API server's audience and its default hour, like kubectl", async () => {
    const runs = await token()
    const ours = lastSpecs()
    const kubectlRun = await kubectl(cluster, "create", "token", "app", "-n", ns)
    assert.equal(kubectlRun.code, 0, kubectlRun.stderr)
    // The same request as kubectl's: no audiences, the default lifetime.
    assert.deepEqual(ours, [{ expirationSeconds: 3600 }, { expirationSeconds: 3600 }, { expirationSeconds: 3600 }])
    assert.deepEqual(lastSpecs().at(-1), ours[0])
    const reference = await verifyToken(cluster, kubectlRun.stdout, issuer)
    const tokens = new Set<string>()
    for (const runtime of runtimes) {
      const text = runs[runtime].stdout
      // No newline when stdout is not a terminal, as kubectl.
      assert.match(text, jwt, runtime)
      tokens.add(text)
      const claims = await verifyToken(cluster, text, issuer)
      checkClaims(claims, [issuer], 3600)
      // The same claims as kubectl's own token.
      assert.deepEqual(Object.keys(claims).sort(), Object.keys(reference).sort())
      assert.deepEqual(Object.keys(claims["kubernetes.io"]).sort(), Object.keys(reference["kubernetes.io"]).sort())
      checkReview(await review(cluster, text), claims, [issuer])
    }
    assert.equal(tokens.size, 3)
  })

  it("asks for the given audiences and --duration, and the token is good for those audiences only", async () => {
    const runs = await token("--audience", "vault", "--audience", "db", "--duration", "20m")
    for (const spec of lastSpecs()) assert.deepEqual(spec, { audiences: ["vault", "db"], expirationSeconds: 1200 })
    for (const runtime of runtimes) {
      const text = runs[runtime].stdout
      const claims = await verifyToken(cluster, text, "db")
      checkClaims(claims, ["vault", "db"], 1200)
      checkReview(await review(cluster, text, ["db"]), claims, ["db"])
      const elsewhere = await review(cluster, text, [issuer])
      assert.notEqual(elsewhere.authenticated, true, runtime)
      assert.match(
        elsewhere.error ?? "",
        /token audiences \["vault" "db"\] is invalid for the target audiences/,
        runtime,
      )
    }
  })

  it("binds a token to a Pod (-o json): pod and node claims, which the TokenReview reports", async () => {
    const runs = await token(
      "--audience",
      "vault",
      "--bound-object-kind",
      "Pod",
      "--bound-object-name",
      "web",
      "--bound-object-uid",
      uid.pod,
      "-o",
      "json",
    )
    const ref = { kind: "Pod", apiVersion: "v1", name: "web", uid: uid.pod }
    for (const spec of lastSpecs()) {
      assert.deepEqual(spec, { audiences: ["vault"], expirationSeconds: 3600, boundObjectRef: ref })
    }
    for (const runtime of runtimes) {
      const body = JSON.parse(runs[runtime].stdout)
      assert.equal(body.apiVersion, "authentication.k8s.io/v1", runtime)
      assert.equal(body.kind, "TokenRequest", runtime)
      assert.deepEqual(body.metadata, { name: "app", namespace: ns, uid: uid.sa }, runtime)
      assert.deepEqual(body.spec, { audiences: ["vault"], expirationSeconds: 3600, boundObjectRef: ref }, runtime)
      const claims = await verifyToken(cluster, body.status.token, "vault")
      checkClaims(claims, ["vault"], 3600)
      assert.deepEqual(claims["kubernetes.io"].pod, { name: "web", uid: uid.pod })
      assert.deepEqual(claims["kubernetes.io"].node, { name: node, uid: uid.node })
      expiresWith(body.status.expirationTimestamp, claims)
      checkReview(await review(cluster, body.status.token, ["vault"]), claims, ["vault"], {
        "authentication.kubernetes.io/node-name": [node],
        "authentication.kubernetes.io/node-uid": [uid.node],
        "authentication.kubernetes.io/pod-name": ["web"],
        "authentication.kubernetes.io/pod-uid": [uid.pod],
      })
    }
  })

  it("binds a token to a Secret: the secret claim, and no pod in the TokenReview", async () => {
    const runs = await token("--bound-object-kind", "Secret", "--bound-object-name", "creds")
    for (const spec of lastSpecs()) {
      assert.deepEqual(spec, {
        expirationSeconds: 3600,
        boundObjectRef: { kind: "Secret", apiVersion: "v1", name: "creds" },
      })
    }
    for (const runtime of runtimes) {
      const claims = await verifyToken(cluster, runs[runtime].stdout, issuer)
      checkClaims(claims, [issuer], 3600)
      assert.deepEqual(claims["kubernetes.io"].secret, { name: "creds", uid: uid.secret })
      assert.equal(claims["kubernetes.io"].pod, undefined)
      assert.equal(claims["kubernetes.io"].node, undefined)
      checkReview(await review(cluster, runs[runtime].stdout), claims, [issuer])
    }
  })

  it("binds a token to a Node (no feature gate needed in v1.37): node claims in the token and the TokenReview", async () => {
    const runs = await token("--bound-object-kind", "Node", "--bound-object-name", node, "--duration", "1h30m")
    for (const spec of lastSpecs()) {
      assert.deepEqual(spec, {
        expirationSeconds: 5400,
        boundObjectRef: { kind: "Node", apiVersion: "v1", name: node },
      })
    }
    for (const runtime of runtimes) {
      const claims = await verifyToken(cluster, runs[runtime].stdout, issuer)
      checkClaims(claims, [issuer], 5400)
      assert.deepEqual(claims["kubernetes.io"].node, { name: node, uid: uid.node })
      assert.equal(claims["kubernetes.io"].pod, undefined)
      checkReview(await review(cluster, runs[runtime].stdout), claims, [issuer], {
        "authentication.kubernetes.io/node-name": [node],
        "authentication.kubernetes.io/node-uid": [uid.node],
      })
    }
  })

  it("prints a client.authentication.k8s.io/v1 ExecCredential (-o exec-credential) whose token the server accepts", async () => {
    const runs = await token("--audience", issuer, "--duration", "15m", "-o", "exec-credential")
    for (const runtime of runtimes) {
      const credential = JSON.parse(runs[runtime].stdout)
      assert.deepEqual(Object.keys(credential).sort(), ["apiVersion", "kind", "status"], runtime)
      assert.equal(credential.apiVersion, "client.authentication.k8s.io/v1", runtime)
      assert.equal(credential.kind, "ExecCredential", runtime)
      const claims = await verifyToken(cluster, credential.status.token, issuer)
      checkClaims(claims, [issuer], 900)
      expiresWith(credential.status.expirationTimestamp, claims)
      checkReview(await review(cluster, credential.status.token), claims, [issuer])
    }
  })
})
