import assert from "node:assert/strict"
import { describe, it } from "node:test"
import fc from "fast-check"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { InvalidTokenRequest } from "../../core/TokenError.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import * as Validation from "../../core/Validation.ts"

/** The problem with a request, as [field, reason, value]; `undefined` when it may be sent. */
const problem = (namespace: string, name: string, request: TokenRequest = { spec: {} }) => {
  const found = Validation.check(namespace, name, request)
  return found && [found.field, found.reason, found.value]
}
const spec = (s: TokenRequest["spec"]): TokenRequest => ({ spec: s })

describe("Validation limits", () => {
  it("are 10 minutes to 2^32 seconds, 64 audiences of up to 2048 characters", () => {
    assert.equal(Validation.minExpirationSeconds, 600)
    assert.equal(Validation.maxExpirationSeconds, 2 ** 32)
    assert.equal(Validation.maxAudiences, 64)
    assert.equal(Validation.maxAudienceLength, 2048)
  })
})

describe("Validation.checkLabel and checkSubdomain", () => {
  it("accept a label of 1 and of 63 characters, and call 64 TooLong", () => {
    assert.equal(Validation.checkLabel("namespace", "a"), undefined)
    assert.equal(Validation.checkLabel("namespace", "a".repeat(63)), undefined)
    assert.equal(Validation.checkLabel("namespace", "a".repeat(64))?.reason, "TooLong")
  })

  it("accept a subdomain of 253 characters, and call 254 TooLong", () => {
    const labels = (n: number) => Array.from({ length: n }, () => "a").join(".")
    assert.equal(Validation.checkSubdomain("name", labels(127)), undefined)
    assert.equal(labels(127).length, 253)
    assert.equal(Validation.checkSubdomain("name", labels(127) + "a")?.reason, "TooLong")
  })

  it("call the empty string Required, with its own message", () => {
    const empty = Validation.checkLabel("namespace", "")
    assert.equal(empty?.reason, "Required")
    assert.equal(empty?.message, 'invalid token request: namespace: Invalid value: "": must not be empty')
    assert.equal(Validation.checkSubdomain("name", "")?.reason, "Required")
  })

  it("need an alphanumeric at both ends of every label, and allow '-' and digits inside", () => {
    for (const ok of ["0", "a-b", "a--b", "9z", "1-2-3"]) assert.equal(Validation.checkLabel("n", ok), undefined, ok)
    for (const bad of ["-a", "a-", "-", "a_b", "a b", "é"]) {
      assert.equal(Validation.checkLabel("n", bad)?.reason, "Format", bad)
    }
    for (const ok of ["a.b", "a-1.b-2", "0.0"]) assert.equal(Validation.checkSubdomain("n", ok), undefined, ok)
    for (const bad of [".a", "a.", "a..b", "a.-b", "a-.b", "A.b"]) {
      assert.equal(Validation.checkSubdomain("n", bad)?.reason, "Format", bad)
    }
  })

  it("explain the format in the message, naming the field they were given", () => {
    assert.equal(
      Validation.checkLabel("namespace", "a.b")?.message,
      "invalid token request: namespace: Invalid value: \"a.b\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
    )
    assert.equal(
      Validation.checkSubdomain("spec.boundObjectRef.name", "A")?.message,
      "invalid token request: spec.boundObjectRef.name: Invalid value: \"A\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
    )
  })

  it("a subdomain is exactly a dot-joined list of labels, for names up to 253 characters", () => {
    const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,8}[a-z0-9])?$/)
    fc.assert(
      fc.property(fc.array(label, { minLength: 1, maxLength: 20 }), (labels) => {
        const name = labels.join(".")
        assert.equal(Validation.checkSubdomain("name", name), undefined, name)
        for (const l of labels) assert.equal(Validation.checkLabel("namespace", l), undefined, l)
      }),
    )
  })
})

