/**
 * The development API server's TokenRequest endpoint over real HTTPS: every step of kube-apiserver's processing order
 * with its Status, the 201 body, the JWT claims verified against the served JWKS, capping and extension, and
 * kubectl's protobuf bodies.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { BinaryWriter } from "@bufbuild/protobuf/wire"
import * as Effect from "effect/Effect"
import * as jose from "jose"
import { runTest } from "../_support/harness.ts"
import { call, issuedOf, server, statusOf, T, tokenPath, tokenRequest } from "../_support/devserver.ts"
import type { KubernetesClaim } from "../../adapters/devserver/Signer.ts"
import type { DevServer } from "../../adapters/devserver/mod.ts"

/** A TokenRequest bound to a `v1` object. */
const boundTo = (kind: string, name: string) => tokenRequest({ boundObjectRef: { kind, apiVersion: "v1", name } })

const state = {
  namespaces: ["team-a"],
  serviceAccounts: [
    { namespace: "team-a", name: "builder", uid: "0a9b8c7d-1111-4e2f-8a3b-556677889900" },
    { namespace: "team-a", name: "other" },
  ],
  pods: [
    {
      namespace: "team-a",
      name: "web",
      uid: "6f1c2d3e-0000-4a5b-9c8d-112233445566",
      serviceAccountName: "builder",
      nodeName: "worker-3",
    },
  ],
  nodes: [{ name: "worker-3", uid: "9e8d7c6b-2222-4a1b-8c9d-aabbccddeeff" }],
  secrets: [{ namespace: "team-a", name: "s1", uid: "secret-uid" }],
}

const verify = (s: DevServer, token: string, audience: string) =>
  Effect.gen(function* () {
    const jwks = yield* call(s, { path: "/openid/v1/jwks", headers: { accept: "application/jwk-set+json" } })
    const { payload, protectedHeader } = yield* Effect.promise(() =>
      jose.jwtVerify(token, jose.createLocalJWKSet(jwks.json as jose.JSONWebKeySet), {
        issuer: s.issuer,
        audience,
        currentDate: new Date(T),
      })
    )
    return { payload: payload as Record<string, unknown>, header: protectedHeader }
  })

const post = (s: DevServer, name: string, body: unknown, namespace = "team-a") =>
  call(s, { path: tokenPath(namespace, name), body })

