/**
 * The development API server's authentication and authorization over real HTTPS: client certificates (verified
 * against the CA), static bearer tokens, service-account tokens it issued (expiry with the 1-minute leeway under
 * TestClock, invalidation when the service account or pod goes away), rules and 403 texts, TokenReview and
 * SelfSubjectReview.
 */
import assert from "node:assert/strict"
import { createHash, X509Certificate } from "node:crypto"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import * as Pki from "../../adapters/devserver/Pki.ts"
import type { DevServer } from "../../adapters/devserver/mod.ts"
import { runTest } from "../_support/harness.ts"
import { call, issuedOf, server, statusOf, tokenPath, tokenRequest } from "../_support/devserver.ts"
import type { Answer, Credentials } from "../_support/devserver.ts"
import { clientCert, managedFieldsEntry } from "./_fixtures.ts"

const issue = (s: DevServer, spec: Record<string, unknown> = {}, name = "default") =>
  call(s, { path: tokenPath("default", name), body: tokenRequest(spec) }).pipe(
    Effect.map((a) => issuedOf(a).status.token),
  )

const whoami = (s: DevServer, as: Credentials) =>
  call(s, { path: "/apis/authentication.k8s.io/v1/selfsubjectreviews", body: {}, as })

interface ReviewJson {
  readonly status: {
    readonly authenticated?: boolean
    readonly user: { readonly username?: string; readonly uid?: string; readonly groups?: ReadonlyArray<string> }
    readonly audiences?: ReadonlyArray<string>
    readonly error?: string
  }
}

const review = (s: DevServer, token: string, audiences?: ReadonlyArray<string>) =>
  call(s, {
    path: "/apis/authentication.k8s.io/v1/tokenreviews",
    body: {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenReview",
      spec: { token, ...(audiences ? { audiences } : {}) },
    },
  }).pipe(Effect.map((a) => {
    assert.equal(a.status, 201)
    return (a.json as ReviewJson).status
  }))

