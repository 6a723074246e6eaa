import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as Status from "../../core/Status.ts"

const decode = Schema.decodeUnknownEither(Status.Status)

describe("Status.Status", () => {
  it("needs only kind and apiVersion, and adds no key for an absent field", () => {
    const status = Either.getOrThrow(decode({ kind: "Status", apiVersion: "v1" }))
    assert.deepEqual(status, { kind: "Status", apiVersion: "v1" })
    assert.deepEqual(Object.keys(status), ["kind", "apiVersion"])
  })

  it("decodes a 429 with its retry hint, and drops fields it does not know", () => {
    const status = Either.getOrThrow(decode({
      kind: "Status",
      apiVersion: "v1",
      metadata: { resourceVersion: "7", continue: "x" },
      status: "Failure",
      message: "too many requests",
      reason: "TooManyRequests",
      details: { retryAfterSeconds: 3, extra: true, causes: [{ message: "slow down", extra: 1 }] },
      code: 429,
      extra: "ignored",
    }))
    assert.deepEqual(status, {
      kind: "Status",
      apiVersion: "v1",
      metadata: { resourceVersion: "7" },
      status: "Failure",
      message: "too many requests",
      reason: "TooManyRequests",
      details: { retryAfterSeconds: 3, causes: [{ message: "slow down" }] },
      code: 429,
    })
  })

  it("accepts Success and Failure as the status, and no other", () => {
    assert.ok(Either.isRight(decode({ kind: "Status", apiVersion: "v1", status: "Success", code: 200 })))
    assert.ok(Either.isLeft(decode({ kind: "Status", apiVersion: "v1", status: "failure" })))
    assert.ok(Either.isLeft(decode({ kind: "Status", apiVersion: "v1", status: "Pending" })))
  })

  it("rejects a body that is not a Status: another kind, no apiVersion, or fields of the wrong type", () => {
    const bad: ReadonlyArray<unknown> = [
      { kind: "TokenRequest", apiVersion: "v1" },
      { apiVersion: "v1" },
      { kind: "Status" },
      { kind: "Status", apiVersion: "v1", code: "404" },
      { kind: "Status", apiVersion: "v1", details: { retryAfterSeconds: "3" } },
      { kind: "Status", apiVersion: "v1", details: { causes: [{ field: 1 }] } },
      { kind: "Status", apiVersion: "v1", message: null },
      null,
      "Status",
    ]
    for (const body of bad) assert.ok(Either.isLeft(decode(body)), JSON.stringify(body))
  })

  it("encodes a built failure back to the same wire object", () => {
    const failure = Status.failure(422, "Invalid", "bad", {
      details: { kind: "TokenRequest", causes: [{ reason: "FieldValueInvalid", field: "spec.expirationSeconds" }] },
    })
    assert.deepEqual(Schema.encodeSync(Status.Status)(failure), failure)
    assert.deepEqual(Either.getOrThrow(decode(JSON.parse(JSON.stringify(failure)))), failure)
  })
})

describe("Status.failure", () => {
  it("carries the details it is given", () => {
    const details = { name: "x", kind: "serviceaccounts", retryAfterSeconds: 5 }
    assert.deepEqual(Status.failure(429, "TooManyRequests", "slow down", { details }), {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: "slow down",
      reason: "TooManyRequests",
      details,
      code: 429,
    })
  })

  it("adds no details key when the options hold none", () => {
    assert.ok(!("details" in Status.failure(500, "InternalError", "boom", {})))
  })
})
