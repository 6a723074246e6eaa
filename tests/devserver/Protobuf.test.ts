/**
 * Kubernetes protobuf: the codec against bytes a real kube-apiserver sent, and the server answering kubectl's `Accept`
 * in protobuf (reviews, tokens, Status errors, objects, lists, discovery documents, watch streams) while JSON clients,
 * Tables and the admin API keep JSON.
 */
import assert from "node:assert/strict"
import * as https from "node:https"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Protobuf from "../../adapters/devserver/Protobuf.ts"
import * as ProtobufMeta from "../../adapters/devserver/ProtobufMeta.ts"
import * as ProtobufTypes from "../../adapters/devserver/ProtobufTypes.ts"
import * as ProtobufWatch from "../../adapters/devserver/ProtobufWatch.ts"
import type { DevServer } from "../../adapters/devserver/mod.ts"
import { call, server, T, tokenPath, tokenRequest } from "../_support/devserver.ts"
import { runTest } from "../_support/harness.ts"

const kubectlAccept = "application/vnd.kubernetes.protobuf,application/json"
const fromHex = (hex: string): Uint8Array => new Uint8Array(hex.match(/../g)!.map((b) => parseInt(b, 16)))
/** A document without its zero values ("", 0, false, null) and the objects left empty by their removal. */
const withoutZeros = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(withoutZeros)
  if (typeof value !== "object" || value === null) return value
  const entries = Object.entries(value).map(([k, v]) => [k, withoutZeros(v)] as const)
  return Object.fromEntries(entries.filter(([, v]) =>
    !(v === "" || v === 0 || v === false || v === null ||
      (typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0))
  ))
}
const decode = (bytes: Uint8Array) => Protobuf.decode(bytes, ProtobufTypes.messageOf, { keepUnknown: true })

/** kube-apiserver's 401 to a bad bearer token, asked for with kubectl's `Accept`. */
const realUnauthorized =
  "6b3873000a0c0a027631120653746174757312300a060a0012001a0012074661696c7572651a0c556e617574686f72697a6564220c556e617574686f72697a65643091031a002200"

/** kube-apiserver's 403 to user bob creating builder's token in namespace diff. */
const realForbidden =
  "6b3873000a0c0a027631120653746174757312cd010a060a0012001a0012074661696c7572651a8901736572766963656163636f756e747320226275696c6465722220697320666f7262696464656e3a20557365722022626f62222063616e6e6f7420637265617465207265736f757263652022736572766963656163636f756e74732f746f6b656e2220696e204150492067726f757020222220696e20746865206e616d657370616365202264696666222209466f7262696464656e2a200a076275696c64657212001a0f736572766963656163636f756e7473280032003093031a002200"

/** Opens a watch with kubectl's `Accept`; `read(n)` waits for the stream's first `n` events. */
const protobufWatch = (s: DevServer, path: string) => {
  let received: Uint8Array = new Uint8Array()
  let contentType = ""
  let waiting: (() => void) | undefined
  const req = https.get(`${s.url}${path}`, {
    ca: s.caPem,
    cert: s.adminCertPem,
    key: s.adminKeyPem,
    agent: false,
    headers: { accept: kubectlAccept },
  }, (res) => {
    contentType = String(res.headers["content-type"])
    res.on("data", (chunk: Uint8Array) => {
      received = new Uint8Array([...received, ...chunk])
      waiting?.()
    })
    res.on("error", () => {})
  })
  req.on("error", () => {})
  const events = () => ProtobufWatch.decodeStream(received, ProtobufTypes.messageOf, { omitZero: true })
  return {
    read: (n: number) =>
      Effect.promise(() =>
        new Promise<{ contentType: string; events: ReturnType<typeof events> }>((resolve) => {
          const check = () => {
            if (events().length >= n) resolve({ contentType, events: events() })
          }
          waiting = check
          check()
        })
      ),
    close: () => req.destroy(),
  }
}

describe("devserver protobuf codec", () => {
  it("writes a Status byte for byte as kube-apiserver does, and reads it back", () => {
    for (const hex of [realUnauthorized, realForbidden]) {
      const status = decode(fromHex(hex))
      // the JSON shape a JSON client gets, zero values left out
      const json = Protobuf.decode(fromHex(hex), ProtobufTypes.messageOf, { omitZero: true })
      assert.equal(status.kind, "Status")
      assert.deepEqual(Protobuf.encode(json, ProtobufMeta.status), fromHex(hex))
    }
    assert.deepEqual(decode(fromHex(realForbidden)).details, {
      name: "builder",
      group: "",
      kind: "serviceaccounts",
      retryAfterSeconds: 0,
      uid: "",
    })
  })

  it("writes non-pointer fields even when zero, pointers only when set, map entries by key; skips unknown fields", () => {
    const bytes = Protobuf.encode({
      apiVersion: "authentication.k8s.io/v1",
      kind: "SelfSubjectReview",
      metadata: {},
      status: { userInfo: { username: "u", groups: ["g"], extra: { z: ["1"], a: ["2", "3"] } } },
    }, ProtobufTypes.selfSubjectReview)
    const decoded = decode(bytes)
    assert.deepEqual(decoded.metadata, {
      name: "",
      generateName: "",
      namespace: "",
      selfLink: "",
      uid: "",
      resourceVersion: "",
      generation: 0,
      creationTimestamp: null,
    })
    const userInfo = (decoded.status as { userInfo: Record<string, unknown> }).userInfo
    assert.deepEqual(userInfo, { username: "u", uid: "", groups: ["g"], extra: { a: ["2", "3"], z: ["1"] } })
    assert.deepEqual(Object.keys(userInfo.extra as object), ["a", "z"])
    // a map key `__proto__` is a key like any other, as in JSON
    const hostile = decode(Protobuf.encode(
      { apiVersion: "v1", kind: "Secret", metadata: { labels: JSON.parse('{"__proto__":"x","a":"b"}') } },
      ProtobufTypes.byKind.Secret!,
    ))
    const labels = (hostile.metadata as { labels: Record<string, string> }).labels
    assert.deepEqual([Object.getPrototypeOf(labels), Object.keys(labels)], [Object.prototype, ["__proto__", "a"]])
    const spec = { audiences: [], expirationSeconds: 0 }
    const request = decode(
      Protobuf.encode(
        { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec },
        ProtobufTypes.tokenRequest,
      ),
    )
    // expirationSeconds is a pointer: set to 0, it is written; boundObjectRef, unset, is not
    assert.deepEqual(request.spec, { expirationSeconds: 0 })
    // a field the table does not name: kept when asked, else skipped
    const withUnknown = new Uint8Array([0x12, 0x01, 0x78, 0x48, 0x07])
    assert.deepEqual(Protobuf.decodeMessage(withUnknown, ProtobufMeta.status, { keepUnknown: true }), {
      status: "x",
      "#9": "07",
    })
    assert.deepEqual(Protobuf.decodeMessage(withUnknown, ProtobufMeta.status), { status: "x" })
  })
})

