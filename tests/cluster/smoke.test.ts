/**
 * The harness itself against a real kube-apiserver: health and discovery answer as on a kubeadm cluster, kubectl
 * creates a TokenRequest with the admin kubeconfig, the token verifies against the server's JWKS with the claims
 * Kubernetes puts in it, and the audit log counts the request.
 */
import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as https from "node:https"
import { describe, it } from "node:test"
import * as jose from "jose"
import { type Cluster, countTokenRequests, kubectl, sharedCluster, tokenRequests } from "./_cluster.ts"

const issuer = "https://kubernetes.default.svc.cluster.local"

/** An anonymous GET (no client certificate), trusting the cluster's CA. */
const anonymousGet = (cluster: Cluster, path: string): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    https.get(new URL(path, cluster.url), { ca: fs.readFileSync(cluster.caFile) }, (response) => {
      let body = ""
      response.setEncoding("utf8").on("data", (chunk: string) => body += chunk)
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }))
    }).on("error", reject)
  })

interface KubernetesClaims {
  readonly namespace: string
  readonly serviceaccount: { readonly name: string; readonly uid: string }
}

const verify = async (cluster: Cluster, token: string, audience: string) => {
  const jwks = await kubectl(cluster, "get", "--raw", "/openid/v1/jwks")
  assert.equal(jwks.code, 0, jwks.stderr)
  const keys = jose.createLocalJWKSet(JSON.parse(jwks.stdout) as jose.JSONWebKeySet)
  const { payload, protectedHeader } = await jose.jwtVerify(token.trim(), keys, { issuer, audience })
  return { payload: payload as jose.JWTPayload & { "kubernetes.io": KubernetesClaims }, protectedHeader }
}

describe("the real API server harness", () => {
  it("answers /readyz and /version to anonymous clients, as kubeadm's public-info-viewer role allows", async () => {
    const cluster = await sharedCluster()
    assert.match(cluster.url, /^https:\/\/127\.0\.0\.1:\d+$/)
    const ready = await anonymousGet(cluster, "/readyz")
    assert.deepEqual(ready, { status: 200, body: "ok" })
    const version = await anonymousGet(cluster, "/version")
    assert.equal(version.status, 200)
    assert.match(JSON.parse(version.body).gitVersion, /^v1\.(3[4-9]|[4-9]\d)\.\d+$/)
  })

  it("serves OIDC discovery with the service-account issuer and an RS256 key set", async () => {
    const cluster = await sharedCluster()
    const discovery = await kubectl(cluster, "get", "--raw", "/.well-known/openid-configuration")
    assert.equal(discovery.code, 0, discovery.stderr)
    assert.equal(JSON.parse(discovery.stdout).issuer, issuer)
    const jwks = await kubectl(cluster, "get", "--raw", "/openid/v1/jwks")
    assert.equal(jwks.code, 0, jwks.stderr)
    const keys = JSON.parse(jwks.stdout).keys as ReadonlyArray<Record<string, string>>
    assert.equal(keys.length, 1)
    assert.equal(keys[0]!.alg, "RS256")
    assert.equal(keys[0]!.kty, "RSA")
  })

  it("issues a token with kubectl create token, with Kubernetes' claims, and audits the TokenRequest", async () => {
    const cluster = await sharedCluster()
    const before = countTokenRequests(cluster, { namespace: "default", name: "default" })
    const run = await kubectl(cluster, "create", "token", "default", "-n", "default")
    assert.equal(run.code, 0, run.stderr)
    const { payload, protectedHeader } = await verify(cluster, run.stdout, issuer)
    assert.equal(protectedHeader.alg, "RS256")
    assert.equal(payload.sub, "system:serviceaccount:default:default")
    assert.deepEqual(payload.aud, [issuer])
    assert.equal(payload.exp! - payload.iat!, 3600)
    const uid = await kubectl(
      cluster,
      "get",
      "serviceaccount",
      "default",
      "-n",
      "default",
      "-o",
      "jsonpath={.metadata.uid}",
    )
    assert.equal(payload["kubernetes.io"].namespace, "default")
    assert.deepEqual(payload["kubernetes.io"].serviceaccount, { name: "default", uid: uid.stdout })

    assert.equal(countTokenRequests(cluster, { namespace: "default", name: "default" }), before + 1)
    const event = tokenRequests(cluster, { namespace: "default", name: "default" }).at(-1)!
    assert.equal(event.stage, "ResponseComplete")
    assert.equal(event.user.username, "kubernetes-admin")
    assert.equal(event.responseStatus?.code, 201)
  })

  it("honours --audience and --duration, and the audit event records what was asked", async () => {
    const cluster = await sharedCluster()
    const run = await kubectl(cluster, "create", "token", "default", "--audience", "vault", "--duration", "10m")
    assert.equal(run.code, 0, run.stderr)
    const { payload } = await verify(cluster, run.stdout, "vault")
    assert.deepEqual(payload.aud, ["vault"])
    assert.equal(payload.exp! - payload.iat!, 600)
    const spec = tokenRequests(cluster, { namespace: "default", name: "default" }).at(-1)!.requestObject?.spec
    assert.deepEqual(spec?.audiences, ["vault"])
    assert.equal(spec?.expirationSeconds, 600)
  })
})
