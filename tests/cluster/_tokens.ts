/**
 * What the `token` cases of the cluster suite check issued tokens and identities with: the server's own JWKS
 * (`/openid/v1/jwks`) to verify a JWT, a TokenReview by the server, client certificates signed by the cluster's CA for
 * users of our choosing, kubeconfig files for them, and kubectl with any kubeconfig.
 */
import assert from "node:assert/strict"
import * as crypto from "node:crypto"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as https from "node:https"
import * as x509 from "@peculiar/x509"
import * as jose from "jose"
import * as Yaml from "yaml"
import { type Run, run } from "../_support/clis.ts"
import { type Cluster, kubectl } from "./_cluster.ts"

x509.cryptoProvider.set(globalThis.crypto)

/** The service-account issuer of the harness (`--service-account-issuer`), also the API server's audience. */
export const issuer = "https://kubernetes.default.svc.cluster.local"

/** Runs kubectl with another kubeconfig; never rejects. */
export const kubectlWith = (kubeconfig: string, ...args: ReadonlyArray<string>): Promise<Run> =>
  run("kubectl", ["--kubeconfig", kubeconfig, ...args], { timeoutMs: 30_000 })

/** Runs `kubectl --kubeconfig <admin> ...args` with `input` on its standard input; never rejects. */
export const kubectlInput = (cluster: Cluster, input: string, ...args: ReadonlyArray<string>): Promise<Run> =>
  new Promise((resolve) => {
    const child = execFile(
      "kubectl",
      ["--kubeconfig", cluster.kubeconfig, ...args],
      { timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr }),
    )
    child.stdin!.end(input)
  })

/** Applies manifests (YAML or JSON text, or objects) as the cluster admin. */
export const apply = async (cluster: Cluster, manifests: string | ReadonlyArray<unknown>): Promise<void> => {
  const text = typeof manifests === "string"
    ? manifests
    : JSON.stringify({ apiVersion: "v1", kind: "List", items: manifests })
  const applied = await kubectlInput(cluster, text, "apply", "-f", "-")
  assert.equal(applied.code, 0, applied.stderr)
}

/** Objects the cases create, as `kubectl apply` takes them. */
export const objects = {
  namespace: (name: string): unknown => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } }),
  serviceAccount: (namespace: string, name: string): unknown => ({
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name, namespace },
  }),
  /** A Role allowing `create` on `serviceaccounts/token`, for `resourceNames` only when given. */
  tokenCreator: (namespace: string, name: string, resourceNames?: ReadonlyArray<string>): unknown => ({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: { name, namespace },
    rules: [{
      apiGroups: [""],
      resources: ["serviceaccounts/token"],
      verbs: ["create"],
      ...(resourceNames !== undefined ? { resourceNames } : {}),
    }],
  }),
  /** A RoleBinding of Role `role` to service accounts of the namespace and users. */
  binding: (
    namespace: string,
    name: string,
    role: string,
    subjects: { readonly serviceAccounts?: ReadonlyArray<string>; readonly users?: ReadonlyArray<string> },
  ): unknown => ({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name, namespace },
    subjects: [
      ...(subjects.serviceAccounts ?? []).map((sa) => ({ kind: "ServiceAccount", name: sa, namespace })),
      ...(subjects.users ?? []).map((user) => ({ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: user })),
    ],
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role },
  }),
}

/** Runs kubectl as the cluster admin and fails the test when it fails; returns its stdout. */
export const admin = async (cluster: Cluster, ...args: ReadonlyArray<string>): Promise<string> => {
  const done = await kubectl(cluster, ...args)
  assert.equal(done.code, 0, `kubectl ${args.join(" ")}: ${done.stderr}`)
  return done.stdout
}

/** The UID of an object (`kind` as kubectl takes it; `namespace` for namespaced ones). */
export const uidOf = (cluster: Cluster, kind: string, name: string, namespace?: string): Promise<string> =>
  admin(cluster, "get", kind, name, ...(namespace ? ["-n", namespace] : []), "-o", "jsonpath={.metadata.uid}")

/** The claims Kubernetes puts in a service-account token under `kubernetes.io`. */
export interface KubernetesClaims {
  readonly namespace: string
  readonly serviceaccount: { readonly name: string; readonly uid: string }
  readonly pod?: { readonly name: string; readonly uid: string }
  readonly secret?: { readonly name: string; readonly uid: string }
  readonly node?: { readonly name: string; readonly uid?: string }
  readonly warnafter?: number
}

