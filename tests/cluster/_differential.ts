/**
 * The machinery of the differential suite: the two servers (a real kube-apiserver and the development API server,
 * started with the same issuer, audiences, maximum expiration, extension, users, authorization rules and objects), the
 * identities that send requests to both, a raw HTTPS client, a protobuf encoder for the TokenRequest kubectl sends, and
 * the normalization that keeps what must be equal and replaces what legitimately differs (token strings, random UIDs,
 * timestamps, resource versions, the server address, the signing key).
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as https from "node:https"
import * as os from "node:os"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as DevServer from "../../adapters/devserver/mod.ts"
import * as Pki from "../../adapters/devserver/Pki.ts"
import { type Run, run } from "../_support/clis.ts"
import { answer } from "../_support/devserver.ts"
import { type Cluster, startCluster } from "./_cluster.ts"
import { type ClientCertificate, kubectlInput, signClientCertificate } from "./_tokens.ts"

/** The namespace every fixture lives in. */
export const ns = "diff"
/** The static bearer token of user `ci`. */
export const staticToken = "diff-static-token-0123456789"
/** The maximum expiration both servers cap to (2 h). */
export const maxExpirationSeconds = 7200

/** Who sends a request. */
export type IdentityName =
  | "admin"
  | "alice"
  | "bob"
  | "ci"
  | "sa"
  | "node-a"
  | "anonymous"
  | "bad-bearer"
  | "expired-cert"
  | "foreign-sa-token"
  | "deleted-sa-token"

/** The credentials of one identity on one server. */
export type Credentials =
  | { readonly cert: ClientCertificate }
  | { readonly token: string }
  | { readonly none: true }

/** One of the two servers under comparison. */
export interface Side {
  readonly label: "real" | "ours"
  readonly url: string
  readonly caPem: string
  readonly identities: Readonly<Record<IdentityName, Credentials>>
  /** A kubeconfig file per identity (kubectl scenarios). */
  readonly kubeconfigs: Readonly<Record<IdentityName, string>>
  /** Tokens scenario bodies refer to as `{{name}}`: sa, pod, foreign, deleted, static. */
  readonly tokens: Readonly<Record<string, string>>
  /** Values that differ between the servers and are replaced by a placeholder in every compared text. */
  readonly secrets: ReadonlyArray<readonly [string, string]>
}

/** Both servers, ready. */
export interface Pair {
  readonly real: Side
  readonly ours: Side
  readonly cluster: Cluster
  readonly stop: () => Promise<void>
}

const tokenPath = (name: string) => `/api/v1/namespaces/${ns}/serviceaccounts/${name}/token`

const rbac = "rbac.authorization.k8s.io"
/** A Role (in the namespace of the fixtures) or a ClusterRole. */
const role = (kind: "Role" | "ClusterRole", name: string, rules: ReadonlyArray<Record<string, unknown>>) => ({
  apiVersion: `${rbac}/v1`,
  kind,
  metadata: kind === "Role" ? { name, namespace: ns } : { name },
  rules,
})
/** A binding of one subject to a Role (a RoleBinding in the namespace of the fixtures) or a ClusterRole. */
const binding = (
  name: string,
  roleKind: "Role" | "ClusterRole",
  roleName: string,
  subject: { readonly kind: "User" | "Group"; readonly name: string },
) => ({
  apiVersion: `${rbac}/v1`,
  kind: `${roleKind}Binding`,
  metadata: roleKind === "Role" ? { name, namespace: ns } : { name },
  roleRef: { apiGroup: rbac, kind: roleKind, name: roleName },
  subjects: [{ apiGroup: rbac, ...subject }],
})

const fixtures = {
  apiVersion: "v1",
  kind: "List",
  items: [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "builder", namespace: ns } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "other", namespace: ns } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "doomed-sa", namespace: ns } },
    { apiVersion: "v1", kind: "Node", metadata: { name: "node-a" } },
    { apiVersion: "v1", kind: "Node", metadata: { name: "node-b" } },
    { apiVersion: "v1", kind: "Secret", metadata: { name: "creds", namespace: ns }, type: "Opaque" },
    { apiVersion: "v1", kind: "Secret", metadata: { name: "doomed", namespace: ns }, type: "Opaque" },
    role("Role", "builder-tokens", [{
      apiGroups: [""],
      resources: ["serviceaccounts/token"],
      verbs: ["create"],
      resourceNames: ["builder"],
    }]),
    binding("alice-builder-tokens", "Role", "builder-tokens", { kind: "User", name: "alice" }),
    role("Role", "sa-reader", [{ apiGroups: [""], resources: ["serviceaccounts"], verbs: ["get", "list", "watch"] }]),
    binding("alice-sa-reader", "Role", "sa-reader", { kind: "User", name: "alice" }),
    role("ClusterRole", "diff-token-reviewer", [{
      apiGroups: ["authentication.k8s.io"],
      resources: ["tokenreviews"],
      verbs: ["create"],
    }]),
    binding("diff-ci-token-reviewer", "ClusterRole", "diff-token-reviewer", {
      kind: "Group",
      name: "ci",
    }),
  ],
}

