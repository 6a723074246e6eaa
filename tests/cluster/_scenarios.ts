/**
 * The differential suite's table: each scenario is a request (or a kubectl command) and the identity that sends it,
 * run against the real kube-apiserver and the development API server started with the same settings and fixtures.
 * Bodies may name per-server tokens as `{{sa}}`, `{{pod}}`, `{{foreign}}`, `{{deleted}}` and `{{static}}`.
 */
import type { IdentityName, ProtoTokenRequest } from "./_differential.ts"
import { ns } from "./_differential.ts"

/** A request body. */
export type Body =
  | { readonly json: unknown }
  | { readonly protobuf: ProtoTokenRequest }
  | { readonly raw: string; readonly contentType: string }

/** How a response is compared (everything is normalized first; see `_differential.ts`). */
export type View =
  /** status, Content-Type, warnings and the whole body (the default) */
  | "full"
  /** discovery documents compared on the resources and groups the development server serves (see the table's note) */
  | "discovery"
  /** `/version`: keys and value types (the development server imitates a fixed version) */
  | "version"
  /** status and Content-Type only */
  | "head"

/** One HTTP scenario. */
export interface HttpScenario {
  readonly kind: "http"
  readonly name: string
  readonly as: IdentityName
  readonly method: string
  readonly path: string
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: Body
  readonly view?: View
  /** Deliberately not served: the reason, shown in the table. */
  readonly outOfScope?: string
}

/** One kubectl command, compared by exit code, stdout and stderr (normalized). */
export interface KubectlScenario {
  readonly kind: "kubectl"
  readonly name: string
  readonly as: IdentityName
  readonly args: ReadonlyArray<string>
  readonly stdin?: string
  readonly outOfScope?: string
}

export type Scenario = HttpScenario | KubectlScenario

