/**
 * The rest of the development API server's surface over real HTTPS: health, version, discovery, OIDC, read access,
 * 404s, the admin API, fault injection (in-process and through the admin API), state files, and the limits on
 * connections (a cap, and deadlines for the handshake, the headers and idle kept-alive connections).
 */
import assert from "node:assert/strict"
import * as https from "node:https"
import * as net from "node:net"
import { describe, it } from "node:test"
import * as tls from "node:tls"
import * as Effect from "effect/Effect"
import type * as DevServer from "../../adapters/devserver/mod.ts"
import { parseState } from "../../adapters/devserver/StateFile.ts"
import * as Table from "../../adapters/devserver/Table.ts"
import { runTest } from "../_support/harness.ts"
import * as Connections from "../_support/connections.ts"
import { call, issuedOf, send, server, statusOf, tokenPath, tokenRequest } from "../_support/devserver.ts"

const issue = tokenPath("default", "default")

describe("devserver discovery and OIDC", () => {
  it("serves health, version and discovery documents", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      for (const path of ["/healthz", "/readyz", "/livez"]) assert.equal((yield* call(s, { path })).text, "ok")
      assert.equal((yield* call(s, { path: "/version" })).json && true, true)
      const version = (yield* call(s, { path: "/version", as: { none: true } })).json as Record<string, string>
      assert.deepEqual([version.major, version.minor], ["1", "34"])
      const api = (yield* call(s, { path: "/api" })).json as { versions: ReadonlyArray<string> }
      assert.deepEqual(api.versions, ["v1"])
      const v1 = (yield* call(s, { path: "/api/v1" })).json as { resources: ReadonlyArray<Record<string, unknown>> }
      assert.deepEqual(v1.resources.find((r) => r.name === "serviceaccounts/token"), {
        name: "serviceaccounts/token",
        singularName: "",
        namespaced: true,
        group: "authentication.k8s.io",
        version: "v1",
        kind: "TokenRequest",
        verbs: ["create"],
      })
      assert.ok(v1.resources.some((r) => r.name === "serviceaccounts"))
      const apis = (yield* call(s, { path: "/apis" })).json as { groups: ReadonlyArray<{ name: string }> }
      assert.deepEqual(apis.groups.map((g) => g.name), ["authentication.k8s.io", "authorization.k8s.io"])
      const auth = (yield* call(s, { path: "/apis/authentication.k8s.io/v1" })).json as {
        resources: ReadonlyArray<{ name: string }>
      }
      assert.deepEqual(auth.resources.map((r) => r.name).sort(), ["selfsubjectreviews", "tokenreviews"])
    })))

  it("lists its health checks with ?verbose, as kube-apiserver does", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      const readyz = yield* call(s, { path: "/readyz?verbose", as: { none: true } })
      assert.equal(readyz.text, "[+]ping ok\n[+]log ok\n[+]signer ok\n[+]shutdown ok\nreadyz check passed\n")
      assert.match(readyz.headers["content-type"] as string, /^text\/plain/)
      assert.equal((yield* call(s, { path: "/livez?verbose" })).text.split("\n").at(-2), "livez check passed")
      assert.equal((yield* call(s, { path: "/healthz?verbose" })).text.split("\n").at(-2), "healthz check passed")
    })))

  it("serves /metrics to masters and system:monitoring only, in the Prometheus text format", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      yield* call(s, { path: "/api/v1/namespaces/default/pods" })
      const metrics = yield* call(s, { path: "/metrics" })
      assert.equal(metrics.status, 200)
      assert.equal(metrics.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8; escaping=underscores")
      assert.ok(
        metrics.text.includes(
          'apiserver_request_total{code="200",component="apiserver",group="",resource="pods",scope="namespace",subresource="",verb="LIST",version="v1"} 1',
        ),
        metrics.text,
      )
      const monitor = yield* s.issueClientCert("prometheus", ["system:monitoring"])
      assert.equal(
        (yield* call(s, { path: "/metrics", as: { cert: monitor.certPem, key: monitor.keyPem } })).status,
        200,
      )
      const alice = yield* s.issueClientCert("alice", ["dev"])
      const denied = yield* call(s, { path: "/metrics", as: { cert: alice.certPem, key: alice.keyPem } })
      assert.equal(statusOf(denied).message, 'forbidden: User "alice" cannot get path "/metrics"')
    })))

  it("serves the OpenID configuration and a JWKS whose kid signs the tokens", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server({ issuer: "https://issuer.example", apiAudiences: ["api", "other"] })
      const config = (yield* call(s, { path: "/.well-known/openid-configuration" })).json as Record<string, unknown>
      assert.equal(config.issuer, "https://issuer.example")
      assert.equal(config.jwks_uri, `${s.url}/openid/v1/jwks`)
      // application/json alone is not acceptable: the JWKS is served as application/jwk-set+json only
      const refused = yield* call(s, { path: "/openid/v1/jwks" })
      assert.deepEqual([refused.status, statusOf(refused).reason, statusOf(refused).message], [
        406,
        "NotAcceptable",
        "406: Not Acceptable\n\nAvailable representations: application/jwk-set+json",
      ])
      const jwksAnswer = yield* call(s, { path: "/openid/v1/jwks", headers: { accept: "application/json, */*" } })
      assert.equal(jwksAnswer.headers["content-type"], "application/jwk-set+json")
      assert.equal(jwksAnswer.headers["cache-control"], "public, max-age=3600")
      const jwks = jwksAnswer.json as { keys: ReadonlyArray<Record<string, string>> }
      assert.equal(jwks.keys.length, 1)
      assert.deepEqual([jwks.keys[0]!.kid, jwks.keys[0]!.alg, jwks.keys[0]!.kty], [s.signer.kid, "ES256", "EC"])
      const issued = issuedOf(yield* call(s, { path: issue, body: tokenRequest({}) }))
      assert.deepEqual(issued.spec.audiences, ["api", "other"])
    })))
})