describe("devserver TokenRequest: success", () => {
  it("answers 201 with the defaulted request, the SA uid, creationTimestamp and expirationTimestamp", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server({ state })
      const answer = yield* post(s, "builder", tokenRequest({}))
      assert.equal(answer.status, 201)
      const body = issuedOf(answer)
      assert.deepEqual(body.metadata, {
        name: "builder",
        namespace: "team-a",
        uid: "0a9b8c7d-1111-4e2f-8a3b-556677889900",
        creationTimestamp: "2025-03-01T10:00:00Z",
        // as kube-apiserver records a create: the defaulted spec fields, the manager from the User-Agent (none here)
        managedFields: [{
          manager: "unknown",
          operation: "Update",
          apiVersion: "authentication.k8s.io/v1",
          time: "2025-03-01T10:00:00Z",
          fieldsType: "FieldsV1",
          fieldsV1: { "f:spec": { "f:expirationSeconds": {} } },
          subresource: "token",
        }],
      })
      assert.deepEqual(body.spec, {
        audiences: ["https://kubernetes.default.svc.cluster.local"],
        expirationSeconds: 3600,
        boundObjectRef: null,
      })
      assert.equal(body.status.expirationTimestamp, "2025-03-01T11:00:00Z")
      assert.equal(body.kind, "TokenRequest")
      assert.equal(body.apiVersion, "authentication.k8s.io/v1")
      const { payload, header } = yield* verify(s, body.status.token, s.issuer)
      assert.equal(header.alg, "ES256")
      assert.equal(header.kid, s.signer.kid)
      assert.deepEqual(payload.aud, [s.issuer])
      assert.equal(payload.iat, T / 1000)
      assert.equal(payload.nbf, T / 1000)
      assert.equal(payload.exp, T / 1000 + 3600)
      assert.equal(payload.sub, "system:serviceaccount:team-a:builder")
      assert.match(String(payload.jti), /^[0-9a-f-]{36}$/)
      assert.deepEqual(payload["kubernetes.io"], {
        namespace: "team-a",
        serviceaccount: { name: "builder", uid: "0a9b8c7d-1111-4e2f-8a3b-556677889900" },
      })
      assert.equal(s.stats.tokensIssued, 1)
    })))

  it("binds to a pod (with its node), a secret or a node, taking UIDs from the live objects", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server({ state })
      const pod = yield* post(
        s,
        "builder",
        tokenRequest({ audiences: ["vault"], boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "web" } }),
      )
      assert.equal(pod.status, 201)
      assert.deepEqual(issuedOf(pod).spec.boundObjectRef, { kind: "Pod", apiVersion: "v1", name: "web" })
      assert.deepEqual(
        (issuedOf(pod).metadata as unknown as { managedFields: [{ fieldsV1: unknown }] }).managedFields[0].fieldsV1,
        {
          "f:spec": {
            "f:audiences": {},
            "f:boundObjectRef": { "f:apiVersion": {}, "f:kind": {}, "f:name": {} },
            "f:expirationSeconds": {},
          },
        },
      )
      const claims = (yield* verify(s, issuedOf(pod).status.token, "vault")).payload["kubernetes.io"] as KubernetesClaim
      assert.deepEqual(claims.pod, { name: "web", uid: "6f1c2d3e-0000-4a5b-9c8d-112233445566" })
      assert.deepEqual(claims.node, { name: "worker-3", uid: "9e8d7c6b-2222-4a1b-8c9d-aabbccddeeff" })
      const secret = yield* post(
        s,
        "builder",
        tokenRequest({ audiences: ["vault"], boundObjectRef: { kind: "Secret", name: "s1" } }),
      )
      const secretClaims = (yield* verify(s, issuedOf(secret).status.token, "vault"))
        .payload["kubernetes.io"] as KubernetesClaim
      assert.deepEqual(secretClaims.secret, { name: "s1", uid: "secret-uid" })
      const node = yield* post(
        s,
        "builder",
        tokenRequest({
          audiences: ["vault"],
          boundObjectRef: {
            kind: "Node",
            apiVersion: "v1",
            name: "worker-3",
            uid: "9e8d7c6b-2222-4a1b-8c9d-aabbccddeeff",
          },
        }),
      )
      const nodeClaims = (yield* verify(s, issuedOf(node).status.token, "vault"))
        .payload["kubernetes.io"] as KubernetesClaim
      assert.deepEqual(nodeClaims.node, { name: "worker-3", uid: "9e8d7c6b-2222-4a1b-8c9d-aabbccddeeff" })
      assert.equal(nodeClaims.pod, undefined)
      // a pod whose node object is gone: only the node name is embedded
      s.state.deleteNode("worker-3")
      const orphan = yield* post(
        s,
        "builder",
        tokenRequest({ audiences: ["vault"], boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "web" } }),
      )
      const orphanClaims = (yield* verify(s, issuedOf(orphan).status.token, "vault"))
        .payload["kubernetes.io"] as KubernetesClaim
      assert.deepEqual(orphanClaims.node, { name: "worker-3" })
    })))

  it("accepts a request uid equal to the service account's", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server({ state })
      const answer = yield* post(
        s,
        "builder",
        tokenRequest({}, { uid: "0a9b8c7d-1111-4e2f-8a3b-556677889900", name: "builder", namespace: "team-a" }),
      )
      assert.equal(answer.status, 201)
    })))
})