describe("devserver authentication", () => {
  it("answers 401 Unauthorized for a bad token or a certificate from another CA", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      const stranger = yield* Effect.promise(async () => {
        const ca = await Pki.makeCaAsync("devserver-ca")
        return Pki.issueClientCertAsync(ca, { commonName: "kubernetes-admin", organizations: ["system:masters"] })
      })
      const credentials: ReadonlyArray<Credentials> = [
        { token: "nope" },
        { token: "a.b.c" },
        { cert: stranger.certPem, key: stranger.keyPem },
      ]
      for (const as of credentials) {
        const answer = yield* call(s, { path: tokenPath("default", "default"), body: tokenRequest({}), as })
        assert.equal(answer.status, 401)
        const status = statusOf(answer)
        assert.deepEqual([status.reason, status.message, status.code], ["Unauthorized", "Unauthorized", 401])
      }
    })))

  it("treats a request without credentials as system:anonymous: public-info paths only, else kube-apiserver's 403", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      const none: Credentials = { none: true }
      for (const path of ["/healthz", "/livez", "/readyz"]) {
        assert.equal((yield* call(s, { path, as: none })).text, "ok", path)
      }
      assert.equal((yield* call(s, { path: "/version", as: none })).status, 200)
      const denied: ReadonlyArray<readonly [string, string]> = [
        ["/api", 'forbidden: User "system:anonymous" cannot get path "/api"'],
        ["/openid/v1/jwks", 'forbidden: User "system:anonymous" cannot get path "/openid/v1/jwks"'],
        [
          "/.well-known/openid-configuration",
          'forbidden: User "system:anonymous" cannot get path "/.well-known/openid-configuration"',
        ],
        ["/metrics", 'forbidden: User "system:anonymous" cannot get path "/metrics"'],
        ["/foo", 'forbidden: User "system:anonymous" cannot get path "/foo"'],
        [
          "/api/v1/namespaces",
          'namespaces is forbidden: User "system:anonymous" cannot list resource "namespaces" in API group "" at the cluster scope',
        ],
      ]
      for (const [path, message] of denied) {
        const answer: Answer = yield* call(s, { path, as: none })
        assert.equal(answer.status, 403, path)
        assert.deepEqual([statusOf(answer).reason, statusOf(answer).message], ["Forbidden", message])
      }
      const token = yield* call(s, { path: tokenPath("default", "default"), body: tokenRequest({}), as: none })
      assert.deepEqual(statusOf(token), {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message:
          'serviceaccounts "default" is forbidden: User "system:anonymous" cannot create resource "serviceaccounts/token" in API group "" in the namespace "default"',
        reason: "Forbidden",
        details: { name: "default", kind: "serviceaccounts" },
        code: 403,
      })
      const self = yield* whoami(s, none)
      assert.deepEqual([self.status, statusOf(self).message, statusOf(self).details], [
        403,
        'selfsubjectreviews.authentication.k8s.io is forbidden: User "system:anonymous" cannot create resource "selfsubjectreviews" in API group "authentication.k8s.io" at the cluster scope',
        { group: "authentication.k8s.io", kind: "selfsubjectreviews" },
      ])
    })))

  it("serves OIDC discovery and the JWKS to service accounts and masters, not to other users", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      const sa = yield* issue(s)
      const alice = yield* s.issueClientCert("alice", ["dev"])
      for (const path of ["/.well-known/openid-configuration", "/openid/v1/jwks"]) {
        const headers = { accept: "*/*" }
        assert.equal((yield* call(s, { path, as: { token: sa }, headers })).status, 200, path)
        assert.equal((yield* call(s, { path, headers })).status, 200, path)
        const other = yield* call(s, { path, as: { cert: alice.certPem, key: alice.keyPem } })
        assert.equal(statusOf(other).message, `forbidden: User "alice" cannot get path "${path}"`)
      }
      // every authenticated user may read discovery
      assert.equal((yield* call(s, { path: "/api", as: { cert: alice.certPem, key: alice.keyPem } })).status, 200)
    })))

  it("authorizes before parsing a body: an anonymous or unauthorized malformed body gets 403, a bad token 401", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      const alice = yield* s.issueClientCert("alice", ["dev"])
      const malformed: ReadonlyArray<readonly [Uint8Array, string]> = [
        [
          new Uint8Array([0x6b, 0x38, 0x73, 0x00, 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
          "application/vnd.kubernetes.protobuf",
        ],
        [new Uint8Array([0x6b, 0x38, 0x73, 0x00, 0x12, 0x05, 0x01]), "application/json"],
        [new TextEncoder().encode('{"kind":'), "application/json"],
        [new TextEncoder().encode("a: ["), "application/yaml"],
        [new TextEncoder().encode("{}"), "text/plain"],
      ]
      const paths = [
        tokenPath("default", "default"),
        "/apis/authentication.k8s.io/v1/tokenreviews",
        "/devserver/v1/namespaces",
        "/version",
      ]
      for (const [raw, contentType] of malformed) {
        for (const path of paths) {
          for (const as of [{ none: true }, { cert: alice.certPem, key: alice.keyPem }] as const) {
            const answer = yield* call(s, { path, raw, contentType, as })
            assert.equal(answer.status, 403, `${path} ${contentType}`)
            assert.equal(statusOf(answer).reason, "Forbidden")
          }
          const badToken = yield* call(s, { path, raw, contentType, as: { token: "nope" } })
          assert.equal(badToken.status, 401, `${path} ${contentType} with a bad token`)
        }
        // an authorized caller still learns that its body cannot be read
        const admin = yield* call(s, { path: tokenPath("default", "default"), raw, contentType })
        assert.equal(admin.status, contentType === "text/plain" ? 415 : 400)
      }
    })))

  it("identifies a client certificate's CN as the user and its O entries as groups", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      const alice = yield* s.issueClientCert("alice", ["dev", "qa"])
      const answer = yield* whoami(s, { cert: alice.certPem, key: alice.keyPem })
      assert.equal(answer.status, 201)
      const body = answer.json as { kind: string; status: { userInfo: unknown } }
      assert.equal(body.kind, "SelfSubjectReview")
      // the credential ID is the SHA-256 of the certificate's DER, as kube-apiserver reports it
      const der = new X509Certificate(alice.certPem).raw
      const fingerprint = createHash("sha256").update(der).digest("hex")
      assert.deepEqual(body.status.userInfo, {
        username: "alice",
        groups: ["dev", "qa", "system:authenticated"],
        extra: { "authentication.kubernetes.io/credential-id": [`X509SHA256=${fingerprint}`] },
      })
    })))

  it("adds the groups the state declares for a user to its certificate's and static token's groups", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server({
        state: { users: [{ name: "bob", groups: ["system:masters"] }], staticTokens: [{ token: "b0b", user: "bob" }] },
      })
      const bob = yield* s.issueClientCert("bob", ["dev"])
      const answer = yield* whoami(s, { cert: bob.certPem, key: bob.keyPem })
      const userInfo = (answer.json as { status: { userInfo: { username: string; groups: unknown } } }).status.userInfo
      assert.deepEqual([userInfo.username, userInfo.groups], ["bob", ["dev", "system:masters", "system:authenticated"]])
      assert.equal((yield* call(s, { path: "/devserver/v1/stats", as: { token: "b0b" } })).status, 200)
      s.state.upsertUser("bob", [])
      assert.equal((yield* call(s, { path: "/devserver/v1/stats", as: { token: "b0b" } })).status, 403)
      yield* call(s, { path: "/devserver/v1/users", body: { name: "bob", groups: ["system:masters"] } })
      assert.equal((yield* call(s, { path: "/devserver/v1/stats", as: { token: "b0b" } })).status, 200)
    })))

  it("accepts static tokens added at runtime", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server({ state: { staticTokens: [{ token: "from-file", user: "ci", groups: ["ci"] }] } })
      s.state.addStaticToken("added", "bot", ["robots"])
      const fromFile = yield* whoami(s, { token: "from-file" })
      assert.deepEqual((fromFile.json as { status: unknown }).status, {
        userInfo: { username: "ci", groups: ["ci", "system:authenticated"] },
      })
      assert.equal((yield* whoami(s, { token: "added" })).status, 201)
    })))

  it("authenticates its own service-account tokens and stops when the SA is recreated with a new uid", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      const token = yield* issue(s)
      const answer = yield* whoami(s, { token })
      const info = (answer.json as { status: { userInfo: { username: string; uid: string; groups: unknown } } }).status
        .userInfo
      assert.equal(info.username, "system:serviceaccount:default:default")
      assert.equal(info.uid, s.state.serviceAccount("default", "default")?.uid)
      assert.deepEqual(info.groups, [
        "system:serviceaccounts",
        "system:serviceaccounts:default",
        "system:authenticated",
      ])
      s.state.deleteServiceAccount("default", "default")
      assert.equal((yield* whoami(s, { token })).status, 401)
      s.state.upsertServiceAccount("default", "default")
      assert.equal((yield* whoami(s, { token })).status, 401)
      // a token for another audience does not authenticate to the API
      const vault = yield* issue(s, { audiences: ["vault"] })
      assert.equal((yield* whoami(s, { token: vault })).status, 401)
    })))

  it("invalidates pod-bound tokens when the pod is deleted", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      const token = yield* issue(s, { boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "demo" } })
      assert.equal((yield* whoami(s, { token })).status, 201)
      s.state.deletePod("default", "demo")
      assert.equal((yield* whoami(s, { token })).status, 401)
    })))

  it("rejects expired tokens after the 1-minute leeway (TestClock)", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      const token = yield* issue(s, { expirationSeconds: 600 })
      yield* TestClock.adjust("660 seconds")
      assert.equal((yield* whoami(s, { token })).status, 201)
      yield* TestClock.adjust("1 second")
      assert.equal((yield* whoami(s, { token })).status, 401)
      const status = yield* review(s, token)
      assert.equal(status.error, "[invalid bearer token, service account token has expired]")
    })))
})