describe("devserver protobuf replies", () => {
  it("answers kubectl's Accept in protobuf: TokenRequest, SelfSubjectReview and Status errors", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      const headers = { accept: kubectlAccept }
      const issued = yield* call(s, { path: tokenPath("default", "default"), body: tokenRequest({}), headers })
      assert.equal(issued.status, 201)
      assert.equal(issued.headers["content-type"], "application/vnd.kubernetes.protobuf")
      const token = decode(issued.bytes)
      assert.equal(token.kind, "TokenRequest")
      const status = token.status as { token: string; expirationTimestamp: string }
      assert.match(status.token, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/)
      assert.equal(status.expirationTimestamp, new Date(T + 3600_000).toISOString().replace(".000", ""))
      assert.deepEqual(token.spec, {
        audiences: ["https://kubernetes.default.svc.cluster.local"],
        expirationSeconds: 3600,
      })
      assert.equal((token.metadata as { generateName?: string }).generateName, "")

      const review = yield* call(s, {
        path: "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
        headers,
      })
      const userInfo = (decode(review.bytes).status as { userInfo: { groups: ReadonlyArray<string> } }).userInfo
      assert.ok(userInfo.groups.includes("system:masters"))

      const denied = yield* call(s, {
        path: tokenPath("default", "default"),
        body: tokenRequest({}),
        headers,
        as: { none: true },
      })
      assert.equal(denied.status, 403)
      assert.deepEqual([decode(denied.bytes).kind, decode(denied.bytes).code], ["Status", 403])
      const unauthorized = yield* call(s, { path: "/api/v1/namespaces", headers, as: { token: "not-a-token" } })
      assert.deepEqual(unauthorized.bytes, fromHex(realUnauthorized))
    })))

  it("answers objects, lists and discovery documents in protobuf with what their JSON says", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      const paths = [
        "/api/v1/namespaces/default/serviceaccounts",
        "/api/v1/namespaces/default",
        "/api/v1/nodes/node-1",
        "/api/v1/namespaces/default/pods",
        "/api",
        "/api/v1",
        "/apis",
        "/apis/authentication.k8s.io",
      ]
      for (const path of paths) {
        const json = (yield* call(s, { path })).json as Record<string, unknown>
        const answer = yield* call(s, { path, headers: { accept: kubectlAccept } })
        assert.equal(answer.headers["content-type"], "application/vnd.kubernetes.protobuf", path)
        // the same document, once the Go zero values protobuf writes and JSON leaves out are set aside
        assert.deepEqual(withoutZeros(decode(answer.bytes)), withoutZeros(json), path)
      }
    })))

  it("streams a watch as protobuf frames when Accept prefers protobuf", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      const w = protobufWatch(s, "/api/v1/namespaces/default/serviceaccounts?watch=true")
      const first = yield* w.read(1)
      assert.equal(first.contentType, "application/vnd.kubernetes.protobuf;stream=watch")
      const json = (yield* call(s, { path: "/api/v1/namespaces/default/serviceaccounts/default" })).json
      assert.deepEqual(first.events[0], { type: "ADDED", object: { apiVersion: "v1", ...json as object } })
      s.state.deleteServiceAccount("default", "default")
      const second = yield* w.read(2)
      assert.deepEqual(
        [second.events[1]!.type, (second.events[1]!.object.metadata as { name: string }).name],
        ["DELETED", "default"],
      )
      w.close()
    })))

  it("keeps JSON for JSON clients, Tables and the admin API", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      const json = yield* call(s, { path: tokenPath("default", "default"), body: tokenRequest({}) })
      assert.equal(json.headers["content-type"], "application/json")
      assert.equal((json.json as { kind: string }).kind, "TokenRequest")
      const accepts = [
        ["/api/v1/namespaces/default/serviceaccounts", `application/json;as=Table;v=v1;g=meta.k8s.io,${kubectlAccept}`],
        ["/devserver/state", kubectlAccept],
      ]
      for (const [path, accept] of accepts) {
        const answer = yield* call(s, { path: path!, headers: { accept: accept! } })
        assert.equal(answer.headers["content-type"], "application/json", path)
      }
    })))
})
