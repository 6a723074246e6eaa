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

  /** What kubelet's key is made of, with every absent value replaced as kubelet replaces it. */
  interface Meaning {
    readonly name: string
    readonly namespace: string
    readonly audiences: ReadonlyArray<string> | null
    readonly expirationSeconds: number
    readonly ref: readonly [kind: string, apiVersion: string, name: string, uid: string]
    readonly uid: string
  }
  // Small pools, so that two meanings often agree, and values that could run into one another once rendered.
  const text = fc.constantFrom("", "a", '"', "/", ", ", '", "', "nil")
  const meaning: fc.Arbitrary<Meaning> = fc.record({
    name: text,
    namespace: text,
    audiences: fc.option(fc.array(text, { maxLength: 2 }), { nil: null }),
    expirationSeconds: fc.constantFrom(0, 600),
    ref: fc.tuple(text, text, text, text),
    uid: text,
  })
  /** One of the requests that mean `m`: each default value either left out or written out, as `explicit` says. */
  const written = (m: Meaning, explicit: ReadonlyArray<boolean>): TokenRequest => {
    const [kind, apiVersion, name, uid] = m.ref
    const keep = (value: string, i: number) => value !== "" || explicit[i] === true
    const ref = {
      ...(keep(kind, 0) ? { kind } : {}),
      ...(keep(apiVersion, 1) ? { apiVersion } : {}),
      ...(keep(name, 2) ? { name } : {}),
      ...(keep(uid, 3) ? { uid } : {}),
    }
    return {
      ...(keep(m.uid, 4) ? { metadata: { uid: m.uid } } : explicit[5] ? { metadata: {} } : {}),
      spec: {
        ...(m.audiences === null ? {} : { audiences: m.audiences }),
        ...(m.expirationSeconds !== 0 || explicit[6] ? { expirationSeconds: m.expirationSeconds } : {}),
        ...(Object.keys(ref).length > 0 || explicit[7] ? { boundObjectRef: ref } : {}),
      },
    }
  }
  const explicit = fc.array(fc.boolean(), { minLength: 8, maxLength: 8 })
  const keyOf = (m: Meaning, flags: ReadonlyArray<boolean>) => cacheKey(m.name, m.namespace, written(m, flags))

  it("gives every way of writing a request the same key, absent or written-out defaults alike", () => {
    fc.assert(fc.property(meaning, explicit, explicit, (m, a, b) => assert.equal(keyOf(m, a), keyOf(m, b))), {
      numRuns: 2000,
    })
  })

  it("gives two requests the same key exactly when every field of kubelet's key means the same", () => {
    let same = 0
    let different = 0
    // The second meaning is the first with each field replaced by another draw's one time in four.
    const replace = fc.array(fc.integer({ min: 0, max: 3 }).map((n) => n === 0), { minLength: 6, maxLength: 6 })
    fc.assert(
      fc.property(meaning, meaning, replace, explicit, explicit, (a, other, picked, flagsA, flagsB) => {
        const fields = ["name", "namespace", "audiences", "expirationSeconds", "ref", "uid"] as const
        const b = Object.fromEntries(fields.map((f, i) => [f, picked[i] ? other[f] : a[f]])) as unknown as Meaning
        const sameKey = keyOf(a, flagsA) === keyOf(b, flagsB)
        if (sameKey) same++
        else different++
        assert.equal(sameKey, JSON.stringify(a) === JSON.stringify(b))
      }),
      { numRuns: 5000 },
    )
    assert.ok(same > 500 && different > 500, `pairs with the same key: ${same}, with different keys: ${different}`)
  })
})
