import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { inspect } from "node:util"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Status from "../../core/Status.ts"
import { FetchFailed, InvalidTokenRequest, TokenExpired, TokenFetchError } from "../../core/TokenError.ts"
import * as TokenRequest from "../../core/TokenRequest.ts"
import * as Validation from "../../core/Validation.ts"
import { GTR } from "../_support/harness.ts"

const secret = "eyJhbGciOiJFUzI1NiJ9.MARKER-c0ffee.sig"

const wire = {
  kind: "TokenRequest",
  apiVersion: "authentication.k8s.io/v1",
  metadata: { name: "builder", namespace: "team-a", uid: "0a9b", creationTimestamp: "2025-03-01T10:00:00Z" },
  spec: {
    audiences: ["https://kubernetes.default.svc.cluster.local"],
    expirationSeconds: 3607,
    boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "web", uid: "6f1c" },
  },
  status: { token: secret, expirationTimestamp: "2025-03-01T11:00:07Z" },
}

const decode = Schema.decodeUnknownEither(TokenRequest.TokenRequestJson)

describe("TokenRequest.TokenRequestJson", () => {
  it("decodes a 201 response: RFC 3339 to Date, token to Redacted, unknown fields dropped", () => {
    const decoded = Either.getOrThrow(decode(wire))
    assert.equal(decoded.status?.expirationTimestamp.toISOString(), "2025-03-01T11:00:07.000Z")
    assert.equal(Redacted.value(decoded.status!.token), secret)
    assert.deepEqual(decoded.metadata, { name: "builder", namespace: "team-a", uid: "0a9b" })
    assert.equal(decoded.spec.boundObjectRef?.kind, "Pod")
  })

  it("encodes back to the wire form with apiVersion, kind and whole-second timestamps", () => {
    const decoded = Either.getOrThrow(decode(wire))
    const encoded = Schema.encodeSync(TokenRequest.TokenRequestJson)(decoded)
    assert.deepEqual(encoded, { ...wire, metadata: { name: "builder", namespace: "team-a", uid: "0a9b" } })
  })

  it("keeps audiences null (absent) and [] (empty) apart, as kubelet's key does", () => {
    const nullAudiences = Either.getOrThrow(decode({ spec: { audiences: null } }))
    const emptyAudiences = Either.getOrThrow(decode({ spec: { audiences: [] } }))
    assert.equal(nullAudiences.spec.audiences, undefined)
    assert.deepEqual(emptyAudiences.spec.audiences, [])
    assert.notEqual(TokenRequest.cacheKey("a", "b", nullAudiences), TokenRequest.cacheKey("a", "b", emptyAudiences))
  })

  it("rejects timestamps that are not RFC 3339 and tokens that are not strings", () => {
    for (const expirationTimestamp of ["tomorrow", "2025-03-01", "2025-13-01T00:00:00Z", "", 5]) {
      assert.ok(
        Either.isLeft(decode({ spec: {}, status: { token: "t", expirationTimestamp } })),
        String(expirationTimestamp),
      )
    }
    assert.ok(Either.isLeft(decode({ spec: {}, status: { token: 1, expirationTimestamp: "2025-03-01T00:00:00Z" } })))
    assert.ok(Either.isLeft(decode({ spec: {}, status: { expirationTimestamp: "2025-03-01T00:00:00Z" } })))
  })

  it("never shows the token in String, JSON, inspect or a parse error", () => {
    const decoded = Either.getOrThrow(decode(wire))
    for (const text of [String(decoded.status?.token), JSON.stringify(decoded), inspect(decoded, { depth: 10 })]) {
      assert.ok(!text.includes("MARKER"), text)
    }
  })

  it("decode gives short, log-safe errors that never quote the token", () => {
    const failed = TokenRequest.decode({ ...wire, status: { token: secret, expirationTimestamp: "never" } })
    assert.ok(Either.isLeft(failed))
    assert.equal(failed.left, 'status.expirationTimestamp: Expected an RFC 3339 timestamp, received "never"')
    const wrongType = TokenRequest.decode({ spec: { audiences: 5 }, status: { token: secret, expirationTimestamp: 7 } })
    assert.ok(Either.isLeft(wrongType) && !wrongType.left.includes("MARKER"), String(wrongType))
    assert.ok(Either.isLeft(wrongType) && wrongType.left.includes("spec.audiences"))
    const noSpec = TokenRequest.decode({ status: { token: secret, expirationTimestamp: "2020-01-01T00:00:00Z" } })
    assert.ok(Either.isLeft(noSpec) && !noSpec.left.includes("MARKER") && noSpec.left.includes("spec"))
    assert.ok(Either.isRight(TokenRequest.decode(wire)))
  })
})