describe("devserver TokenRequest: capping and extension", () => {
  it("caps to --max-token-expiration with a Warning: 299 header and returns the capped spec", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server({ state, maxTokenExpirationSeconds: 3600 })
      const answer = yield* post(s, "builder", tokenRequest({ audiences: ["vault"], expirationSeconds: 7200 }))
      assert.equal(answer.status, 201)
      assert.equal(answer.headers.warning, '299 - "requested expiration of 7200 seconds shortened to 3600 seconds"')
      assert.equal(issuedOf(answer).spec.expirationSeconds, 3600)
      assert.equal(issuedOf(answer).status.expirationTimestamp, "2025-03-01T11:00:00Z")
      const { payload } = yield* verify(s, issuedOf(answer).status.token, "vault")
      assert.equal(payload.exp, T / 1000 + 3600)
      const under = yield* post(s, "builder", tokenRequest({ expirationSeconds: 1800 }))
      assert.equal(under.headers.warning, undefined)
    })))

  it("extends pod-bound 3607 s tokens for the API audiences to one year with warnafter", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server({ state })
      const ref = { kind: "Pod", apiVersion: "v1", name: "web", uid: "6f1c2d3e-0000-4a5b-9c8d-112233445566" }
      const answer = yield* post(s, "builder", tokenRequest({ expirationSeconds: 3607, boundObjectRef: ref }))
      assert.equal(issuedOf(answer).spec.expirationSeconds, 3607)
      assert.equal(issuedOf(answer).status.expirationTimestamp, "2025-03-01T11:00:07Z")
      const { payload } = yield* verify(s, issuedOf(answer).status.token, s.issuer)
      assert.equal(payload.exp, T / 1000 + 365 * 24 * 3600)
      assert.equal((payload["kubernetes.io"] as KubernetesClaim).warnafter, T / 1000 + 3607)
      // not extended: another audience, not pod-bound, or extension disabled
      const vault = yield* post(
        s,
        "builder",
        tokenRequest({ audiences: ["vault"], expirationSeconds: 3607, boundObjectRef: ref }),
      )
      assert.equal((yield* verify(s, issuedOf(vault).status.token, "vault")).payload.exp, T / 1000 + 3607)
      const unbound = yield* post(s, "builder", tokenRequest({ expirationSeconds: 3607 }))
      assert.equal((yield* verify(s, issuedOf(unbound).status.token, s.issuer)).payload.exp, T / 1000 + 3607)
    })))

  it("does not extend when disabled, and a cap below 3607 disables extension", () =>
    runTest(Effect.gen(function* () {
      const ref = { kind: "Pod", apiVersion: "v1", name: "web" }
      const off = yield* server({ state, extendTokenExpiration: false })
      const a = yield* post(off, "builder", tokenRequest({ expirationSeconds: 3607, boundObjectRef: ref }))
      assert.equal((yield* verify(off, issuedOf(a).status.token, off.issuer)).payload.exp, T / 1000 + 3607)
      const capped = yield* server({ state, maxTokenExpirationSeconds: 1800 })
      const b = yield* post(capped, "builder", tokenRequest({ expirationSeconds: 3607, boundObjectRef: ref }))
      const { payload } = yield* verify(capped, issuedOf(b).status.token, capped.issuer)
      assert.equal(payload.exp, T / 1000 + 1800)
      assert.equal((payload["kubernetes.io"] as KubernetesClaim).warnafter, undefined)
    })))
})