describe("devserver read access and unknown paths", () => {
  it("lists in storage order (by name) with items bare of kind and apiVersion; namespaces carry their name label", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      for (const name of ["zeta", "alpha"]) s.state.upsertServiceAccount("default", name)
      const sas = (yield* call(s, { path: "/api/v1/namespaces/default/serviceaccounts" })).json as {
        items: ReadonlyArray<{ kind?: string; apiVersion?: string; metadata: { name: string } }>
      }
      assert.deepEqual(sas.items.map((i) => i.metadata.name), ["alpha", "default", "zeta"])
      assert.deepEqual(sas.items.map((i) => [i.kind, i.apiVersion]), [[undefined, undefined], [undefined, undefined], [
        undefined,
        undefined,
      ]])
      // a fieldSelector on the name narrows the list (kubectl get --field-selector metadata.name=zeta)
      const one = (yield* call(s, {
        path: "/api/v1/namespaces/default/serviceaccounts?fieldSelector=metadata.name%3Dzeta",
      })).json as { items: ReadonlyArray<{ metadata: { name: string } }> }
      assert.deepEqual(one.items.map((i) => i.metadata.name), ["zeta"])
      const ns = (yield* call(s, { path: "/api/v1/namespaces/default" })).json as {
        metadata: { labels: Record<string, string> }
      }
      assert.deepEqual(ns.metadata.labels, { "kubernetes.io/metadata.name": "default" })
    })))

  it("lists and gets namespaces, service accounts and pods; 404 Status for missing objects and paths", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      const sas = (yield* call(s, { path: "/api/v1/namespaces/default/serviceaccounts" })).json as {
        kind: string
        items: ReadonlyArray<{ metadata: { name: string; uid: string } }>
      }
      assert.equal(sas.kind, "ServiceAccountList")
      assert.deepEqual(sas.items.map((i) => i.metadata.name), ["default"])
      const pod = (yield* call(s, { path: "/api/v1/namespaces/default/pods/demo" })).json as {
        spec: { serviceAccountName: string; nodeName: string }
      }
      assert.deepEqual([pod.spec.serviceAccountName, pod.spec.nodeName], ["default", "node-1"])
      const ns = (yield* call(s, { path: "/api/v1/namespaces/default" })).json as { kind: string }
      assert.equal(ns.kind, "Namespace")
      assert.equal(((yield* call(s, { path: "/api/v1/pods" })).json as { items: unknown[] }).items.length, 1)
      const missing = statusOf(yield* call(s, { path: "/api/v1/namespaces/default/pods/nope" }))
      assert.deepEqual([missing.code, missing.reason, missing.message], [404, "NotFound", 'pods "nope" not found'])
      const unknown = yield* call(s, { path: "/apis/apps/v1/deployments" })
      assert.equal(unknown.status, 404)
      assert.equal(statusOf(unknown).message, "the server could not find the requested resource")
      // outside /api and /apis a miss is kube-apiserver's plain-text page, not a Status
      const page = yield* call(s, { path: "/no/such/path" })
      assert.deepEqual([page.status, page.headers["content-type"], page.text], [
        404,
        "text/plain; charset=utf-8",
        "404 page not found\n",
      ])
      const wrongMethod = yield* call(s, { path: issue, method: "GET" })
      assert.deepEqual([statusOf(wrongMethod).code, statusOf(wrongMethod).reason], [405, "MethodNotAllowed"])
      const huge = yield* call(s, { path: issue, raw: new Uint8Array(4 * 1024 * 1024).fill(32) })
      assert.deepEqual([huge.status, statusOf(huge).reason], [413, "RequestEntityTooLarge"])
    })))
})