/** A verified service-account JWT. */
export type Claims = jose.JWTPayload & { readonly "kubernetes.io": KubernetesClaims }

const keySets = new Map<string, ReturnType<typeof jose.createLocalJWKSet>>()

/** Verifies a token against the server's own key set (`/openid/v1/jwks`): signature, issuer and audience. */
export const verifyToken = async (cluster: Cluster, token: string, audience: string): Promise<Claims> => {
  let keys = keySets.get(cluster.url)
  if (keys === undefined) {
    const jwks = await kubectl(cluster, "get", "--raw", "/openid/v1/jwks")
    assert.equal(jwks.code, 0, jwks.stderr)
    keys = jose.createLocalJWKSet(JSON.parse(jwks.stdout) as jose.JSONWebKeySet)
    keySets.set(cluster.url, keys)
  }
  const { payload, protectedHeader } = await jose.jwtVerify(token, keys, { issuer, audience })
  assert.equal(protectedHeader.alg, "RS256")
  return payload as Claims
}

/** The `status` of a TokenReview. */
export interface ReviewStatus {
  readonly authenticated?: boolean
  readonly error?: string
  readonly audiences?: ReadonlyArray<string>
  readonly user?: {
    readonly username?: string
    readonly uid?: string
    readonly groups?: ReadonlyArray<string>
    readonly extra?: Readonly<Record<string, ReadonlyArray<string>>>
  }
}

const adminCredentials = (cluster: Cluster): { ca: string; cert: string; key: string } => {
  const config = Yaml.parse(fs.readFileSync(cluster.kubeconfig, "utf8"))
  const user = config.users[0].user
  const decode = (field: string) => Buffer.from(user[field], "base64").toString("utf8")
  return {
    ca: fs.readFileSync(cluster.caFile, "utf8"),
    cert: decode("client-certificate-data"),
    key: decode("client-key-data"),
  }
}

/** One request to the API server as the admin (client certificate); returns the status, body and audit ID. */
export const adminRequest = (
  cluster: Cluster,
  method: string,
  apiPath: string,
  body?: unknown,
): Promise<{ status: number; body: unknown; auditID: string }> =>
  new Promise((resolve, reject) => {
    const request = https.request(new URL(apiPath, cluster.url), {
      ...adminCredentials(cluster),
      method,
      headers: { "content-type": "application/json", accept: "application/json" },
    }, (response) => {
      let text = ""
      response.setEncoding("utf8").on("data", (chunk: string) => text += chunk)
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          body: text === "" ? undefined : JSON.parse(text),
          auditID: String(response.headers["audit-id"] ?? ""),
        }))
    })
    request.on("error", reject)
    request.end(body === undefined ? undefined : JSON.stringify(body))
  })

/**
 * Asks the server, as the cluster admin, whether it authenticates `token` (for `audiences`, or the API server's own);
 * with the audit ID of that TokenReview.
 */
export const review = async (
  cluster: Cluster,
  token: string,
  audiences?: ReadonlyArray<string>,
): Promise<ReviewStatus & { readonly auditID: string }> => {
  const answer = await adminRequest(cluster, "POST", "/apis/authentication.k8s.io/v1/tokenreviews", {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenReview",
    spec: { token: token.trim(), ...(audiences === undefined ? {} : { audiences }) },
  })
  assert.equal(answer.status, 201, `TokenReview: HTTP ${answer.status}`)
  return { ...(answer.body as { status: ReviewStatus }).status, auditID: answer.auditID }
}

/** A client certificate and its key, PEM. */
export interface ClientCertificate {
  readonly certPem: string
  readonly keyPem: string
}

/**
 * A client certificate for `commonName` in `organizations`, signed by the CA given as PEM (RSA or EC P-256 key, any
 * PEM encoding); valid from an hour ago for a day unless `notBefore`/`notAfter` say otherwise.
 */