describe("Validation.check", () => {
  it("reports the namespace before the name, and the name before the spec", () => {
    assert.equal(Validation.check("A", "B", spec({ expirationSeconds: 1 }))?.field, "namespace")
    assert.equal(Validation.check("a", "B", spec({ expirationSeconds: 1 }))?.field, "name")
  })

  it("accepts 64 audiences and 2048 characters, rejects 65 and 2049, naming the count or the index", () => {
    assert.equal(problem("a", "b", spec({ audiences: Array(64).fill("x") })), undefined)
    assert.deepEqual(problem("a", "b", spec({ audiences: Array(65).fill("x") })), ["spec.audiences", "TooLong", "65"])
    assert.equal(problem("a", "b", spec({ audiences: ["x", "a".repeat(2048)] })), undefined)
    const long = problem("a", "b", spec({ audiences: ["x", "a".repeat(2049)] }))
    assert.deepEqual(long?.slice(0, 2), ["spec.audiences[1]", "TooLong"])
  })

  it("accepts an empty audience list, and names the first empty or non-string audience", () => {
    assert.equal(problem("a", "b", spec({ audiences: [] })), undefined)
    assert.deepEqual(problem("a", "b", spec({ audiences: ["x", "", ""] })), ["spec.audiences[1]", "Empty", '""'])
    const notString = spec({ audiences: ["x", "y", 7 as unknown as string] })
    assert.deepEqual(problem("a", "b", notString), ["spec.audiences[2]", "Empty", "7"])
  })

  it("tells a lifetime that is not whole (Format) from one out of range (OutOfRange), with each message", () => {
    const at = (expirationSeconds: number) => Validation.check("a", "b", spec({ expirationSeconds }))
    for (const value of [600.5, NaN, Infinity, -Infinity]) assert.equal(at(value)?.reason, "Format", String(value))
    assert.equal(
      at(NaN)?.message,
      "invalid token request: spec.expirationSeconds: Invalid value: NaN: must be a whole number of seconds",
    )
    for (const value of [0, -0, -600, 599]) assert.equal(at(value)?.reason, "OutOfRange", String(value))
    assert.equal(
      at(599)?.message,
      "invalid token request: spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes",
    )
    assert.equal(
      at(2 ** 32 + 1)?.message,
      "invalid token request: spec.expirationSeconds: Invalid value: 4294967297: may not specify a duration larger than 2^32 seconds",
    )
  })

  it("accepts every whole lifetime from 600 to 2^32 seconds and no other", () => {
    fc.assert(
      fc.property(
        // Every integer in a wide range, with the values on either side of each bound drawn often.
        fc.oneof(fc.integer({ min: -(2 ** 33), max: 2 ** 33 }), fc.constantFrom(599, 600, 2 ** 32, 2 ** 32 + 1)),
        (seconds) => {
          const found = Validation.check("a", "b", spec({ expirationSeconds: seconds }))
          assert.equal(found === undefined, seconds >= 600 && seconds <= 2 ** 32, String(seconds))
        },
      ),
      { numRuns: 2000 },
    )
  })

  it("accepts bound-object fields and metadata.uid of 253 characters, and rejects 254 or a non-string", () => {
    for (const field of ["kind", "apiVersion", "name", "uid"] as const) {
      assert.equal(problem("a", "b", spec({ boundObjectRef: { [field]: "x".repeat(253) } })), undefined, field)
      assert.deepEqual(
        problem("a", "b", spec({ boundObjectRef: { [field]: "x".repeat(254) } }))?.slice(0, 2),
        [`spec.boundObjectRef.${field}`, "TooLong"],
      )
      assert.deepEqual(
        problem("a", "b", spec({ boundObjectRef: { [field]: 5 as unknown as string } })),
        [`spec.boundObjectRef.${field}`, "TooLong", "5"],
      )
    }
    assert.equal(problem("a", "b", { metadata: { uid: "u".repeat(253) }, spec: {} }), undefined)
    assert.deepEqual(problem("a", "b", { metadata: { uid: "u".repeat(254) }, spec: {} })?.slice(0, 2), [
      "metadata.uid",
      "TooLong",
    ])
  })

  it("renders the rejected value quoted and escaped, cut to 80 characters ending in ...", () => {
    const [, , value] = problem("default", "a".repeat(254))!
    assert.equal(value, `"${"a".repeat(76)}...`)
    assert.equal(value.length, 80)
    assert.deepEqual(problem("default", 'a"\n'), ["name", "Format", '"a\\"\\n"'])
    const exactly80 = `"${"a".repeat(78)}"`
    assert.equal(Validation.checkLabel("namespace", `${"a".repeat(78)}`)?.value, exactly80)
  })
})

describe("Validation.validate", () => {
  it("succeeds when check finds nothing, and fails with the problem check finds", () => {
    assert.deepEqual(Effect.runSyncExit(Validation.validate("a", "b", spec({ expirationSeconds: 600 }))), Exit.void)
    const exit = Effect.runSyncExit(Validation.validate("a", "b", spec({ expirationSeconds: 599 })))
    assert.ok(Exit.isFailure(exit) && exit.cause._tag === "Fail")
    assert.ok(exit.cause.error instanceof InvalidTokenRequest)
    assert.deepEqual(exit.cause.error, Validation.check("a", "b", spec({ expirationSeconds: 599 })))
  })
})