/** Opens a watch as the admin and hands out its events one at a time. */
const openWatch = (s: DevServer.DevServer, path: string, accept = "application/json") => {
  const lines: Array<string> = []
  const waiting: Array<(line: string) => void> = []
  let buffer = ""
  const req = https.request(`${s.url}${path}`, {
    ca: s.caPem,
    cert: s.adminCertPem,
    key: s.adminKeyPem,
    agent: false,
    headers: { accept },
  }, (res) => {
    res.setEncoding("utf8")
    res.on("data", (chunk: string) => {
      buffer += chunk
      let newline = buffer.indexOf("\n")
      while (newline >= 0) {
        const line = buffer.slice(0, newline)
        buffer = buffer.slice(newline + 1)
        const waiter = waiting.shift()
        if (waiter !== undefined) waiter(line)
        else lines.push(line)
        newline = buffer.indexOf("\n")
      }
    })
    res.on("error", () => {})
  })
  req.on("error", () => {})
  req.end()
  return {
    next: (): Effect.Effect<{ type: string; object: Record<string, unknown> }> =>
      Effect.promise(() =>
        new Promise<string>((resolve) => {
          const line = lines.shift()
          if (line !== undefined) resolve(line)
          else waiting.push(resolve)
        })
      ).pipe(Effect.map((line) => JSON.parse(line))),
    close: () => req.destroy(),
  }
}

interface ListJson {
  readonly metadata: { readonly resourceVersion: string }
}

const until = (condition: () => boolean): Effect.Effect<void> =>
  Effect.promise(async () => {
    while (!condition()) await new Promise((resolve) => setImmediate(resolve))
  })