const pod = (name: string, serviceAccountName: string, nodeName: string, audience?: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: ns },
  spec: {
    serviceAccountName,
    nodeName,
    containers: [{ name: "app", image: "registry.invalid/app:1" }],
    ...(audience === undefined ? {} : {
      volumes: [{
        name: "audience-token",
        projected: { sources: [{ serviceAccountToken: { audience, path: "token" } }] },
      }],
    }),
  },
})

const uidsOf = (kubeconfig: string): Promise<Record<string, string>> =>
  run("kubectl", [
    "--kubeconfig",
    kubeconfig,
    "get",
    "namespaces,nodes",
    "-o",
    "json",
  ], { timeoutMs: 30_000 }).then(async (cluster_) => {
    const namespaced = await run("kubectl", [
      "--kubeconfig",
      kubeconfig,
      "get",
      "serviceaccounts,pods,secrets",
      "-n",
      ns,
      "-o",
      "json",
    ], { timeoutMs: 30_000 })
    const out: Record<string, string> = {}
    for (const text of [cluster_.stdout, namespaced.stdout]) {
      for (
        const item of (JSON.parse(text) as { items: Array<{ kind: string; metadata: Record<string, string> }> }).items
      ) {
        out[`${item.kind}/${item.metadata.name}`] = item.metadata.uid!
      }
    }
    return out
  })

/** An HTTPS response, body as bytes and (when it parses) JSON. */
export interface Response {
  readonly status: number
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
  readonly text: string
  readonly json: unknown
  readonly bytes: Uint8Array
}

/** One request to one server. */
export interface Request {
  readonly method: string
  readonly path: string
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: Uint8Array
}

/** Sends one request on a fresh connection with the identity's credentials; never rejects on an HTTP status. */
export const send = (side: Side, as: IdentityName, request: Request): Promise<Response> =>
  new Promise((resolve, reject) => {
    const credentials = side.identities[as]
    const req = https.request(`${side.url}${request.path}`, {
      method: request.method,
      ca: side.caPem,
      agent: false,
      ...("cert" in credentials ? { cert: credentials.cert.certPem, key: credentials.cert.keyPem } : {}),
      headers: {
        ...("token" in credentials ? { authorization: `Bearer ${credentials.token}` } : {}),
        ...request.headers,
      },
    }, (res) => answer(res).then(resolve, reject))
    req.on("error", reject)
    if (request.body !== undefined) req.write(request.body)
    req.end()
  })

// --- protobuf -----------------------------------------------------------------------------------------------------

const varint = (n: number): Array<number> => {
  const out: Array<number> = []
  let v = BigInt(n)
  do {
    let byte = Number(v & 0x7fn)
    v >>= 7n
    if (v > 0n) byte |= 0x80
    out.push(byte)
  } while (v > 0n)
  return out
}
const bytesField = (field: number, bytes: Uint8Array | Array<number>): Array<number> => [
  ...varint((field << 3) | 2),
  ...varint(bytes.length),
  ...bytes,
]
const stringField = (field: number, value: string): Array<number> =>
  bytesField(field, [...new TextEncoder().encode(value)])
const intField = (field: number, value: number): Array<number> => [...varint(field << 3), ...varint(value)]

/** A TokenRequest as kubectl encodes it (only the fields that are set). */
export interface ProtoTokenRequest {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly uid?: string }
  readonly spec: {
    readonly audiences?: ReadonlyArray<string>
    readonly expirationSeconds?: number
    readonly boundObjectRef?: {
      readonly kind?: string
      readonly apiVersion?: string
      readonly name?: string
      readonly uid?: string
    }
  }
}