describe("devserver authorization", () => {
  it("denies non-admins with Kubernetes' message and allows what a rule grants", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server({
        state: {
          serviceAccounts: [{ namespace: "default", name: "default" }, { namespace: "default", name: "other" }],
        },
      })
      const c = yield* s.issueClientCert("alice", ["dev"])
      const alice = { cert: c.certPem, key: c.keyPem }
      const denied = yield* call(s, { path: tokenPath("default", "default"), body: tokenRequest({}), as: alice })
      assert.equal(denied.status, 403)
      const status = statusOf(denied)
      assert.equal(status.reason, "Forbidden")
      assert.equal(
        status.message,
        'serviceaccounts "default" is forbidden: User "alice" cannot create resource "serviceaccounts/token" in API group "" in the namespace "default"',
      )
      assert.deepEqual(status.details, { name: "default", kind: "serviceaccounts" })
      s.state.addRule({ groups: ["dev"], namespaces: ["default"], names: ["default"] })
      assert.equal(
        (yield* call(s, { path: tokenPath("default", "default"), body: tokenRequest({}), as: alice })).status,
        201,
      )
      assert.equal(
        (yield* call(s, { path: tokenPath("default", "other"), body: tokenRequest({}), as: alice })).status,
        403,
      )
      const list = yield* call(s, { path: "/api/v1/namespaces/default/pods", as: alice })
      assert.equal(
        statusOf(list).message,
        'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"',
      )
      const tr = yield* call(s, {
        path: "/apis/authentication.k8s.io/v1/tokenreviews",
        body: { spec: { token: "x" } },
        as: alice,
      })
      assert.equal(
        statusOf(tr).message,
        'tokenreviews.authentication.k8s.io is forbidden: User "alice" cannot create resource "tokenreviews" in API group "authentication.k8s.io" at the cluster scope',
      )
    })))

  it("reserves the admin API for system:masters", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      const c = yield* s.issueClientCert("alice", ["dev"])
      const answer = yield* call(s, {
        path: "/devserver/v1/faults",
        body: { status: 500 },
        as: { cert: c.certPem, key: c.keyPem },
      })
      assert.equal(answer.status, 403)
      assert.equal(statusOf(answer).message, 'forbidden: User "alice" cannot post path "/devserver/v1/faults"')
      const anonymous = yield* call(s, { path: "/devserver/v1/stats", as: { none: true } })
      assert.equal(
        statusOf(anonymous).message,
        'forbidden: User "system:anonymous" cannot get path "/devserver/v1/stats"',
      )
      assert.deepEqual(s.faults.active(), [])
    })))
})