describe("devserver watch and Table output", () => {
  it("streams ADDED events, then changes, as newline-delimited JSON; from a list's resourceVersion only changes", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      const all = openWatch(s, "/api/v1/namespaces/default/pods?watch=true")
      const first = yield* all.next()
      assert.equal(first.type, "ADDED")
      assert.deepEqual([first.object.kind, (first.object.metadata as { name: string }).name], ["Pod", "demo"])
      const rv =
        ((yield* call(s, { path: "/api/v1/namespaces/default/pods" })).json as ListJson).metadata.resourceVersion
      const changes = openWatch(s, `/api/v1/namespaces/default/pods?resourceVersion=${rv}&watch=true`)
      yield* until(() => s.stats.watches === 2)
      s.state.upsertPod({ namespace: "default", name: "web", serviceAccountName: "default" })
      s.state.upsertPod({ namespace: "other", name: "elsewhere", serviceAccountName: "default" })
      s.state.deletePod("default", "demo")
      for (const w of [all, changes]) {
        const added = yield* w.next()
        assert.deepEqual([added.type, (added.object.metadata as { name: string }).name], ["ADDED", "web"])
        const deleted = yield* w.next()
        assert.deepEqual([deleted.type, (deleted.object.metadata as { name: string }).name], ["DELETED", "demo"])
        w.close()
      }
      yield* until(() => s.stats.watches === 0)
    })))

  it("replays to a watch from a list's resourceVersion the changes made after the list, as kubectl get -w relies on", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      const list = (yield* call(s, { path: "/api/v1/namespaces/default/pods" })).json as ListJson
      s.state.upsertPod({ namespace: "default", name: "web", serviceAccountName: "default" })
      const after = ((yield* call(s, { path: "/api/v1/namespaces/default/pods" })).json as ListJson).metadata
      assert.ok(Number(after.resourceVersion) > Number(list.metadata.resourceVersion))
      // the watch starts after the change: it still reports it, once, with the object's new resourceVersion
      const w = openWatch(
        s,
        `/api/v1/namespaces/default/pods?resourceVersion=${list.metadata.resourceVersion}&watch=true`,
      )
      const added = yield* w.next()
      const metadata = added.object.metadata as { name: string; resourceVersion: string }
      assert.deepEqual([added.type, metadata.name, metadata.resourceVersion], ["ADDED", "web", after.resourceVersion])
      s.state.deletePod("default", "web")
      const deleted = yield* w.next()
      assert.deepEqual([deleted.type, (deleted.object.metadata as { name: string }).name], ["DELETED", "web"])
      w.close()
    })))

  it("sends a watch's status before any event", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      // kubectl get --watch --request-timeout 2s waits 2 s for the status of a watch no event may ever come on
      const status = yield* Effect.promise(() =>
        new Promise<number>((resolve, reject) => {
          const req = https.request(`${s.url}/api/v1/namespaces/default/pods?resourceVersion=1&watch=true`, {
            ca: s.caPem,
            cert: s.adminCertPem,
            key: s.adminKeyPem,
            agent: false,
          }, (res) => {
            resolve(res.statusCode ?? 0)
            res.destroy()
          })
          req.on("error", reject)
          req.end()
        })
      )
      assert.equal(status, 200)
    })))

  it("answers a Table when asked, with kube-apiserver's columns, in lists, gets and watch events", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      const accept =
        "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
      const send = (path: string) =>
        call(s, { path, headers: { accept } }).pipe(Effect.map((answer) => answer.json as Record<string, unknown>))
      const pods = yield* send("/api/v1/namespaces/default/pods")
      assert.equal(pods.kind, "Table")
      assert.deepEqual(
        (pods.columnDefinitions as ReadonlyArray<{ name: string }>).map((c) => c.name),
        ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"],
      )
      const row = (pods.rows as ReadonlyArray<{ cells: ReadonlyArray<string>; object: Record<string, unknown> }>)[0]!
      assert.deepEqual(row.cells, ["demo", "1/1", "Running", "0", "0s", "<none>", "node-1", "<none>", "<none>"])
      assert.equal(row.object.kind, "PartialObjectMetadata")
      const ns = yield* send("/api/v1/namespaces/default")
      assert.deepEqual((ns.rows as ReadonlyArray<{ cells: unknown }>).map((r) => r.cells), [[
        "default",
        "Active",
        "0s",
      ]])
      const sa = yield* send("/api/v1/namespaces/default/serviceaccounts")
      assert.deepEqual((sa.columnDefinitions as ReadonlyArray<{ name: string }>).map((c) => c.name), ["Name", "Age"])
      const w = openWatch(s, "/api/v1/namespaces/default/pods?watch=true", accept)
      const event = yield* w.next()
      assert.equal(event.object.kind, "Table")
      assert.ok(Array.isArray(event.object.columnDefinitions))
      s.state.upsertPod({ namespace: "default", name: "web", serviceAccountName: "default" })
      const later = yield* w.next()
      assert.equal(later.object.columnDefinitions, null)
      assert.deepEqual((later.object.rows as ReadonlyArray<{ cells: ReadonlyArray<string> }>)[0]!.cells.slice(0, 3), [
        "web",
        "0/1",
        "Pending",
      ])
      w.close()
    })))

  it("renders ages as Go's HumanDuration", () => {
    const cases: ReadonlyArray<readonly [number, string]> = [
      [-5_000, "<invalid>"],
      [-1_000, "0s"],
      [119_000, "119s"],
      [200_000, "3m20s"],
      [300_000, "5m"],
      [42 * 60_000, "42m"],
      [(5 * 60 + 10) * 60_000, "5h10m"],
      [12 * 3_600_000, "12h"],
      [(3 * 24 + 4) * 3_600_000, "3d4h"],
      [120 * 86_400_000, "120d"],
      [(2 * 365 + 30) * 86_400_000, "2y30d"],
      [9 * 365 * 86_400_000, "9y"],
    ]
    for (const [millis, text] of cases) assert.equal(Table.humanDuration(millis), text, String(millis))
  })
})