describe("TokenRequest.cacheKey", () => {
  it("renders kubelet's key for the upstream request, with the 1.34 UID appended", () => {
    assert.equal(
      TokenRequest.cacheKey("b", "a", GTR),
      '"b"/"a"/[]string{"foo1", "foo2"}/2000/v1.BoundObjectReference{Kind:"pod", APIVersion:"", Name:"foo-pod", UID:"foo-uid"}/""',
    )
  })
  it("treats absent expirationSeconds as 0 and an absent bound object as an all-empty one", () => {
    assert.equal(
      TokenRequest.cacheKey("b", "a", { spec: {} }),
      TokenRequest.cacheKey("b", "a", { spec: { expirationSeconds: 0, boundObjectRef: {} } }),
    )
  })
  it("quotes like Go's %q: backslash, quote and control characters escaped", () => {
    assert.equal(TokenRequest.quote("plain"), '"plain"')
    assert.equal(TokenRequest.quote('a"b\\c\nd\u0001'), '"a\\"b\\\\c\\nd\\x01"')
  })
  it("distinguishes metadata.uid, and quotes so that components cannot run together", () => {
    const uid = (u?: string) => TokenRequest.cacheKey("b", "a", { ...GTR, metadata: u === undefined ? {} : { uid: u } })
    assert.notEqual(uid("x"), uid("y"))
    assert.notEqual(uid("x"), uid())
    assert.equal(uid(""), uid())
    assert.notEqual(
      TokenRequest.cacheKey("b", "a", { spec: { audiences: ["ab", "cd"] } }),
      TokenRequest.cacheKey("b", "a", { spec: { audiences: ["a", "bcd"] } }),
    )
    assert.notEqual(
      TokenRequest.cacheKey("b", "a", { spec: { audiences: ['x", "y'] } }),
      TokenRequest.cacheKey("b", "a", { spec: { audiences: ["x", "y"] } }),
    )
  })
})

describe("TokenRequest.fingerprint and withoutToken", () => {
  it("fingerprints are 12 hex digits, stable, distinct, and do not contain the token", () => {
    const a = TokenRequest.fingerprint(secret)
    assert.match(a, /^[0-9a-f]{12}$/)
    assert.equal(a, TokenRequest.fingerprint(secret))
    assert.notEqual(a, TokenRequest.fingerprint(secret + "x"))
  })
  it("withoutToken drops the status", () => {
    const decoded = Either.getOrThrow(decode(wire))
    assert.equal(TokenRequest.withoutToken(decoded).status, undefined)
    assert.deepEqual(TokenRequest.withoutToken(decoded).spec, decoded.spec)
  })
})

describe("Status", () => {
  it("decodes kube-apiserver's 422 body and builds failures", () => {
    const body = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 60: x',
      reason: "Invalid",
      details: {
        group: "authentication.k8s.io",
        kind: "TokenRequest",
        causes: [{ reason: "FieldValueInvalid", field: "spec.expirationSeconds" }],
      },
      code: 422,
    }
    const status = Schema.decodeUnknownSync(Status.Status)(body)
    assert.equal(status.details?.causes?.[0]?.field, "spec.expirationSeconds")
    assert.deepEqual(Status.failure(404, "NotFound", "x"), {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: "x",
      reason: "NotFound",
      code: 404,
    })
  })
})