describe("devserver SelfSubjectAccessReview", () => {
  it("answers whether the caller may make a request, by the same rules, and 422 without exactly one attribute set", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      const asAlice = yield* clientCert(s, "alice", ["dev"])
      const review = (spec: Record<string, unknown>, as: Credentials = asAlice) =>
        call(s, {
          path: "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
          body: { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec },
          as,
        })
      const allowed = (answer: Answer) => (answer.json as { status: { allowed: boolean } }).status.allowed
      const token = {
        resourceAttributes: {
          namespace: "default",
          verb: "create",
          resource: "serviceaccounts",
          subresource: "token",
          name: "default",
        },
      }
      const first = yield* review(token)
      assert.equal(first.status, 201)
      const { metadata, ...rest } = first.json as {
        metadata: { managedFields: ReadonlyArray<Record<string, unknown>> }
      }
      assert.deepEqual(rest, {
        kind: "SelfSubjectAccessReview",
        apiVersion: "authorization.k8s.io/v1",
        spec: token,
        status: { allowed: false },
      })
      // the create handler's managedFields entry, as for any object a create returns
      const { manager: _manager, time, ...entry } = metadata.managedFields[0]!
      assert.match(String(time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
      assert.deepEqual(entry, {
        operation: "Update",
        apiVersion: "authorization.k8s.io/v1",
        fieldsType: "FieldsV1",
        fieldsV1: {
          "f:spec": {
            "f:resourceAttributes": {
              ".": {},
              "f:name": {},
              "f:namespace": {},
              "f:resource": {},
              "f:subresource": {},
              "f:verb": {},
            },
          },
        },
      })
      // masters are allowed without a reason; a rule's allowance gives one (RBAC names the binding)
      const status = (answer: Answer) => (answer.json as { status: Record<string, unknown> }).status
      assert.deepEqual(status(yield* review(token, { admin: true })), { allowed: true })
      s.state.addRule({ groups: ["dev"], namespaces: ["default"], names: ["default"] })
      assert.equal(typeof status(yield* review(token)).reason, "string")
      assert.equal(allowed(yield* review(token)), true)
      assert.equal(allowed(yield* review({ nonResourceAttributes: { path: "/api", verb: "get" } })), true)
      assert.equal(allowed(yield* review({ nonResourceAttributes: { path: "/openid/v1/jwks", verb: "get" } })), false)
      const invalid = yield* review({})
      assert.deepEqual([invalid.status, statusOf(invalid).message], [
        422,
        '.authorization.k8s.io "" is invalid: spec: Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified',
      ])
      const discovery = (yield* call(s, { path: "/apis/authorization.k8s.io/v1" })).json as {
        resources: ReadonlyArray<{ name: string }>
      }
      assert.deepEqual(discovery.resources.map((r) => r.name), ["selfsubjectaccessreviews"])
    })))
})