describe("devserver OpenAPI and field validation", () => {
  it("serves OpenAPI v3 per group-version (with fieldValidation on creates), a v2 without definitions, 404 otherwise", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      const indexAnswer = yield* call(s, { path: "/openapi/v3" })
      // kube-apiserver serves the index with http.ServeContent, which sniffs JSON as plain text
      assert.equal(indexAnswer.headers["content-type"], "text/plain; charset=utf-8")
      const index = indexAnswer.json as {
        paths: Record<string, { serverRelativeURL: string }>
      }
      assert.deepEqual(Object.keys(index.paths), [
        "api/v1",
        "apis/authentication.k8s.io/v1",
        "apis/authorization.k8s.io/v1",
      ])
      const auth = (yield* call(s, { path: index.paths["apis/authentication.k8s.io/v1"]!.serverRelativeURL }))
        .json as {
          openapi: string
          paths: Record<string, { parameters?: ReadonlyArray<{ name: string }> }>
          components: { schemas: Record<string, Record<string, unknown>> }
        }
      assert.equal(auth.openapi, "3.0.0")
      assert.ok(
        auth.paths["/apis/authentication.k8s.io/v1/tokenreviews"]!.parameters!.some((p) =>
          p.name === "fieldValidation"
        ),
      )
      assert.deepEqual(
        auth.components.schemas["io.k8s.api.authentication.v1.TokenReview"]!["x-kubernetes-group-version-kind"],
        [
          { group: "authentication.k8s.io", version: "v1", kind: "TokenReview" },
        ],
      )
      const core = (yield* call(s, { path: "/openapi/v3/api/v1" })).json as {
        components: { schemas: Record<string, { required?: ReadonlyArray<string> }> }
      }
      assert.deepEqual(core.components.schemas["io.k8s.api.core.v1.PodSpec"]!.required, ["containers"])
      const missing = yield* call(s, { path: "/openapi/v3/apis/apps/v1" })
      assert.deepEqual([missing.status, missing.text], [404, ""])
      const v2 = yield* call(s, { path: "/openapi/v2" })
      assert.deepEqual((v2.json as { swagger: string }).swagger, "2.0")
      const anonymous = yield* call(s, { path: "/openapi/v3", as: { none: true } })
      assert.equal(statusOf(anonymous).message, 'forbidden: User "system:anonymous" cannot get path "/openapi/v3"')
    })))

  it("honours fieldValidation on creates: Strict refuses unknown fields, Warn (the default) warns, others 422", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      const review = (query: string) =>
        call(s, {
          path: `/apis/authentication.k8s.io/v1/tokenreviews${query}`,
          body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token: "a", bogus: 1 }, x: 2 },
        })
      const strict = yield* review("?fieldValidation=Strict")
      assert.deepEqual([strict.status, statusOf(strict).message], [
        400,
        'TokenReview in version "v1" cannot be handled as a TokenReview: strict decoding error: unknown field "spec.bogus", unknown field "x"',
      ])
      const warn = yield* review("")
      assert.equal(warn.status, 201)
      assert.equal(warn.headers.warning, '299 - "unknown field \\"spec.bogus\\"", 299 - "unknown field \\"x\\""')
      assert.equal((yield* review("?fieldValidation=Ignore")).headers.warning, undefined)
      const bad = yield* review("?fieldValidation=Nope")
      assert.deepEqual([bad.status, statusOf(bad).message], [
        422,
        'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Nope": supported values: "", "Ignore", "Strict", "Warn"',
      ])
      const token = yield* call(s, {
        path: `${tokenPath("default", "default")}?fieldValidation=Strict`,
        body: tokenRequest({ audiences: ["a"], expirationSeconds: 600 }, { name: "default", labels: { a: "b" } }),
      })
      assert.equal(token.status, 201)
    })))
})