describe("TokenError messages", () => {
  const cause = new TokenFetchError({ reason: "NotFound", description: 'serviceaccounts "x" not found', status: 404 })
  it("compute kubelet's texts from their fields", () => {
    assert.equal(new FetchFailed({ key: "k", cause }).message, 'failed to fetch token: serviceaccounts "x" not found')
    assert.equal(
      new TokenExpired({ key: "k", cause }).message,
      'token k expired and refresh failed: serviceaccounts "x" not found',
    )
    assert.equal(new FetchFailed({ key: "k", cause }).reason, "NotFound")
    const invalid = new InvalidTokenRequest({ field: "namespace", reason: "Format", value: '"A"', detail: "bad" })
    assert.equal(invalid.message, 'invalid token request: namespace: Invalid value: "A": bad')
    assert.equal(invalid._tag, "InvalidTokenRequest")
  })
  it("are tagged Effect errors that serialise without secrets", () => {
    const error = new FetchFailed({ key: "k", cause })
    assert.equal(error._tag, "FetchFailed")
    assert.ok(error instanceof Error)
    assert.ok(JSON.stringify(error).includes("NotFound"))
  })
})

describe("Validation.check", () => {
  const ok = { spec: { audiences: ["vault"], expirationSeconds: 3600 } }
  it("accepts a valid request", () => {
    assert.equal(Validation.check("default", "builder.v1", ok), undefined)
    assert.equal(Validation.check("a", "b", { spec: {} }), undefined)
  })
  const bad: ReadonlyArray<[string, string, string, unknown, string]> = [
    ["namespace with a slash", "a/b", "x", ok, "namespace"],
    ["namespace with dots", "a.b", "x", ok, "namespace"],
    ["namespace upper case", "Default", "x", ok, "namespace"],
    ["empty namespace", "", "x", ok, "namespace"],
    ["namespace too long", "a".repeat(64), "x", ok, "namespace"],
    ["name with ..", "default", "..", ok, "name"],
    ["name with %2F", "default", "a%2Fb", ok, "name"],
    ["name with unicode", "default", "bü", ok, "name"],
    ["name with a control character", "default", "a\nb", ok, "name"],
    ["name too long", "default", "a".repeat(254), ok, "name"],
    ["empty audience", "default", "x", { spec: { audiences: [""] } }, "spec.audiences[0]"],
    ["huge audience", "default", "x", { spec: { audiences: ["a".repeat(5000)] } }, "spec.audiences[0]"],
    ["too many audiences", "default", "x", { spec: { audiences: Array(65).fill("a") } }, "spec.audiences"],
    ["fractional lifetime", "default", "x", { spec: { expirationSeconds: 600.5 } }, "spec.expirationSeconds"],
    ["negative lifetime", "default", "x", { spec: { expirationSeconds: -1 } }, "spec.expirationSeconds"],
    ["NaN lifetime", "default", "x", { spec: { expirationSeconds: NaN } }, "spec.expirationSeconds"],
    ["lifetime below 10 minutes", "default", "x", { spec: { expirationSeconds: 599 } }, "spec.expirationSeconds"],
    ["lifetime above 2^32", "default", "x", { spec: { expirationSeconds: 2 ** 32 + 1 } }, "spec.expirationSeconds"],
  ]
  for (const [title, namespace, name, request, field] of bad) {
    it(`rejects ${title}, naming ${field}`, () => {
      const problem = Validation.check(namespace, name, request as TokenRequest.TokenRequest)
      assert.ok(problem instanceof InvalidTokenRequest)
      assert.equal(problem.field, field)
      assert.ok(problem.message.startsWith(`invalid token request: ${field}: Invalid value: `), problem.message)
      assert.ok(problem.message.length < 400)
    })
  }
  it("accepts the boundaries 600 and 2^32", () => {
    assert.equal(Validation.check("a", "b", { spec: { expirationSeconds: 600 } }), undefined)
    assert.equal(Validation.check("a", "b", { spec: { expirationSeconds: 2 ** 32 } }), undefined)
  })
})
