import assert from "node:assert/strict"
import { describe, it } from "node:test"
import fc from "fast-check"
import * as Redacted from "effect/Redacted"
import { cacheKey, quote } from "../../core/CacheKey.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"

const empty = 'v1.BoundObjectReference{Kind:"", APIVersion:"", Name:"", UID:""}'

describe("CacheKey.quote", () => {
  it("renders the empty string and non-ASCII text as they are, between quotes", () => {
    assert.equal(quote(""), '""')
    assert.equal(quote("bü ☃ 😀"), '"bü ☃ 😀"')
    assert.equal(quote("a/b c'd"), `"a/b c'd"`)
  })

  it("names tab and carriage return, and writes every other control character as \\xNN in lower-case hex", () => {
    assert.equal(quote("\t\r"), '"\\t\\r"')
    assert.equal(quote("\u0000\u001b\u001f\u007f"), '"\\x00\\x1b\\x1f\\x7f"')
  })

  it("is printable: no control character survives, whatever the input", () => {
    fc.assert(
      // deno-lint-ignore no-control-regex
      fc.property(fc.string({ unit: "binary" }), (s) => assert.doesNotMatch(quote(s), /[\u0000-\u001f\u007f]/)),
      { numRuns: 2000 },
    )
  })

  it("is injective: two strings render alike only when they are equal", () => {
    const unit = fc.constantFrom("a", "\\", '"', "\n", "x", "0", "\\x0", "\u0000", "\u007f", "n", "\t", "t")
    const text = fc.array(unit, { maxLength: 5 }).map((parts) => parts.join(""))
    fc.assert(fc.property(text, text, (a, b) => assert.equal(quote(a) === quote(b), a === b)), { numRuns: 5000 })
  })
})

describe("CacheKey.cacheKey", () => {
  it("renders a request with nothing set as nil audiences, lifetime 0, an empty bound object and an empty UID", () => {
    assert.equal(cacheKey("b", "a", { spec: {} }), `"b"/"a"/[]string(nil)/0/${empty}/""`)
  })

  it("renders an empty audience list as an empty Go slice literal, not nil", () => {
    assert.equal(cacheKey("b", "a", { spec: { audiences: [] } }), `"b"/"a"/[]string{}/0/${empty}/""`)
  })

  it("puts the name first and the namespace second", () => {
    assert.ok(cacheKey("name", "namespace", { spec: {} }).startsWith('"name"/"namespace"/'))
  })

  it("fills the fields of a partial bound object with empty strings, in kubelet's field order", () => {
    assert.equal(
      cacheKey("b", "a", { spec: { boundObjectRef: { uid: "u1", name: "p" } } }),
      `"b"/"a"/[]string(nil)/0/v1.BoundObjectReference{Kind:"", APIVersion:"", Name:"p", UID:"u1"}/""`,
    )
  })

  it("writes the largest lifetime in full, without an exponent", () => {
    assert.ok(cacheKey("b", "a", { spec: { expirationSeconds: 2 ** 32 } }).includes("/4294967296/"))
  })

  it("quotes the name, the namespace and metadata.uid", () => {
    assert.equal(
      cacheKey('x"/"y', "a\nb", { metadata: { uid: "u\\" }, spec: {} }),
      `"x\\"/\\"y"/"a\\nb"/[]string(nil)/0/${empty}/"u\\\\"`,
    )
  })

  it("leaves out what kubelet's key leaves out: metadata name and namespace, and the issued token", () => {
    const request: TokenRequest = { spec: { audiences: ["aud"], expirationSeconds: 3600 } }
    const response: TokenRequest = {
      metadata: { name: "other", namespace: "elsewhere" },
      spec: request.spec,
      status: { token: Redacted.make("SECRET-TOKEN"), expirationTimestamp: new Date(Date.UTC(2030, 0, 1)) },
    }
    const key = cacheKey("b", "a", response)
    assert.equal(key, cacheKey("b", "a", request))
    assert.ok(!key.includes("SECRET-TOKEN"))
  })

  // Small pools, so that two random requests often share a key, and values that could run into one another.
  const text = fc.constantFrom("", "a", "b", '"', "/", ", ", '", "', "nil")
  const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined })
  const named = fc.record({
    name: text,
    namespace: text,
    request: fc.record({
      metadata: maybe(fc.record({ uid: maybe(text) })),
      spec: fc.record({
        audiences: maybe(fc.array(text, { maxLength: 2 })),
        expirationSeconds: maybe(fc.constantFrom(0, 600, 3600)),
        boundObjectRef: maybe(
          fc.record({ kind: maybe(text), apiVersion: maybe(text), name: maybe(text), uid: maybe(text) }),
        ),
      }),
    }),
  })
  /** The meaning of kubelet's key: each field it is made of, with absent values replaced as kubelet replaces them. */
  const meaning = ({ name, namespace, request }: { name: string; namespace: string; request: TokenRequest }) => {
    const ref = request.spec.boundObjectRef
    return [
      name,
      namespace,
      request.spec.audiences === undefined ? "nil" : ["list", ...request.spec.audiences],
      request.spec.expirationSeconds ?? 0,
      ref?.kind ?? "",
      ref?.apiVersion ?? "",
      ref?.name ?? "",
      ref?.uid ?? "",
      request.metadata?.uid ?? "",
    ]
  }

  type Named = { name: string; namespace: string; request: TokenRequest }
  /** `a` with the fields picked in `take` (name, namespace, metadata, audiences, lifetime, bound object) from `b`. */
  const mix = (a: Named, b: Named, take: ReadonlyArray<boolean>): Named => ({
    name: take[0] ? b.name : a.name,
    namespace: take[1] ? b.namespace : a.namespace,
    request: {
      metadata: take[2] ? b.request.metadata : a.request.metadata,
      spec: {
        audiences: take[3] ? b.request.spec.audiences : a.request.spec.audiences,
        expirationSeconds: take[4] ? b.request.spec.expirationSeconds : a.request.spec.expirationSeconds,
        boundObjectRef: take[5] ? b.request.spec.boundObjectRef : a.request.spec.boundObjectRef,
      },
    },
  })

  it("gives two requests the same key exactly when every field of kubelet's key means the same", () => {
    let same = 0
    let different = 0
    const take = fc.array(fc.integer({ min: 0, max: 3 }).map((n) => n === 0), { minLength: 6, maxLength: 6 })
    fc.assert(
      fc.property(named, named, take, (a, other, picked) => {
        // b is a with some fields taken from another request: often the same key, often a few fields apart.
        const b = mix(a, other, picked)
        const sameKey = cacheKey(a.name, a.namespace, a.request) === cacheKey(b.name, b.namespace, b.request)
        const sameMeaning = JSON.stringify(meaning(a)) === JSON.stringify(meaning(b))
        if (sameKey) same++
        else different++
        assert.equal(sameKey, sameMeaning)
      }),
      { numRuns: 5000 },
    )
    assert.ok(same > 500 && different > 500, `pairs with the same key: ${same}, with different keys: ${different}`)
  })
})