describe("devserver TokenRequest: errors in processing order", () => {
  const cases: ReadonlyArray<{
    readonly title: string
    readonly path?: string
    readonly name?: string
    readonly body: unknown
    readonly code: number
    readonly reason: string
    readonly message: string
    readonly details?: unknown
  }> = [
    {
      title: "1. empty namespace in the URL",
      path: tokenPath("", "builder"),
      body: tokenRequest({}),
      code: 400,
      reason: "BadRequest",
      message: "namespace is required",
    },
    {
      title: "2. metadata.name differs from the URL",
      body: tokenRequest({}, { name: "x" }),
      code: 422,
      reason: "Invalid",
      message:
        'TokenRequest.authentication.k8s.io "builder" is invalid: metadata.name: Invalid value: "x": must match the service account name if specified',
      details: {
        name: "builder",
        group: "authentication.k8s.io",
        kind: "TokenRequest",
        causes: [{
          reason: "FieldValueInvalid",
          message: 'Invalid value: "x": must match the service account name if specified',
          field: "metadata.name",
        }],
      },
    },
    {
      // kube-apiserver's create handler refuses the object before the TokenRequest rules see it
      title: "3. metadata.namespace differs from the URL",
      body: tokenRequest({}, { namespace: "team-b" }),
      code: 400,
      reason: "BadRequest",
      message: "the namespace of the provided object does not match the namespace sent on the request",
    },
    {
      title: "4. namespace not found",
      path: tokenPath("nowhere", "builder"),
      body: tokenRequest({}),
      code: 404,
      reason: "NotFound",
      message: 'namespaces "nowhere" not found',
      details: { name: "nowhere", kind: "namespaces" },
    },
    {
      title: "4. service account not found",
      name: "nope",
      body: tokenRequest({}),
      code: 404,
      reason: "NotFound",
      message: 'serviceaccounts "nope" not found',
      details: { name: "nope", kind: "serviceaccounts" },
    },
    {
      title: "5. metadata.uid differs from the service account's",
      body: tokenRequest({}, { uid: "wrong-sa-uid-456" }),
      code: 409,
      reason: "Conflict",
      message:
        'Operation cannot be fulfilled on TokenRequest.authentication.k8s.io "builder": the UID in the token request (wrong-sa-uid-456) does not match the UID of the service account (0a9b8c7d-1111-4e2f-8a3b-556677889900)',
      details: { name: "builder", group: "authentication.k8s.io", kind: "TokenRequest" },
    },
    {
      title: "8. expirationSeconds below 10 minutes",
      body: tokenRequest({ expirationSeconds: 60 }),
      code: 422,
      reason: "Invalid",
      message:
        'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes',
      details: {
        group: "authentication.k8s.io",
        kind: "TokenRequest",
        causes: [{
          reason: "FieldValueInvalid",
          message: "Invalid value: 60: may not specify a duration less than 10 minutes",
          field: "spec.expirationSeconds",
        }],
      },
    },
    {
      title: "8. expirationSeconds above 2^32",
      body: tokenRequest({ expirationSeconds: 4294967297 }),
      code: 422,
      reason: "Invalid",
      message:
        'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 4294967297: may not specify a duration larger than 2^32 seconds',
    },
    {
      title: "10a. bound pod not found",
      body: boundTo("Pod", "gone"),
      code: 404,
      reason: "NotFound",
      message: 'pods "gone" not found',
      details: { name: "gone", kind: "pods" },
    },
    {
      title: "10a. pod runs as another service account",
      name: "other",
      body: boundTo("Pod", "web"),
      code: 400,
      reason: "BadRequest",
      message: 'cannot bind token for serviceaccount "other" to pod running with different serviceaccount name.',
    },
    {
      title: "10b. bound node not found",
      body: boundTo("Node", "gone"),
      code: 404,
      reason: "NotFound",
      message: 'nodes "gone" not found',
    },
    {
      title: "10c. bound secret not found",
      body: boundTo("Secret", "gone"),
      code: 404,
      reason: "NotFound",
      message: 'secrets "gone" not found',
    },
    {
      title: "10d. unsupported kind (kind is case-sensitive)",
      body: boundTo("ConfigMap", "x"),
      code: 400,
      reason: "BadRequest",
      message: "cannot bind token to object of type /v1, Kind=ConfigMap",
    },
    {
      title: "10d. lowercase pod",
      body: boundTo("pod", "web"),
      code: 400,
      reason: "BadRequest",
      message: "cannot bind token to object of type /v1, Kind=pod",
    },
    {
      title: "10e. bound object uid mismatch",
      body: tokenRequest({ boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "web", uid: "deadbeef" } }),
      code: 409,
      reason: "Conflict",
      message:
        'Operation cannot be fulfilled on Pod "web": the UID in the bound object reference (deadbeef) does not match the UID in record. The object might have been deleted and then recreated',
      details: { name: "web", kind: "Pod" },
    },
  ]
  for (const c of cases) {
    it(`${c.title}: ${c.code} ${c.reason}`, () =>
      runTest(Effect.gen(function* () {
        const s = yield* server({ state })
        const answer = yield* call(s, { path: c.path ?? tokenPath("team-a", c.name ?? "builder"), body: c.body })
        assert.equal(answer.status, c.code)
        const status = statusOf(answer)
        assert.equal(status.status, "Failure")
        assert.equal(status.code, c.code)
        assert.equal(status.reason, c.reason)
        assert.equal(status.message, c.message)
        if (c.details !== undefined) assert.deepEqual(status.details, c.details)
        assert.equal(s.stats.tokensIssued, 0)
      })))
  }

  it("checks the name before the service account exists and the SA before validation", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server({ state })
      const nameFirst = yield* post(s, "nope", tokenRequest({ expirationSeconds: 1 }, { name: "x" }))
      assert.equal(statusOf(nameFirst).reason, "Invalid")
      const saFirst = yield* post(s, "nope", tokenRequest({ expirationSeconds: 1 }))
      assert.equal(statusOf(saFirst).reason, "NotFound")
      const validationFirst = yield* post(
        s,
        "builder",
        tokenRequest({ expirationSeconds: 1, boundObjectRef: { kind: "Pod", name: "gone" } }),
      )
      assert.equal(statusOf(validationFirst).reason, "Invalid")
    })))

  it("reads YAML bodies, answers 415 for other media types, and words body errors as kube-apiserver does", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server({ state })
      const path = tokenPath("team-a", "builder")
      const post = (text: string, contentType = "application/json") =>
        call(s, { path, raw: new TextEncoder().encode(text), contentType })
      const yaml = yield* post(
        "apiVersion: authentication.k8s.io/v1\nkind: TokenRequest\nspec:\n  expirationSeconds: 700\n",
        "application/yaml",
      )
      assert.deepEqual([yaml.status, issuedOf(yaml).spec.expirationSeconds], [201, 700])
      const plain = yield* post("{}", "text/plain")
      assert.deepEqual([plain.status, statusOf(plain).reason, statusOf(plain).message], [
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf",
      ])
      const unrecognized = "the object provided is unrecognized (must be of type TokenRequest): "
      const handled = 'TokenRequest in version "v1" cannot be handled as a TokenRequest: json: cannot unmarshal '
      const cases: ReadonlyArray<readonly [string, string, string]> = [
        [
          '{"kind":',
          "application/json",
          `${unrecognized}couldn't get version/kind; json parse error: unexpected end of JSON input ({"kind":)`,
        ],
        [
          "{nope",
          "application/json",
          `${unrecognized}couldn't get version/kind; json parse error: invalid character 'n' looking for beginning of object key string ({nope)`,
        ],
        [
          "[1]",
          "application/json",
          `${unrecognized}couldn't get version/kind; json parse error: json: cannot unmarshal array into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" } (5b315d)`,
        ],
        ["a: [", "application/yaml", `${unrecognized}yaml: line 1: did not find expected node content (613a205b)`],
        [
          '{"spec":{"expirationSeconds":"x"}}',
          "application/json",
          `${handled}string into Go struct field TokenRequestSpec.spec.expirationSeconds of type int64`,
        ],
        [
          '{"spec":{"expirationSeconds":1.5}}',
          "application/json",
          `${handled}number 1.5 into Go struct field TokenRequestSpec.spec.expirationSeconds of type int64`,
        ],
        [
          '{"spec":{"audiences":"x"}}',
          "application/json",
          `${handled}string into Go struct field TokenRequestSpec.spec.audiences of type []string`,
        ],
        [
          '{"spec":{"boundObjectRef":{"name":1}}}',
          "application/json",
          `${handled}number into Go struct field BoundObjectReference.spec.boundObjectRef.name of type string`,
        ],
        [
          '{"metadata":[]}',
          "application/json",
          `${handled}array into Go struct field TokenRequest.metadata of type v1.ObjectMeta`,
        ],
        [
          "",
          "application/json",
          `${unrecognized}couldn't get version/kind; json parse error: unexpected end of JSON input (<empty>)`,
        ],
        [
          '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"x"}}',
          "application/json",
          'TokenReview in version "v1" cannot be handled as a TokenRequest: converting (v1.TokenReview) to (authentication.TokenRequest): unknown conversion',
        ],
        [
          '{"apiVersion":"v1","kind":"TokenRequest","spec":{}}',
          "application/json",
          'TokenRequest in version "v1" cannot be handled as a TokenRequest: no kind "TokenRequest" is registered for version "v1" in scheme "pkg/runtime/scheme.go:111"',
        ],
      ]
      for (const [text, contentType, message] of cases) {
        const answer = yield* post(text, contentType)
        assert.deepEqual([answer.status, statusOf(answer).reason, statusOf(answer).message], [
          400,
          "BadRequest",
          message,
        ])
      }
    })))

  it("honours --min-token-expiration for demos", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server({ state, minTokenExpirationSeconds: 60 })
      assert.equal((yield* post(s, "builder", tokenRequest({ expirationSeconds: 60 }))).status, 201)
      const low = yield* post(s, "builder", tokenRequest({ expirationSeconds: 59 }))
      assert.equal(statusOf(low).message?.endsWith("may not specify a duration less than 1 minute"), true)
    })))
})