describe("devserver state changes", () => {
  it("applies in-process changes to the next request", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      const uid = s.state.upsertServiceAccount("team-b", "builder", "fixed-uid")
      assert.equal(uid, "fixed-uid")
      const issued = issuedOf(yield* call(s, { path: tokenPath("team-b", "builder"), body: tokenRequest({}) }))
      assert.equal(issued.metadata.uid, "fixed-uid")
      s.state.upsertPod({ namespace: "team-b", name: "p", serviceAccountName: "builder" })
      const bound = yield* call(s, {
        path: tokenPath("team-b", "builder"),
        body: tokenRequest({ boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "p" } }),
      })
      assert.equal(bound.status, 201)
      assert.equal(s.state.deleteServiceAccount("team-b", "builder"), true)
      assert.equal((yield* call(s, { path: tokenPath("team-b", "builder"), body: tokenRequest({}) })).status, 404)
    })))

  it("changes state and faults through the admin API", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      const created = yield* call(s, {
        path: "/devserver/v1/serviceaccounts",
        body: { namespace: "default", name: "ci" },
      })
      const { uid } = created.json as { uid: string }
      assert.equal(s.state.serviceAccount("default", "ci")?.uid, uid)
      const bad = yield* call(s, { path: "/devserver/v1/pods", body: { namespace: "default", name: "x" } })
      assert.equal(bad.status, 400)
      assert.match(statusOf(bad).message ?? "", /serviceAccountName/)
      assert.equal((yield* call(s, { path: "/devserver/v1/pods/default/demo", method: "DELETE" })).status, 200)
      assert.equal(s.state.pod("default", "demo"), undefined)
      assert.equal((yield* call(s, { path: "/devserver/v1/pods/default/demo", method: "DELETE" })).status, 404)
      assert.equal((yield* call(s, { path: "/devserver/v1/pods/default/%E0%A4%A", method: "DELETE" })).status, 400)
      yield* call(s, {
        path: "/devserver/v1/statictokens",
        body: { token: "t0k", user: "bot", groups: ["system:masters"] },
      })
      assert.equal((yield* call(s, { path: "/devserver/v1/state", as: { token: "t0k" } })).status, 200)
      yield* call(s, {
        path: "/devserver/v1/faults",
        body: { status: 429, retryAfterSeconds: 3, count: 1, pathPrefix: "/api/" },
      })
      const limited = yield* call(s, { path: issue, body: tokenRequest({}) })
      assert.equal(limited.status, 429)
      assert.equal((yield* call(s, { path: issue, body: tokenRequest({}) })).status, 201)
      const stats = (yield* call(s, { path: "/devserver/v1/stats" })).json as Record<string, number>
      assert.equal(stats.tokensIssued, 1)
      assert.equal(stats.faultsInjected, 1)
      yield* call(s, { path: "/devserver/v1/faults", body: { status: 503 } })
      assert.equal((yield* call(s, { path: "/devserver/v1/faults", method: "DELETE" })).status, 200)
      assert.equal((yield* call(s, { path: "/healthz" })).status, 200)
    })))
})

describe("devserver fault injection", () => {
  it("answers a status with Retry-After for the next N requests", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      s.faults.inject({ status: 429, retryAfterSeconds: 1, count: 2 })
      for (let i = 0; i < 2; i++) {
        const answer = yield* call(s, { path: issue, body: tokenRequest({}) })
        assert.equal(answer.headers["retry-after"], "1")
        assert.deepEqual(statusOf(answer), {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Failure",
          message: "Too many requests, please try again later.",
          reason: "TooManyRequests",
          details: { retryAfterSeconds: 1 },
          code: 429,
        })
      }
      assert.equal((yield* call(s, { path: issue, body: tokenRequest({}) })).status, 201)
      assert.equal(s.stats.tokensIssued, 1)
    })))

  it("drops connections, sends malformed bodies, adds latency, and honours fractions and path prefixes", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      s.faults.inject({ drop: true, count: 1 })
      const dropped = yield* Effect.promise(() =>
        send(s, { path: "/healthz" }).then(() => "answered", (e) => String(e))
      )
      assert.notEqual(dropped, "answered")
      s.faults.inject({ malformed: true, count: 1 })
      const malformed = yield* call(s, { path: issue, body: tokenRequest({}) })
      assert.equal(malformed.status, 201)
      assert.equal(malformed.json, undefined)
      s.faults.inject({ malformed: true, body: "<html>", contentType: "text/html", count: 1 })
      const html = yield* call(s, { path: "/version" })
      assert.deepEqual([html.text, html.headers["content-type"]], ["<html>", "text/html"])
      s.faults.inject({ latencyMillis: 20, count: 1 })
      assert.equal((yield* call(s, { path: "/healthz" })).text, "ok")
      s.faults.inject({ status: 500, fraction: 0 })
      assert.equal((yield* call(s, { path: "/healthz" })).status, 200)
      s.faults.clear()
      s.faults.inject({ status: 503, fraction: 1, pathPrefix: "/api/" })
      assert.equal((yield* call(s, { path: "/healthz" })).status, 200)
      assert.equal(statusOf(yield* call(s, { path: issue, body: tokenRequest({}) })).code, 503)
      assert.equal((yield* call(s, { path: "/devserver/v1/stats" })).status, 200)
      s.faults.clear()
      assert.equal((yield* call(s, { path: issue, body: tokenRequest({}) })).status, 201)
    })))
})