describe("devserver impersonation", () => {
  it("runs the request as the impersonated user when the caller may impersonate it, else answers kube-apiserver's 403", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      const asAlice = yield* clientCert(s, "alice", ["dev"])
      const userInfo = (answer: { readonly json: unknown }) =>
        (answer.json as { status: { userInfo: Record<string, unknown> } }).status.userInfo
      // masters may impersonate anyone: kubectl --as bob --as-group g auth whoami
      const bob = yield* call(s, {
        path: "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        body: {},
        headers: { "impersonate-user": "bob", "impersonate-group": ["g1", "g2"] },
      })
      assert.deepEqual(userInfo(bob), { username: "bob", groups: ["g1", "g2", "system:authenticated"] })
      const sa = yield* whoami(s, { admin: true }).pipe(Effect.zipRight(call(s, {
        path: "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        body: {},
        headers: { "impersonate-user": "system:serviceaccount:default:default" },
      })))
      assert.deepEqual(userInfo(sa), {
        username: "system:serviceaccount:default:default",
        groups: ["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"],
      })
      // a caller without the impersonate verb is refused, naming the impersonation mode and the request's verb
      const refused: ReadonlyArray<readonly [string, string, string]> = [
        [
          "bob",
          "/apis/authentication.k8s.io/v1/selfsubjectreviews",
          'selfsubjectreviews.authentication.k8s.io is forbidden: User "alice" cannot impersonate-on:user-info:create resource "selfsubjectreviews" in API group "authentication.k8s.io" at the cluster scope',
        ],
        [
          "system:node:n1",
          "/apis/authentication.k8s.io/v1/selfsubjectreviews",
          'selfsubjectreviews.authentication.k8s.io is forbidden: User "alice" cannot impersonate-on:arbitrary-node:create resource "selfsubjectreviews" in API group "authentication.k8s.io" at the cluster scope',
        ],
        [
          "bob",
          tokenPath("default", "default"),
          'serviceaccounts "default" is forbidden: User "alice" cannot impersonate-on:user-info:create resource "serviceaccounts/token" in API group "" in the namespace "default"',
        ],
      ]
      for (const [user, path, message] of refused) {
        const answer: Answer = yield* call(s, {
          path,
          body: {},
          as: asAlice,
          headers: { "impersonate-user": user },
        })
        assert.deepEqual([answer.status, statusOf(answer).message], [403, message])
      }
      const sameGet = yield* call(s, {
        path: "/api",
        as: asAlice,
        headers: { "impersonate-user": "system:serviceaccount:default:default" },
      })
      assert.equal(
        statusOf(sameGet).message,
        'forbidden: User "alice" cannot impersonate-on:serviceaccount:get path "/api"',
      )
      // groups without a user are a bad request
      const groupsOnly = yield* call(s, { path: "/api", as: asAlice, headers: { "impersonate-group": "g1" } })
      assert.deepEqual([groupsOnly.status, statusOf(groupsOnly).message], [
        400,
        'requested &user.DefaultInfo{Name:"", UID:"", Groups:[]string{"g1"}, Extra:map[string][]string(nil)} without impersonating a user name',
      ])
      // a rule granting impersonate on users/bob lets alice act as bob, and bob's permissions apply
      s.state.addRule({ users: ["alice"], verbs: ["impersonate"], resources: ["users"], names: ["bob"] })
      const asBob = yield* call(s, {
        path: "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        body: {},
        as: asAlice,
        headers: { "impersonate-user": "bob" },
      })
      assert.deepEqual(userInfo(asBob), { username: "bob", groups: ["system:authenticated"] })
      const bobsToken = yield* call(s, {
        path: tokenPath("default", "default"),
        body: tokenRequest({}),
        as: asAlice,
        headers: { "impersonate-user": "bob" },
      })
      assert.equal(
        statusOf(bobsToken).message,
        'serviceaccounts "default" is forbidden: User "bob" cannot create resource "serviceaccounts/token" in API group "" in the namespace "default"',
      )
    })))
})