export const signClientCertificate = async (
  caCertPem: string,
  caKeyPem: string,
  commonName: string,
  options: { readonly organizations?: ReadonlyArray<string>; readonly notBefore?: Date; readonly notAfter?: Date } = {},
): Promise<ClientCertificate> => {
  const subtle = globalThis.crypto.subtle
  const caKeyObject = crypto.createPrivateKey(caKeyPem)
  const algorithm = caKeyObject.asymmetricKeyType === "ec"
    ? { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" }
    : { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }
  const caKeyDer = caKeyObject.export({ type: "pkcs8", format: "der" })
  const caKey = await subtle.importKey("pkcs8", new Uint8Array(caKeyDer), algorithm, false, ["sign"])
  const ca = new x509.X509Certificate(caCertPem)
  const keys = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])
  const now = Date.now()
  const escape = (value: string) => value.replace(/([,+"\\<>;=])/g, "\\$1")
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: crypto.randomBytes(8).toString("hex").replace(/^[89a-f]/, "1"),
    subject: [`CN=${escape(commonName)}`, ...(options.organizations ?? []).map((o) => `O=${escape(o)}`)].join(", "),
    issuer: ca.subject,
    notBefore: options.notBefore ?? new Date(now - 3600_000),
    notAfter: options.notAfter ?? new Date(now + 24 * 3600_000),
    signingAlgorithm: algorithm,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ],
  })
  const keyDer = await subtle.exportKey("pkcs8", keys.privateKey)
  return { certPem: cert.toString("pem") + "\n", keyPem: x509.PemConverter.encode(keyDer, "PRIVATE KEY") + "\n" }
}

/**
 * A client certificate for user `commonName` in `organizations` (the user's groups), signed by the cluster's CA; valid
 * from an hour ago for a day unless `notBefore`/`notAfter` say otherwise.
 */
export const clientCertificate = (
  cluster: Cluster,
  commonName: string,
  options: {
    readonly organizations?: ReadonlyArray<string>
    readonly notBefore?: Date
    readonly notAfter?: Date
  } = {},
): Promise<ClientCertificate> =>
  signClientCertificate(
    fs.readFileSync(cluster.caFile, "utf8"),
    fs.readFileSync(cluster.caKeyFile, "utf8"),
    commonName,
    options,
  )

/** A kubeconfig `user` entry. */
export type KubeUser = Readonly<Record<string, unknown>>

/** One context of {@link kubeconfigText}: a user, optionally a namespace and a server other than the cluster's. */
export interface KubeContext {
  readonly user: string
  readonly namespace?: string
  readonly server?: string
}

/**
 * A kubeconfig (JSON, which is YAML) whose clusters trust the cluster's CA by file: one cluster per distinct server
 * (the cluster's URL unless a context names another), the given users and contexts, and `current`.
 */
export const kubeconfigText = (
  cluster: Cluster,
  users: Readonly<Record<string, KubeUser>>,
  contexts: Readonly<Record<string, KubeContext>>,
  current: string,
): string => {
  const servers = [...new Set([cluster.url, ...Object.values(contexts).map((c) => c.server ?? cluster.url)])]
  return JSON.stringify(
    {
      apiVersion: "v1",
      kind: "Config",
      clusters: servers.map((server, i) => ({
        name: `cluster-${i}`,
        cluster: { server, "certificate-authority": cluster.caFile },
      })),
      users: Object.entries(users).map(([name, user]) => ({ name, user })),
      contexts: Object.entries(contexts).map(([name, c]) => ({
        name,
        context: {
          cluster: `cluster-${servers.indexOf(c.server ?? cluster.url)}`,
          user: c.user,
          ...(c.namespace !== undefined ? { namespace: c.namespace } : {}),
        },
      })),
      "current-context": current,
    },
    null,
    2,
  )
}

/** A kubeconfig with one user and one context (`main`, namespace `namespace` if given), written to `file` (0600). */
export const writeKubeconfig = (
  file: string,
  cluster: Cluster,
  user: KubeUser,
  namespace?: string,
): string => {
  fs.writeFileSync(
    file,
    kubeconfigText(cluster, { me: user }, { main: { user: "me", ...(namespace ? { namespace } : {}) } }, "main"),
    { mode: 0o600 },
  )
  return file
}

/** A TCP port on 127.0.0.1 where nothing listens (it was free a moment ago). */
export const closedPort = async (): Promise<number> => {
  const net = await import("node:net")
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolve(port))
    }).on("error", reject)
  })
}