describe("devserver state files", () => {
  it("parses YAML and JSON and names the bad field path", () =>
    runTest(Effect.gen(function* () {
      const good = yield* parseState("namespaces: [a]\nserviceAccounts:\n  - { namespace: a, name: b, uid: u1 }\n")
      assert.deepEqual(good.serviceAccounts, [{ namespace: "a", name: "b", uid: "u1" }])
      const json = yield* parseState('{"nodes":[{"name":"n"}]}')
      assert.deepEqual(json.nodes, [{ name: "n" }])
      const bad = yield* Effect.flip(parseState("pods:\n  - { namespace: a, name: p }\n", "state.yaml"))
      assert.equal(bad.message, "dev-server: invalid state: state.yaml: pods.0.serviceAccountName: is missing")
      const typo = yield* Effect.flip(parseState("serviceAcounts: []\n"))
      assert.match(typo.message, /serviceAcounts/)
      const notYaml = yield* Effect.flip(parseState("a: [\n"))
      assert.equal(notYaml.reason, "State")
    })))

  it("starts from a state given in-process", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server({ state: { serviceAccounts: [{ namespace: "x", name: "y", uid: "u" }] } })
      assert.equal(s.state.namespace("x")?.name, "x")
      assert.equal(s.state.serviceAccount("default", "default"), undefined)
    })))
})

describe("devserver connection limits", () => {
  const raw = (port: number) => () => net.connect(port, "127.0.0.1")
  const secure = (port: number, ca: string) => () =>
    tls.connect({ port, host: "127.0.0.1", ca, servername: "localhost", ALPNProtocols: ["http/1.1"] })

  it("holds at most maxConnections: of 200 connections that never handshake, 160 are closed at once", {
    timeout: 60_000,
  }, () =>
    runTest(Effect.gen(function* () {
      const s = yield* server({ connections: { maxConnections: 40 } })
      const batch = yield* Effect.promise(() => Connections.open(200, raw(s.port)))
      yield* Effect.promise(() => batch.closed(160))
      assert.equal(batch.sockets.filter((socket) => !batch.isClosed(socket)).length, 40)
      // full: a real client is refused too, until the held connections go
      const refused = yield* Effect.promise(() => send(s, { path: "/healthz" }).then(() => "served", () => "refused"))
      assert.equal(refused, "refused")
      batch.destroy()
    })))

  it("closes connections that never handshake, handshake and send nothing, or idle after a response", {
    timeout: 60_000,
  }, () =>
    runTest(Effect.gen(function* () {
      // The header deadline must outlast a TLS handshake on a loaded machine: the kept connections answer within it.
      const limits = { maxConnections: 400, headersTimeoutMillis: 5000, idleTimeoutMillis: 100 }
      const s = yield* server({ connections: limits })
      const kept = yield* Effect.promise(() => Connections.open(10, secure(s.port, s.caPem)))
      const answers = yield* Effect.promise(() =>
        Promise.all(kept.sockets.map((socket) =>
          new Promise<string>((resolve) => {
            let data = ""
            socket.on("data", (chunk: Buffer) => {
              data += chunk.toString("utf8")
              if (data.includes("\r\n")) resolve(data.split("\r\n")[0]!)
            })
            socket.once("close", () => resolve(data.split("\r\n")[0] || "closed"))
            socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
          })
        ))
      )
      assert.deepEqual(new Set(answers), new Set(["HTTP/1.1 200 OK"]))
      const silent = yield* Effect.promise(() => Connections.open(50, secure(s.port, s.caPem)))
      const unshaken = yield* Effect.promise(() => Connections.open(100, raw(s.port)))
      yield* Effect.promise(() => Promise.all([kept.closed(10), silent.closed(50), unshaken.closed(100)]))
      assert.equal((yield* call(s, { path: "/healthz" })).text, "ok", "the server serves as before")
    })))
})