/** The Kubernetes protobuf envelope (`k8s\0` + runtime.Unknown) of a TokenRequest. */
export const protobufTokenRequest = (request: ProtoTokenRequest): Uint8Array => {
  const meta = request.metadata ?? {}
  const metadata = [
    ...(meta.name ? stringField(1, meta.name) : []),
    ...(meta.namespace ? stringField(3, meta.namespace) : []),
    ...(meta.uid ? stringField(5, meta.uid) : []),
  ]
  const ref = request.spec.boundObjectRef
  const refBytes = ref === undefined ? undefined : [
    ...(ref.kind ? stringField(1, ref.kind) : []),
    ...(ref.apiVersion ? stringField(2, ref.apiVersion) : []),
    ...(ref.name ? stringField(3, ref.name) : []),
    ...(ref.uid ? stringField(4, ref.uid) : []),
  ]
  const spec = [
    ...(request.spec.audiences ?? []).flatMap((a) => stringField(1, a)),
    ...(refBytes === undefined ? [] : bytesField(3, refBytes)),
    ...(request.spec.expirationSeconds === undefined ? [] : intField(4, request.spec.expirationSeconds)),
  ]
  const raw = [...bytesField(1, metadata), ...bytesField(2, spec)]
  const unknown = [
    ...bytesField(1, [...stringField(1, "authentication.k8s.io/v1"), ...stringField(2, "TokenRequest")]),
    ...bytesField(2, raw),
    ...stringField(3, ""),
    ...stringField(4, ""),
  ]
  return new Uint8Array([0x6b, 0x38, 0x73, 0x00, ...unknown])
}

// --- normalization ------------------------------------------------------------------------------------------------

const jwtPattern = /^eyJ[\w-]*\.[\w-]+\.[\w-]+$/
const jwtAnywhere = /eyJ[\w-]*\.[\w-]+\.[\w-]+/g
const timePattern = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/
const timeAnywhere = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)/g
const uuidAnywhere = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g

/** Replaces what legitimately differs in a text: the side's own values, tokens, timestamps, random UUIDs. */
export const normalizeText = (side: Side, text: string, fixtureUids: ReadonlyMap<string, string>): string => {
  let out = text
  for (const [value, placeholder] of side.secrets) out = out.split(value).join(placeholder)
  out = out.replace(jwtAnywhere, "<jwt>").replace(timeAnywhere, "<time>")
    .replace(/X509SHA256=[0-9a-f]{64}/g, "X509SHA256=<fingerprint>")
  return out.replace(uuidAnywhere, (uuid) => fixtureUids.get(uuid) ?? "<uuid>")
}

const typeOf = (value: unknown): string =>
  Array.isArray(value) ? `array<${[...new Set(value.map(typeOf))].join("|")}>` : value === null ? "null" : typeof value

const decodeJwt = (token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } => {
  const [h, c] = token.split(".")
  const part = (s: string) => JSON.parse(Buffer.from(s, "base64url").toString("utf8")) as Record<string, unknown>
  return { header: part(h!), claims: part(c!) }
}

/**
 * A JWT compared by shape: the header (key id replaced), every claim's key and type, the values of the claims that do
 * not vary (iss, sub, aud, the `kubernetes.io` block) and the relations between iat, nbf, exp and warnafter.
 */
export const jwtView = (side: Side, token: string, fixtureUids: ReadonlyMap<string, string>): unknown => {
  const { header, claims } = decodeJwt(token)
  const iat = claims.iat as number
  const k8s = claims["kubernetes.io"] as Record<string, unknown> | undefined
  const rel = (v: unknown) => typeof v === "number" ? v - iat : v
  return {
    header: { ...header, kid: typeof header.kid === "string" && header.kid !== "" ? "<kid>" : header.kid },
    claimTypes: Object.fromEntries(Object.keys(claims).sort().map((k) => [k, typeOf(claims[k])])),
    iss: claims.iss,
    sub: claims.sub,
    aud: claims.aud,
    "exp-iat": rel(claims.exp),
    "nbf-iat": rel(claims.nbf),
    "kubernetes.io": k8s === undefined ? undefined : normalizeJson(side, {
      ...k8s,
      ...(k8s.warnafter === undefined ? {} : { warnafter: `iat+${rel(k8s.warnafter)}` }),
    }, fixtureUids),
  }
}

/**
 * The fixtures were made by `kubectl create` on the real server and loaded from the state on the development server:
 * the managedFields entry of that creation is not part of the comparison.
 */
const fromFixtures = (entry: unknown): boolean => (entry as { manager?: unknown } | null)?.manager !== "kubectl-create"