const token = (name: string) => `/api/v1/namespaces/${ns}/serviceaccounts/${name}/token`
const tr = (spec: Record<string, unknown>, metadata?: Record<string, unknown>) => ({
  json: {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenRequest",
    ...(metadata === undefined ? {} : { metadata }),
    spec,
  },
})
const post = (
  name: string,
  as: IdentityName,
  path: string,
  body?: Body,
  extra: Partial<HttpScenario> = {},
): HttpScenario => ({ kind: "http", name, as, method: "POST", path, ...(body ? { body } : {}), ...extra })
const get = (name: string, as: IdentityName, path: string, extra: Partial<HttpScenario> = {}): HttpScenario => ({
  kind: "http",
  name,
  as,
  method: "GET",
  path,
  ...extra,
})
/** A kubectl scenario; `args` as one string is split on spaces. */
const kubectl = (
  name: string,
  as: IdentityName,
  args: string | ReadonlyArray<string>,
  extra: Partial<KubectlScenario> = {},
): KubectlScenario => ({ kind: "kubectl", name, as, args: typeof args === "string" ? args.split(" ") : args, ...extra })
const ref = (kind: string, name: string, extra: Record<string, string> = {}) => ({
  boundObjectRef: { kind, apiVersion: "v1", name, ...extra },
})
const uid = (key: string) => `{{uid:${key}}}`
const wrongUid = "00000000-0000-4000-8000-000000000000"
const review = (tokenRef: string, audiences?: ReadonlyArray<string>) => ({
  json: {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenReview",
    spec: { token: tokenRef, ...(audiences === undefined ? {} : { audiences }) },
  },
})
const ssr = { json: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" } }
const ssar = (verb: string, resource: string, namespace?: string, subresource?: string, name?: string) => ({
  json: {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SelfSubjectAccessReview",
    spec: {
      resourceAttributes: {
        verb,
        resource,
        ...(subresource ? { subresource } : {}),
        ...(namespace ? { namespace } : {}),
        ...(name ? { name } : {}),
      },
    },
  },
})
const kubectlAccept = "application/vnd.kubernetes.protobuf,application/json"
const aggregated =
  "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
const notServed =
  "an API the development server does not serve: it answers 404 `the server could not find the requested resource`, as a real server does for an API it does not serve"
const tokenReviews = "/apis/authentication.k8s.io/v1/tokenreviews"
const ssrPath = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
const ssarPath = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"

/** The scenarios, in the order of the table. */
export const scenarios: ReadonlyArray<Scenario> = [
  // TokenRequest: defaults, validation and the order of the checks
  post("TokenRequest with an empty spec (defaults)", "admin", token("builder"), tr({})),
  post(
    "TokenRequest with audiences and 1200 s",
    "admin",
    token("builder"),
    tr({ audiences: ["vault", "api"], expirationSeconds: 1200 }),
  ),
  post("TokenRequest with an empty audience list", "admin", token("builder"), tr({ audiences: [] })),
  post("TokenRequest of exactly 600 s", "admin", token("builder"), tr({ expirationSeconds: 600 })),
  post("TokenRequest of 599 s (too short)", "admin", token("builder"), tr({ expirationSeconds: 599 })),
  post("TokenRequest of 10 s (too short)", "admin", token("builder"), tr({ expirationSeconds: 10 })),
  post("TokenRequest of 0 s", "admin", token("builder"), tr({ expirationSeconds: 0 })),
  post("TokenRequest of -5 s", "admin", token("builder"), tr({ expirationSeconds: -5 })),
  post("TokenRequest longer than 2^32 s", "admin", token("builder"), tr({ expirationSeconds: 4294967297 })),
  post("TokenRequest of exactly the maximum (7200 s)", "admin", token("builder"), tr({ expirationSeconds: 7200 })),
  post(
    "TokenRequest of 3 h, capped to 2 h with a warning",
    "admin",
    token("builder"),
    tr({ expirationSeconds: 10800 }),
  ),
  post("TokenRequest of 1200.5 s (not an integer)", "admin", token("builder"), tr({ expirationSeconds: 1200.5 })),
  post("TokenRequest with expirationSeconds as a string", "admin", token("builder"), tr({ expirationSeconds: "1200" })),
  post("TokenRequest with audiences as a string", "admin", token("builder"), tr({ audiences: "vault" })),
  post("TokenRequest whose metadata.name differs from the URL", "admin", token("builder"), tr({}, { name: "other" })),
  post("TokenRequest whose metadata.name matches the URL", "admin", token("builder"), tr({}, { name: "builder" })),
  post("TokenRequest whose metadata.namespace differs", "admin", token("builder"), tr({}, { namespace: "default" })),
  post(
    "TokenRequest with a wrong service-account UID",
    "admin",
    token("builder"),
    tr({}, { uid: wrongUid }),
  ),
  post(
    "TokenRequest with the right service-account UID",
    "admin",
    token("builder"),
    tr({}, { uid: uid("ServiceAccount/builder") }),
  ),
  post("TokenRequest with expirationSeconds null", "admin", token("builder"), tr({ expirationSeconds: null })),
  post("TokenRequest with an empty boundObjectRef", "admin", token("builder"), tr({ boundObjectRef: {} })),
  post("TokenRequest with an empty-string audience", "admin", token("builder"), tr({ audiences: [""] })),
  post("TokenRequest with a charset in the Content-Type", "admin", token("builder"), {
    raw: JSON.stringify(tr({ expirationSeconds: 700 }).json),
    contentType: "application/json; charset=utf-8",
  }),
  post("TokenRequest with ?dryRun=All", "admin", `${token("builder")}?dryRun=All`, tr({})),
  post("TokenRequest without a body", "admin", token("builder")),
  post("TokenRequest for a missing service account", "admin", token("ghost"), tr({})),
  post(
    "TokenRequest in a missing namespace",
    "admin",
    "/api/v1/namespaces/nowhere/serviceaccounts/builder/token",
    tr({}),
  ),
  post("order: missing service account and 10 s", "admin", token("ghost"), tr({ expirationSeconds: 10 })),
  post("order: name mismatch and 10 s", "admin", token("builder"), tr({ expirationSeconds: 10 }, { name: "other" })),
  post(
    "order: wrong UID and 10 s",
    "admin",
    token("builder"),
    tr({ expirationSeconds: 10 }, { uid: wrongUid }),
  ),
  post(
    "order: 10 s and a missing bound pod",
    "admin",
    token("builder"),
    tr({ expirationSeconds: 10, ...ref("Pod", "ghost") }),
  ),
  post("order: missing service account and a missing bound pod", "admin", token("ghost"), tr(ref("Pod", "ghost"))),
  get("GET on the token subresource", "admin", token("builder")),
  {
    kind: "http",
    name: "PUT on the token subresource",
    as: "admin",
    method: "PUT",
    path: token("builder"),
    body: tr({}),
  },
  { kind: "http", name: "DELETE on the token subresource", as: "admin", method: "DELETE", path: token("builder") },
  // binding
  // each kind of object: the object, a missing one, the object with a wrong UID
  ...([["Pod", "web"], ["Secret", "creds"], ["Node", "node-a"]] as const).flatMap(([kind, name]) => [
    post(`bound to ${kind} ${name}`, "admin", token("builder"), tr(ref(kind, name))),
    post(`bound to a missing ${kind}`, "admin", token("builder"), tr(ref(kind, "ghost"))),
    post(
      `bound to ${kind} ${name} with a wrong UID`,
      "admin",
      token("builder"),
      tr(ref(kind, name, { uid: wrongUid })),
    ),
  ]),
  post("bound to Pod web with its UID", "admin", token("builder"), tr(ref("Pod", "web", { uid: uid("Pod/web") }))),
  post("bound to a Pod of another service account", "admin", token("builder"), tr(ref("Pod", "stray"))),
  post("bound to a ConfigMap", "admin", token("builder"), tr(ref("ConfigMap", "settings"))),
  post(
    "bound to an apps/v1 Deployment",
    "admin",
    token("builder"),
    tr({ boundObjectRef: { kind: "Deployment", apiVersion: "apps/v1", name: "web" } }),
  ),
  post(
    "bound to a Pod without apiVersion",
    "admin",
    token("builder"),
    tr({ boundObjectRef: { kind: "Pod", name: "web" } }),
  ),
  // capping and the 3607-second extension
  post("3607 s unbound: not extended", "admin", token("builder"), tr({ expirationSeconds: 3607 })),
  post(
    "3607 s bound to a Pod: extended, warnafter",
    "admin",
    token("builder"),
    tr({ expirationSeconds: 3607, ...ref("Pod", "web") }),
  ),
  post(
    "3607 s bound to a Pod with a foreign audience: not extended",
    "admin",
    token("builder"),
    tr({ expirationSeconds: 3607, audiences: ["vault"], ...ref("Pod", "web") }),
  ),
  post(
    "3607 s bound to a Secret: not extended",
    "admin",
    token("builder"),
    tr({ expirationSeconds: 3607, ...ref("Secret", "creds") }),
  ),
  post(
    "3608 s bound to a Pod: not extended",
    "admin",
    token("builder"),
    tr({ expirationSeconds: 3608, ...ref("Pod", "web") }),
  ),
  post(
    "3 h bound to a Pod: capped, not extended",
    "admin",
    token("builder"),
    tr({ expirationSeconds: 10800, ...ref("Pod", "web") }),
  ),
  // protobuf and other bodies
  post(
    "protobuf TokenRequest, no fields (kubectl create token)",
    "admin",
    token("builder"),
    { protobuf: { spec: {} } },
    { headers: { accept: "application/json" } },
  ),
  post("protobuf TokenRequest with audience and 600 s", "admin", token("builder"), {
    protobuf: { spec: { audiences: ["vault"], expirationSeconds: 600 } },
  }, { headers: { accept: "application/json" } }),
  post("protobuf TokenRequest bound to Pod web", "admin", token("builder"), {
    protobuf: { spec: { boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "web" } } },
  }, { headers: { accept: "application/json" } }),
  post("protobuf TokenRequest of 10 s", "admin", token("builder"), { protobuf: { spec: { expirationSeconds: 10 } } }, {
    headers: { accept: "application/json" },
  }),
  // protobuf replies, where the client's Accept prefers them
  post("protobuf TokenRequest, kubectl's Accept header", "admin", token("builder"), { protobuf: { spec: {} } }, {
    headers: { accept: kubectlAccept },
  }),
  post("protobuf TokenRequest bound to Pod web, kubectl's Accept", "admin", token("builder"), {
    protobuf: {
      spec: {
        audiences: ["vault"],
        expirationSeconds: 600,
        boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "web" },
      },
    },
  }, { headers: { accept: kubectlAccept } }),
  post("protobuf TokenRequest, Accept protobuf then */*", "admin", token("builder"), { protobuf: { spec: {} } }, {
    headers: { accept: "application/vnd.kubernetes.protobuf, */*" },
  }),
  post("protobuf TokenRequest of 10 s, kubectl's Accept (422 Status)", "admin", token("builder"), {
    protobuf: { spec: { expirationSeconds: 10 } },
  }, { headers: { accept: kubectlAccept } }),
  post("protobuf TokenRequest by bob, kubectl's Accept (403 Status)", "bob", token("builder"), {
    protobuf: { spec: {} },
  }, { headers: { accept: kubectlAccept } }),
  post("TokenRequest for a missing account, kubectl's Accept (404 Status)", "admin", token("ghost"), tr({}), {
    headers: { accept: kubectlAccept },
  }),
  get("a malformed bearer token, kubectl's Accept (401 Status)", "bad-bearer", `/api/v1/namespaces/${ns}/pods`, {
    headers: { accept: kubectlAccept },
  }),
  post("SelfSubjectReview, kubectl's Accept", "alice", ssrPath, ssr, { headers: { accept: kubectlAccept } }),
  post("SelfSubjectReview as the static token, kubectl's Accept", "ci", ssrPath, ssr, {
    headers: { accept: kubectlAccept },
  }),
  post(
    "SelfSubjectAccessReview, kubectl's Accept",
    "alice",
    ssarPath,
    ssar("create", "serviceaccounts", ns, "token", "builder"),
    {
      headers: { accept: kubectlAccept },
    },
  ),
  post("TokenReview, kubectl's Accept", "ci", tokenReviews, review("{{sa}}"), { headers: { accept: kubectlAccept } }),
  post("TokenReview of garbage, kubectl's Accept", "ci", tokenReviews, review("garbage"), {
    headers: { accept: kubectlAccept },
  }),
  get(
    "alice gets service account builder, kubectl's Accept",
    "alice",
    `/api/v1/namespaces/${ns}/serviceaccounts/builder`,
    {
      headers: { accept: kubectlAccept },
    },
  ),
  get("alice lists service accounts, kubectl's Accept", "alice", `/api/v1/namespaces/${ns}/serviceaccounts`, {
    headers: { accept: kubectlAccept },
  }),
  get("admin gets namespace diff, kubectl's Accept", "admin", `/api/v1/namespaces/${ns}`, {
    headers: { accept: kubectlAccept },
  }),
  get("admin lists secrets, kubectl's Accept", "admin", `/api/v1/namespaces/${ns}/secrets`, {
    headers: { accept: kubectlAccept },
  }),
  get(
    "watch service accounts, kubectl's Accept",
    "admin",
    `/api/v1/namespaces/${ns}/serviceaccounts?watch=true&timeoutSeconds=1&fieldSelector=metadata.name%3Dbuilder`,
    { headers: { accept: kubectlAccept } },
  ),
  get("/api, kubectl's Accept", "alice", "/api", { headers: { accept: kubectlAccept } }),
  get("/api/v1, kubectl's Accept", "alice", "/api/v1", { headers: { accept: kubectlAccept }, view: "discovery" }),
  get("/apis, kubectl's Accept", "alice", "/apis", { headers: { accept: kubectlAccept }, view: "discovery" }),
  get("/apis/authentication.k8s.io, kubectl's Accept", "alice", "/apis/authentication.k8s.io", {
    headers: { accept: kubectlAccept },
  }),
  get("/apis/authorization.k8s.io/v1, kubectl's Accept", "alice", "/apis/authorization.k8s.io/v1", {
    headers: { accept: kubectlAccept },
    view: "discovery",
  }),
  post("YAML TokenRequest body", "admin", token("builder"), {
    raw: `apiVersion: authentication.k8s.io/v1\nkind: TokenRequest\nspec:\n  expirationSeconds: 1200\n`,
    contentType: "application/yaml",
  }),
  post("TokenRequest body sent as text/plain", "admin", token("builder"), {
    raw: JSON.stringify(tr({}).json),
    contentType: "text/plain",
  }),
  post("malformed JSON body", "admin", token("builder"), { raw: '{"spec": {', contentType: "application/json" }),
  post("a TokenReview sent to the token subresource", "admin", token("builder"), review("x")),
  post("TokenRequest with apiVersion v1", "admin", token("builder"), {
    json: { apiVersion: "v1", kind: "TokenRequest", spec: {} },
  }),
  post("empty JSON object body", "admin", token("builder"), { raw: "{}", contentType: "application/json" }),
  // authentication and authorization of TokenRequest
  post("alice (RBAC allows builder) asks for builder", "alice", token("builder"), tr({})),
  post("alice asks for other (RBAC denies)", "alice", token("other"), tr({})),
  post("alice asks in namespace default", "alice", "/api/v1/namespaces/default/serviceaccounts/default/token", tr({})),
  post("bob (no rules) asks for builder", "bob", token("builder"), tr({})),
  post("static token ci asks for builder", "ci", token("builder"), tr({})),
  post("a service-account token asks for builder", "sa", token("builder"), tr({})),
  post("anonymous asks for builder", "anonymous", token("builder"), tr({})),
  post("a malformed bearer token asks for builder", "bad-bearer", token("builder"), tr({})),
  post("an expired client certificate asks for builder", "expired-cert", token("builder"), tr({})),
  post("the other server's token asks for builder", "foreign-sa-token", token("builder"), tr({})),
  post("a deleted service account's token asks for builder", "deleted-sa-token", token("builder"), tr({})),
  // the Node authorizer and NodeRestriction
  post(
    "node-a: builder bound to its pod web",
    "node-a",
    token("builder"),
    tr(ref("Pod", "web", { uid: uid("Pod/web") })),
  ),
  post(
    "node-a: builder bound to web, audience vault (in the pod spec)",
    "node-a",
    token("builder"),
    tr({ audiences: ["vault"], ...ref("Pod", "web", { uid: uid("Pod/web") }) }),
  ),
  post(
    "node-a: builder bound to web, audience elsewhere (not in the pod spec)",
    "node-a",
    token("builder"),
    tr({ audiences: ["elsewhere"], ...ref("Pod", "web", { uid: uid("Pod/web") }) }),
  ),
  post("node-a: builder, not bound", "node-a", token("builder"), tr({})),
  post("node-a: builder bound to web without a UID", "node-a", token("builder"), tr(ref("Pod", "web"))),
  post(
    "node-a: builder bound to far (on node-b)",
    "node-a",
    token("builder"),
    tr(ref("Pod", "far", { uid: uid("Pod/far") })),
  ),
  post(
    "node-a: other bound to stray (on node-a)",
    "node-a",
    token("other"),
    tr(ref("Pod", "stray", { uid: uid("Pod/stray") })),
  ),
  post("node-a: default (no pod on the node)", "node-a", token("default"), tr({})),
  // reads
  get("alice gets service account builder", "alice", `/api/v1/namespaces/${ns}/serviceaccounts/builder`),
  get("bob gets service account builder", "bob", `/api/v1/namespaces/${ns}/serviceaccounts/builder`),
  get("alice gets a service account in default", "alice", "/api/v1/namespaces/default/serviceaccounts/default"),
  get("alice lists service accounts", "alice", `/api/v1/namespaces/${ns}/serviceaccounts`),
  get("alice lists pods", "alice", `/api/v1/namespaces/${ns}/pods`),
  get("admin gets a missing service account", "admin", `/api/v1/namespaces/${ns}/serviceaccounts/ghost`),
  get("admin gets secret creds", "admin", `/api/v1/namespaces/${ns}/secrets/creds`),
  get("admin gets namespace diff", "admin", `/api/v1/namespaces/${ns}`),
  get(
    "watch service accounts",
    "admin",
    `/api/v1/namespaces/${ns}/serviceaccounts?watch=true&timeoutSeconds=1&fieldSelector=metadata.name%3Dbuilder`,
  ),
  get("service accounts as a Table", "alice", `/api/v1/namespaces/${ns}/serviceaccounts`, {
    headers: { accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json" },
  }),
  get("configmaps (not served)", "admin", `/api/v1/namespaces/${ns}/configmaps`, {
    view: "head",
    outOfScope: notServed,
  }),
  get("apps/v1 (not served)", "admin", "/apis/apps/v1", { view: "head", outOfScope: notServed }),
  get("an unknown path", "admin", "/no/such/path"),
  // TokenReview
  post("TokenReview of a service-account token", "ci", tokenReviews, review("{{sa}}")),
  post("TokenReview of a pod-bound token", "ci", tokenReviews, review("{{pod}}")),
  post("TokenReview with a foreign audience", "ci", tokenReviews, review("{{sa}}", ["vault"])),
  post(
    "TokenReview with the API audience",
    "ci",
    tokenReviews,
    review("{{sa}}", ["https://kubernetes.default.svc.cluster.local"]),
  ),
  post("TokenReview of the static token", "ci", tokenReviews, review("{{static}}")),
  post("TokenReview of garbage", "ci", tokenReviews, review("garbage")),
  post("TokenReview of the other server's token", "ci", tokenReviews, review("{{foreign}}")),
  post("TokenReview of a deleted service account's token", "ci", tokenReviews, review("{{deleted}}")),
  post("TokenReview of an empty token", "ci", tokenReviews, review("")),
  post("TokenReview by bob (RBAC denies)", "bob", tokenReviews, review("{{sa}}")),
  post("TokenReview by anonymous", "anonymous", tokenReviews, review("{{sa}}")),
  // SelfSubjectReview and SelfSubjectAccessReview
  post("SelfSubjectReview as admin", "admin", ssrPath, ssr),
  post("SelfSubjectReview as alice", "alice", ssrPath, ssr),
  post("SelfSubjectReview as the static token", "ci", ssrPath, ssr),
  post("SelfSubjectReview as a service-account token", "sa", ssrPath, ssr),
  post("SelfSubjectReview as node-a", "node-a", ssrPath, ssr),
  post("SelfSubjectReview as anonymous", "anonymous", ssrPath, ssr),
  post("SelfSubjectReview with a malformed bearer token", "bad-bearer", ssrPath, ssr),
  post(
    "SelfSubjectAccessReview: alice may create builder's token",
    "alice",
    ssarPath,
    ssar("create", "serviceaccounts", ns, "token", "builder"),
  ),
  post(
    "SelfSubjectAccessReview: alice may not create other's token",
    "alice",
    ssarPath,
    ssar("create", "serviceaccounts", ns, "token", "other"),
  ),
  post("SelfSubjectAccessReview: admin may do anything", "admin", ssarPath, ssar("delete", "pods", ns)),
  // impersonation
  post("admin impersonates alice: builder's token", "admin", token("builder"), tr({}), {
    headers: { "impersonate-user": "alice" },
  }),
  post("admin impersonates alice: other's token", "admin", token("other"), tr({}), {
    headers: { "impersonate-user": "alice" },
  }),
  post("bob impersonates alice (not allowed)", "bob", token("builder"), tr({}), {
    headers: { "impersonate-user": "alice" },
  }),
  post("admin impersonates a service account: SelfSubjectReview", "admin", ssrPath, ssr, {
    headers: { "impersonate-user": `system:serviceaccount:${ns}:builder` },
  }),
  // discovery and documents
  get("/version (anonymous)", "anonymous", "/version", { view: "version" }),
  get("/healthz (anonymous)", "anonymous", "/healthz"),
  get("/readyz (anonymous)", "anonymous", "/readyz"),
  get("/livez (anonymous)", "anonymous", "/livez"),
  get("/readyz?verbose", "admin", "/readyz?verbose", { view: "head" }),
  get("/metrics", "admin", "/metrics", { view: "head" }),
  get("/api", "alice", "/api"),
  get("/api/v1", "alice", "/api/v1", { view: "discovery" }),
  get("/apis", "alice", "/apis", { view: "discovery" }),
  get("/apis/authentication.k8s.io", "alice", "/apis/authentication.k8s.io"),
  get("/apis/authentication.k8s.io/v1", "alice", "/apis/authentication.k8s.io/v1"),
  get("/apis/authorization.k8s.io/v1", "alice", "/apis/authorization.k8s.io/v1", { view: "discovery" }),
  get("/apis with aggregated discovery", "alice", "/apis", { headers: { accept: aggregated }, view: "discovery" }),
  get("/api with aggregated discovery", "alice", "/api", { headers: { accept: aggregated }, view: "discovery" }),
  get("/apis with aggregated discovery as anonymous", "anonymous", "/apis", {
    headers: { accept: aggregated },
    view: "discovery",
  }),
  get("/apis asking for v2beta1 first, then v2", "alice", "/apis", {
    headers: {
      accept:
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
    },
    view: "discovery",
  }),
  get("/api as anonymous", "anonymous", "/api"),
  get("/openapi/v2", "admin", "/openapi/v2", { view: "head" }),
  get("/openapi/v3", "admin", "/openapi/v3", { view: "head" }),
  get("OIDC discovery as admin", "admin", "/.well-known/openid-configuration"),
  get("OIDC discovery as a service account", "sa", "/.well-known/openid-configuration"),
  get("OIDC discovery as anonymous", "anonymous", "/.well-known/openid-configuration"),
  get("JWKS as admin, Accept: application/json", "admin", "/openid/v1/jwks"),
  get("JWKS as admin, Accept: application/jwk-set+json", "admin", "/openid/v1/jwks", {
    headers: { accept: "application/jwk-set+json" },
  }),
  get("JWKS as anonymous", "anonymous", "/openid/v1/jwks"),
  // kubectl
  kubectl("kubectl create token builder", "admin", "create token builder"),
  kubectl(
    "kubectl create token -o json, audience and 10m",
    "admin",
    "create token builder --audience vault --duration 10m -o json",
  ),
  kubectl("kubectl create token --duration 5m", "admin", "create token builder --duration 5m"),
  kubectl("kubectl create token --duration 3h (capped)", "admin", "create token builder --duration 3h -o json"),
  kubectl(
    "kubectl create token --duration 1h0m7s bound to a pod",
    "admin",
    "create token builder --duration 3607s --bound-object-kind Pod --bound-object-name web -o json",
  ),
  kubectl(
    "kubectl create token bound to a missing secret",
    "admin",
    "create token builder --bound-object-kind Secret --bound-object-name ghost",
  ),
  kubectl("kubectl create token ghost", "admin", "create token ghost"),
  kubectl("kubectl create token other as alice", "alice", "create token other"),
  kubectl("kubectl create token as anonymous", "anonymous", "create token builder"),
  kubectl("kubectl auth whoami as admin", "admin", "auth whoami -o json"),
  kubectl("kubectl auth whoami as the static token", "ci", "auth whoami"),
  kubectl("kubectl auth whoami as a service account", "sa", "auth whoami -o json"),
  kubectl("kubectl auth whoami --as alice", "admin", "auth whoami --as alice --as-group team"),
  kubectl(
    "kubectl auth can-i create serviceaccounts/token (alice)",
    "alice",
    "auth can-i create serviceaccounts/token",
  ),
  kubectl("kubectl auth can-i --as alice", "admin", "auth can-i create serviceaccounts/token --as alice"),
  kubectl("kubectl create token --as alice", "admin", "create token builder --as alice"),
  kubectl("kubectl create -f TokenReview", "admin", "create -f - -o json", {
    stdin: JSON.stringify(review("{{sa}}").json),
  }),
  kubectl("kubectl create -f TokenReview of garbage", "admin", "create -f - -o json", {
    stdin: JSON.stringify(review("garbage").json),
  }),
  kubectl("kubectl create -f TokenReview --validate=false", "admin", "create --validate=false -f - -o json", {
    stdin: JSON.stringify(review("{{pod}}").json),
  }),
  kubectl(
    "kubectl create token bound to a node",
    "admin",
    "create token builder --bound-object-kind Node --bound-object-name node-a -o json",
  ),
  kubectl(
    "kubectl create token bound to a secret",
    "admin",
    "create token builder --bound-object-kind Secret --bound-object-name creds -o json",
  ),
  kubectl("kubectl get --raw OIDC discovery as a service account", "sa", "get --raw /.well-known/openid-configuration"),
  kubectl("kubectl get serviceaccounts (Table)", "alice", "get serviceaccounts"),
  kubectl("kubectl get serviceaccount builder -o name", "alice", "get serviceaccount builder -o name"),
  kubectl(
    "kubectl get --watch",
    "alice",
    "get serviceaccounts --field-selector metadata.name=builder --watch --request-timeout 2s -o name",
  ),
  kubectl("kubectl get --raw /openid/v1/jwks", "sa", "get --raw /openid/v1/jwks"),
]