describe("devserver TokenRequest: NodeRestriction for node identities", () => {
  it("lets a node get tokens only for pods bound to it, with kube-apiserver's 403 texts", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server({ state: { ...state, rules: [{ groups: ["system:nodes"] }] } })
      s.state.upsertPod({ namespace: "team-a", name: "elsewhere", serviceAccountName: "builder", nodeName: "worker-9" })
      const c = yield* s.issueClientCert("system:node:worker-3", ["system:nodes"])
      const as = { cert: c.certPem, key: c.keyPem }
      const podUid = "6f1c2d3e-0000-4a5b-9c8d-112233445566"
      const attempt = (boundObjectRef?: Record<string, string>) =>
        call(s, {
          path: tokenPath("team-a", "builder"),
          body: tokenRequest(boundObjectRef === undefined ? {} : { boundObjectRef }),
          as,
        })
      const cases: ReadonlyArray<readonly [Record<string, string> | undefined, string]> = [
        [undefined, "node requested token not bound to a pod"],
        [{ kind: "Pod", apiVersion: "v1", name: "web" }, "node requested token with a pod binding without a uid"],
        [
          { kind: "Pod", apiVersion: "v1", name: "web", uid: "other" },
          "the UID in the bound object reference (other) does not match the UID in record. The object might have been deleted and then recreated",
        ],
        [
          { kind: "Pod", apiVersion: "v1", name: "elsewhere", uid: s.state.pod("team-a", "elsewhere")!.uid },
          "node requested token bound to a pod scheduled on a different node",
        ],
      ]
      for (const [ref, text] of cases) {
        const status = statusOf(yield* attempt(ref))
        assert.deepEqual([status.code, status.reason, status.message], [
          403,
          "Forbidden",
          `serviceaccounts "builder" is forbidden: ${text}`,
        ])
      }
      assert.equal((yield* attempt({ kind: "Pod", apiVersion: "v1", name: "web", uid: podUid })).status, 201)
    })))
  it("authorizes a node, without any rule, for the service accounts of its pods only (the Node authorizer)", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server({ state })
      s.state.upsertServiceAccount("team-a", "lonely")
      const c = yield* s.issueClientCert("system:node:worker-3", ["system:nodes"])
      const as = { cert: c.certPem, key: c.keyPem }
      const web = { kind: "Pod", apiVersion: "v1", name: "web", uid: "6f1c2d3e-0000-4a5b-9c8d-112233445566" }
      const ok = yield* call(s, {
        path: tokenPath("team-a", "builder"),
        body: tokenRequest({ boundObjectRef: web }),
        as,
      })
      assert.equal(ok.status, 201)
      const denied = statusOf(yield* call(s, { path: tokenPath("team-a", "lonely"), body: tokenRequest({}), as }))
      assert.deepEqual([denied.code, denied.reason, denied.message], [
        403,
        "Forbidden",
        `serviceaccounts "lonely" is forbidden: User "system:node:worker-3" cannot create resource "serviceaccounts/token" in API group "" in the namespace "team-a": node: no relationship found between node 'worker-3' and this object`,
      ])
      // another node has no pod of builder's
      const other = yield* s.issueClientCert("system:node:worker-9", ["system:nodes"])
      const far = yield* call(s, {
        path: tokenPath("team-a", "builder"),
        body: tokenRequest({ boundObjectRef: web }),
        as: { cert: other.certPem, key: other.keyPem },
      })
      assert.equal(far.status, 403)
    })))

  it("lets a node request only an audience one of the pod's token volumes names (1.33+ audience restriction)", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server({ state: { ...state, rules: [{ groups: ["system:nodes"] }] } })
      const uid = s.state.upsertPod({
        namespace: "team-a",
        name: "vaulted",
        serviceAccountName: "builder",
        nodeName: "worker-3",
        tokenAudiences: ["vault"],
      })
      const c = yield* s.issueClientCert("system:node:worker-3", ["system:nodes"])
      const attempt = (audiences?: ReadonlyArray<string>) =>
        call(s, {
          path: tokenPath("team-a", "builder"),
          body: tokenRequest({
            ...(audiences === undefined ? {} : { audiences }),
            boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "vaulted", uid },
          }),
          as: { cert: c.certPem, key: c.keyPem },
        })
      // no audience stands for the default kube-api-access volume's; "vault" is named by a volume
      assert.equal((yield* attempt()).status, 201)
      assert.deepEqual(issuedOf(yield* attempt(["vault"])).spec.audiences, ["vault"])
      const denied: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
        [["other"], 'system:node:worker-3 is not authorized to request tokens for audience "other"'],
        [["api"], 'system:node:worker-3 is not authorized to request tokens for audience "api"'],
        [["a", "b"], "node may only request 0 or 1 audiences"],
      ]
      for (const [audiences, text] of denied) {
        const status = statusOf(yield* attempt(audiences))
        assert.deepEqual([status.code, status.reason, status.message], [
          403,
          "Forbidden",
          `serviceaccounts "builder" is forbidden: ${text}`,
        ])
      }
      // a rule granting request-serviceaccounts-token-audience on the audience lets the node ask for it
      s.state.addRule({
        groups: ["system:nodes"],
        verbs: ["request-serviceaccounts-token-audience"],
        resources: ["other"],
      })
      assert.equal((yield* attempt(["other"])).status, 201)
      // the pod shows its containers and token volumes
      const pod = (yield* call(s, { path: "/api/v1/namespaces/team-a/pods/vaulted" })).json as {
        spec: { containers: ReadonlyArray<{ name: string }>; volumes: ReadonlyArray<unknown> }
      }
      assert.equal(pod.spec.containers[0]!.name, "main")
      assert.deepEqual(pod.spec.volumes[1], {
        name: "token-0",
        projected: {
          sources: [{ serviceAccountToken: { audience: "vault", expirationSeconds: 3600, path: "token" } }],
          defaultMode: 420,
        },
      })
    })))
})