/** Normalizes a JSON document: JWTs shown by shape, the side's own values, times, random UUIDs, resource versions. */
export const normalizeJson = (side: Side, value: unknown, fixtureUids: ReadonlyMap<string, string>): unknown => {
  if (typeof value === "string") {
    if (jwtPattern.test(value)) return { jwt: jwtView(side, value, fixtureUids) }
    if (timePattern.test(value)) return "<time>"
    return normalizeText(side, value, fixtureUids)
  }
  if (Array.isArray(value)) return value.map((v) => normalizeJson(side, v, fixtureUids))
  if (value !== null && typeof value === "object" && typeof (value as { allowed?: unknown }).allowed === "boolean") {
    // an access review's status: its reason names the RBAC binding that allowed it, which the development server's
    // rules do not have; whether there is a reason, and the decision, are compared
    const status = value as { reason?: unknown }
    if (typeof status.reason === "string") return { ...status, reason: "<reason>" }
  }
  if (value !== null && typeof value === "object") {
    // a JSON Web Key: its id and key material differ, its type, use and algorithm must not
    const isKey = "kty" in value
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]): [string, unknown] =>
        k === "managedFields" && Array.isArray(v) ? [k, v.filter(fromFixtures)] : [k, v]
      ).filter(([k, v]) => !(k === "managedFields" && Array.isArray(v) && v.length === 0)).map(([k, v]) => [
        k,
        k === "resourceVersion" && typeof v === "string" ? "<rv>" : k === "cells" && Array.isArray(v)
          // a Table row: its Age cell depends on when each server created the fixture
          ? v.map((c) =>
            typeof c === "string" && /^(\d+[smhd])+$/.test(c) ? "<age>" : normalizeJson(side, c, fixtureUids)
          )
          : isKey && ["kid", "n", "x", "y"].includes(k) && typeof v === "string"
          ? `<${k}>`
          : normalizeJson(side, v, fixtureUids),
      ]),
    )
  }
  return value
}

/**
 * How a TokenRequest's lifetime shows: the token's `exp - iat`, and whether `status.expirationTimestamp` lies within
 * five seconds before `exp`. The real server reads its clock twice (once for the status, once more for the claims),
 * so a second boundary between the reads makes the status one second earlier than `exp` now and then; comparing
 * the status against `iat` exactly made the suite fail on that race.
 */
export const tokenLifetime = (
  json: unknown,
): { "exp - iat": number; "status within 5 s before exp": boolean } | undefined => {
  const status = (json as { status?: { token?: string; expirationTimestamp?: string } } | undefined)?.status
  if (typeof status?.token !== "string" || typeof status.expirationTimestamp !== "string") return undefined
  const { claims } = decodeJwt(status.token)
  const exp = claims.exp as number
  const early = exp - Date.parse(status.expirationTimestamp) / 1000
  return { "exp - iat": exp - (claims.iat as number), "status within 5 s before exp": early >= 0 && early <= 5 }
}

/** The client certificates of the users, signed by one server's CA. */
const userCerts = async (caCertPem: string, caKeyPem: string) => {
  const [admin, alice, bob, node, expired] = await Promise.all([
    signClientCertificate(caCertPem, caKeyPem, "kubernetes-admin", { organizations: ["system:masters"] }),
    signClientCertificate(caCertPem, caKeyPem, "alice", { organizations: ["team"] }),
    signClientCertificate(caCertPem, caKeyPem, "bob"),
    signClientCertificate(caCertPem, caKeyPem, "system:node:node-a", { organizations: ["system:nodes"] }),
    signClientCertificate(caCertPem, caKeyPem, "alice", {
      organizations: ["team"],
      notBefore: new Date(Date.now() - 48 * 3600_000),
      notAfter: new Date(Date.now() - 24 * 3600_000),
    }),
  ])
  return { admin, alice, bob, node, expired }
}

// --- the two servers ----------------------------------------------------------------------------------------------

const kubeconfigFor = (
  dir: string,
  name: string,
  url: string,
  caFile: string,
  credentials: Credentials,
): string => {
  const user: Record<string, string> = {}
  if ("cert" in credentials) {
    fs.writeFileSync(path.join(dir, `${name}.crt`), credentials.cert.certPem)
    fs.writeFileSync(path.join(dir, `${name}.key`), credentials.cert.keyPem, { mode: 0o600 })
    user["client-certificate"] = path.join(dir, `${name}.crt`)
    user["client-key"] = path.join(dir, `${name}.key`)
  } else if ("token" in credentials) {
    user.token = credentials.token
  }
  const file = path.join(dir, `${name}.kubeconfig`)
  fs.writeFileSync(
    file,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "server", cluster: { server: url, "certificate-authority": caFile } }],
      users: [{ name: "user", user }],
      contexts: [{ name: "main", context: { cluster: "server", user: "user", namespace: ns } }],
      "current-context": "main",
    }),
    { mode: 0o600 },
  )
  return file
}