describe("devserver TokenReview", () => {
  it("rejects a token signed with another key ID as kube-apiserver does: no keys found", () =>
    runTest(Effect.gen(function* () {
      const mine = yield* server()
      const theirs = yield* server()
      const foreign = yield* issue(theirs)
      assert.equal((yield* review(mine, foreign)).error, "[invalid bearer token, invalid signature, no keys found]")
    })))

  it("records the fields the review set in managedFields, with no creationTimestamp, as kube-apiserver does", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      const answer = yield* call(s, {
        path: "/apis/authentication.k8s.io/v1/tokenreviews",
        body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token: "x", audiences: [] } },
      })
      assert.deepEqual((answer.json as { metadata: unknown }).metadata, {
        managedFields: [managedFieldsEntry({ "f:spec": { "f:audiences": {}, "f:token": {} } })],
      })
    })))

  it("reviews its tokens with user, extra and audiences, and reports Kubernetes' rejection texts", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      const pod = yield* issue(s, {
        audiences: ["vault"],
        boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "demo" },
      })
      const ok = yield* review(s, pod, ["vault", "other"])
      assert.equal(ok.authenticated, true)
      assert.equal(ok.user.username, "system:serviceaccount:default:default")
      assert.deepEqual(ok.audiences, ["vault"])
      const extra = (ok.user as { extra: Record<string, ReadonlyArray<string>> }).extra
      assert.deepEqual(extra["authentication.kubernetes.io/pod-name"], ["demo"])
      assert.deepEqual(extra["authentication.kubernetes.io/node-name"], ["node-1"])
      const wrongAudience = yield* review(s, pod)
      assert.equal(wrongAudience.authenticated, undefined)
      assert.equal(
        wrongAudience.error,
        `[invalid bearer token, token audiences ["vault"] is invalid for the target audiences ["${s.issuer}"]]`,
      )
      const oldUid = s.state.serviceAccount("default", "default")!.uid
      const newUid = s.state.upsertServiceAccount("default", "default")
      assert.equal(
        (yield* review(s, pod, ["vault"])).error,
        `[invalid bearer token, service account UID (${newUid}) does not match claim (${oldUid})]`,
      )
      s.state.deleteServiceAccount("default", "default")
      assert.equal(
        (yield* review(s, pod, ["vault"])).error,
        '[invalid bearer token, serviceaccounts "default" not found]',
      )
      assert.equal((yield* review(s, "not-a-jwt")).error, "invalid bearer token")
      const empty = yield* call(s, { path: "/apis/authentication.k8s.io/v1/tokenreviews", body: { spec: {} } })
      assert.deepEqual(
        [statusOf(empty).code, statusOf(empty).message],
        [400, "token is required for TokenReview in authentication"],
      )
      const forged = `${pod.slice(0, pod.lastIndexOf(".") + 1)}${"A".repeat(86)}`
      assert.equal(
        (yield* review(s, forged, ["vault"])).error,
        "[invalid bearer token, go-jose/go-jose: error in cryptographic primitive]",
      )
    })))
})