const kubectlBody = (
  spec: { audiences?: ReadonlyArray<string>; expirationSeconds?: number; bound?: [string, string] },
) => {
  const specWriter = new BinaryWriter()
  for (const a of spec.audiences ?? []) specWriter.tag(1, 2).string(a)
  if (spec.bound) {
    specWriter.tag(3, 2).bytes(
      new BinaryWriter().tag(1, 2).string(spec.bound[0]).tag(2, 2).string("v1").tag(3, 2).string(spec.bound[1])
        .finish(),
    )
  }
  if (spec.expirationSeconds !== undefined) specWriter.tag(4, 0).int64(spec.expirationSeconds)
  const tokenRequestBytes = new BinaryWriter().tag(1, 2).bytes(new Uint8Array(0)).tag(2, 2).bytes(specWriter.finish())
    .tag(3, 2).bytes(new Uint8Array(0)).finish()
  const typeMeta = new BinaryWriter().tag(1, 2).string("authentication.k8s.io/v1").tag(2, 2).string("TokenRequest")
    .finish()
  const unknown = new BinaryWriter().tag(1, 2).bytes(typeMeta).tag(2, 2).bytes(tokenRequestBytes).tag(3, 2).string("")
    .tag(4, 2).string("").tag(9, 0).int32(7).finish()
  return new Uint8Array([0x6b, 0x38, 0x73, 0x00, ...unknown])
}

describe("devserver TokenRequest: kubectl's protobuf bodies", () => {
  it("decodes audiences, expirationSeconds (field 4) and the bound object, skipping unknown fields", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server({ state })
      const answer = yield* call(s, {
        path: tokenPath("team-a", "builder"),
        raw: kubectlBody({ audiences: ["vault", "b"], expirationSeconds: 600, bound: ["Pod", "web"] }),
        contentType: "application/vnd.kubernetes.protobuf",
      })
      assert.equal(answer.status, 201)
      assert.deepEqual(issuedOf(answer).spec, {
        audiences: ["vault", "b"],
        expirationSeconds: 600,
        boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "web" },
      })
      const tooShort = yield* call(s, {
        path: tokenPath("team-a", "builder"),
        raw: kubectlBody({ expirationSeconds: 60 }),
        contentType: "application/vnd.kubernetes.protobuf",
      })
      assert.equal(statusOf(tooShort).code, 422)
    })))
})