const issue = async (
  side: Omit<Side, "kubeconfigs" | "secrets" | "tokens">,
  name: string,
  spec: Record<string, unknown> = {},
): Promise<string> => {
  const body = new TextEncoder().encode(
    JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec }),
  )
  const answer = await send(side as Side, "admin", {
    method: "POST",
    path: tokenPath(name),
    headers: { "content-type": "application/json", accept: "application/json" },
    body,
  })
  if (answer.status !== 201) throw new Error(`${side.label}: token for ${name}: ${answer.status} ${answer.text}`)
  return (answer.json as { status: { token: string } }).status.token
}

/** Creates objects as the cluster admin (`kubectl create`: no last-applied annotation, unlike `apply`). */
const create = async (cluster: Cluster, manifests: string): Promise<void> => {
  const created = await kubectlInput(cluster, manifests, "create", "-f", "-")
  if (created.code !== 0) throw new Error(`kubectl create: ${created.stderr}`)
}

/** The UIDs of the fixtures (the same on both servers), by UID: `<Kind/name>`. */
export let fixtureUids: ReadonlyMap<string, string> = new Map()

/**
 * Starts a real kube-apiserver (2 h maximum expiration, extension on, a static token file) and a development API server
 * with the same CA, issuer, audiences, limits, objects (same UIDs), users and rules; writes a kubeconfig per identity.
 */
export const startPair = async (): Promise<Pair> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sa-token-diff-"))
  const tokenFile = path.join(dir, "tokens.csv")
  fs.writeFileSync(tokenFile, `${staticToken},ci,ci-uid,"ci,auditors"\n`)
  const cluster = await startCluster({
    maxTokenExpiration: "2h",
    extendTokenExpiration: true,
    // the development server signs ES256 with a P-256 key; the real one is given the same kind of key
    serviceAccountKey: "ecdsa",
    apiserverArgs: [`--token-auth-file=${tokenFile}`],
  })
  await create(cluster, JSON.stringify(fixtures))
  await create(
    cluster,
    JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: [
        pod("web", "builder", "node-a", "vault"),
        pod("far", "builder", "node-b"),
        pod("stray", "other", "node-a"),
      ],
    }),
  )
  const uids = await uidsOf(cluster.kubeconfig)
  fixtureUids = new Map(Object.entries(uids).map(([k, v]) => [v, `<uid:${k}>`]))
  const uid = (key: string) => {
    const value = uids[key]
    if (value === undefined) throw new Error(`no UID for ${key}`)
    return value
  }
  const state: DevServer.StateInput = {
    namespaces: [
      { name: "default", uid: uid("Namespace/default") },
      { name: ns, uid: uid(`Namespace/${ns}`) },
    ],
    serviceAccounts: ["builder", "other", "doomed-sa", "default"].map((name) => ({
      namespace: ns,
      name,
      uid: uid(`ServiceAccount/${name}`),
    })),
    pods: [
      // the audience of the pod's projected token volume, which a node may ask for
      {
        namespace: ns,
        name: "web",
        uid: uid("Pod/web"),
        serviceAccountName: "builder",
        nodeName: "node-a",
        tokenAudiences: ["vault"],
      },
      { namespace: ns, name: "far", uid: uid("Pod/far"), serviceAccountName: "builder", nodeName: "node-b" },
      { namespace: ns, name: "stray", uid: uid("Pod/stray"), serviceAccountName: "other", nodeName: "node-a" },
    ],
    secrets: ["creds", "doomed"].map((name) => ({ namespace: ns, name, uid: uid(`Secret/${name}`) })),
    nodes: ["node-a", "node-b"].map((name) => ({ name, uid: uid(`Node/${name}`) })),
    staticTokens: [{ token: staticToken, user: "ci", uid: "ci-uid", groups: ["ci", "auditors"] }],
    rules: [
      {
        users: ["alice"],
        verbs: ["create"],
        resources: ["serviceaccounts/token"],
        namespaces: [ns],
        names: ["builder"],
      },
      { users: ["alice"], verbs: ["get", "list", "watch"], resources: ["serviceaccounts"], namespaces: [ns] },
      { groups: ["ci"], verbs: ["create"], resources: ["tokenreviews"] },
    ],
  }
  const devCa = await Pki.makeCaAsync("devserver-ca")
  const scope = Effect.runSync(Scope.make())
  const dev = await Effect.runPromise(Scope.extend(
    DevServer.start({
      ca: { certPem: devCa.certPem, keyPem: devCa.keyPem },
      maxTokenExpirationSeconds: maxExpirationSeconds,
      extendTokenExpiration: true,
      state,
    }),
    scope,
  ))

  const realCerts = await userCerts(fs.readFileSync(cluster.caFile, "utf8"), fs.readFileSync(cluster.caKeyFile, "utf8"))
  const oursCerts = await userCerts(dev.caPem, devCa.keyPem)
  const base = (label: "real" | "ours", url: string, caPem: string, certs: Awaited<ReturnType<typeof userCerts>>) => ({
    label,
    url,
    caPem,
    identities: {
      admin: { cert: certs.admin },
      alice: { cert: certs.alice },
      bob: { cert: certs.bob },
      ci: { token: staticToken },
      "node-a": { cert: certs.node },
      anonymous: { none: true },
      "bad-bearer": { token: "not-a-valid-token" },
      "expired-cert": { cert: certs.expired },
      sa: { none: true },
      "foreign-sa-token": { none: true },
      "deleted-sa-token": { none: true },
    } as Record<IdentityName, Credentials>,
  })
  const realBase = base("real", cluster.url, fs.readFileSync(cluster.caFile, "utf8"), realCerts)
  const oursBase = base("ours", dev.url, dev.caPem, oursCerts)
  // Tokens of service account `builder`, and of `doomed-sa` whose service account is then deleted on both servers.
  const podRef = { boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "web" } }
  const [realSa, oursSa, realDoomed, oursDoomed, realPod, oursPod] = await Promise.all([
    issue(realBase, "builder"),
    issue(oursBase, "builder"),
    issue(realBase, "doomed-sa"),
    issue(oursBase, "doomed-sa"),
    issue(realBase, "builder", podRef),
    issue(oursBase, "builder", podRef),
  ])
  const deleted = await run("kubectl", [
    "--kubeconfig",
    cluster.kubeconfig,
    "delete",
    "serviceaccount",
    "doomed-sa",
    "-n",
    ns,
    "--wait",
  ], { timeoutMs: 30_000 })
  if (deleted.code !== 0) throw new Error(`delete doomed-sa: ${deleted.stderr}`)
  dev.state.deleteServiceAccount(ns, "doomed-sa")
  realBase.identities.sa = { token: realSa }
  oursBase.identities.sa = { token: oursSa }
  realBase.identities["foreign-sa-token"] = { token: oursSa }
  oursBase.identities["foreign-sa-token"] = { token: realSa }
  realBase.identities["deleted-sa-token"] = { token: realDoomed }
  oursBase.identities["deleted-sa-token"] = { token: oursDoomed }

  const withConfigs = (side: typeof realBase, tokens: Record<string, string>): Side => {
    const sideDir = fs.mkdtempSync(path.join(dir, `${side.label}-`))
    const caFile = path.join(sideDir, "ca.crt")
    fs.writeFileSync(caFile, side.caPem)
    const host = side.url.replace(/^https:\/\//, "")
    return {
      ...side,
      tokens: { ...tokens, static: staticToken },
      kubeconfigs: Object.fromEntries(
        Object.entries(side.identities).map(([name, credentials]) => [
          name,
          kubeconfigFor(sideDir, name, side.url, caFile, credentials),
        ]),
      ) as Record<IdentityName, string>,
      secrets: [[side.url, "<server>"], [host, "<host:port>"], [sideDir, "<dir>"]],
    }
  }
  const real = withConfigs(realBase, { sa: realSa, pod: realPod, foreign: oursSa, deleted: realDoomed })
  const ours = withConfigs(oursBase, { sa: oursSa, pod: oursPod, foreign: realSa, deleted: oursDoomed })
  return {
    real,
    ours,
    cluster,
    stop: async () => {
      await Effect.runPromise(Scope.close(scope, Exit.void))
      await cluster.stop()
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Runs kubectl with an identity's kubeconfig for one side (stdin optional); never rejects. */
export const kubectlAs = (side: Side, as: IdentityName, args: ReadonlyArray<string>, input?: string): Promise<Run> =>
  new Promise((resolve) => {
    const child = execFile(
      "kubectl",
      ["--kubeconfig", side.kubeconfigs[as], ...args],
      { timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr }),
    )
    child.stdin!.end(input ?? "")
  })
