import assert from "node:assert/strict"
import { describe, it } from "node:test"
import fc from "fast-check"
import { idOf, memoizedIdOf } from "../../../core/internal/cache.ts"
import { cacheKey } from "../../../core/TokenRequest.ts"
import type { TokenRequest } from "../../../core/TokenRequest.ts"

type Named = { name: string; namespace: string; request: TokenRequest }

// Small pools, so that two random requests often share a key and often differ in one field only.
const text = fc.constantFrom("", "a", "b", 'q"', "\n", "a/b", "null")
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined })
const request: fc.Arbitrary<Named> = fc.record({
  name: text,
  namespace: text,
  request: fc.record({
    metadata: maybe(fc.record({ uid: maybe(text) })),
    spec: fc.record({
      audiences: maybe(fc.array(text, { maxLength: 2 })),
      expirationSeconds: maybe(fc.constantFrom(0, 600, 3600)),
      boundObjectRef: maybe(fc.record({
        kind: maybe(text),
        apiVersion: maybe(text),
        name: maybe(text),
        uid: maybe(text),
      })),
    }),
  }),
})

const field = fc.integer({ min: 0, max: 5 })
/** `a` with field number `changed` (name, namespace, metadata, audiences, lifetime, bound object) taken from `other`. */
const withField = (a: Named, other: Named, changed: number): Named => {
  const spec = a.request.spec
  return {
    name: changed === 0 ? other.name : a.name,
    namespace: changed === 1 ? other.namespace : a.namespace,
    request: {
      metadata: changed === 2 ? other.request.metadata : a.request.metadata,
      spec: {
        audiences: changed === 3 ? other.request.spec.audiences : spec.audiences,
        expirationSeconds: changed === 4 ? other.request.spec.expirationSeconds : spec.expirationSeconds,
        boundObjectRef: changed === 5 ? other.request.spec.boundObjectRef : spec.boundObjectRef,
      },
    },
  }
}

describe("the manager's map key", () => {
  it("tells two requests apart exactly when kubelet's key does", () => {
    let equal = 0
    let different = 0
    fc.assert(
      fc.property(request, request, field, (a, other, changed) => {
        // b is a with one field taken from another request: often the same key, often one field apart.
        const b = withField(a, other, changed)
        const sameKey = cacheKey(a.name, a.namespace, a.request) === cacheKey(b.name, b.namespace, b.request)
        const sameId = idOf(a.name, a.namespace, a.request) === idOf(b.name, b.namespace, b.request)
        if (sameKey) equal++
        else different++
        assert.equal(sameId, sameKey)
      }),
      { numRuns: 5000 },
    )
    assert.ok(equal > 500 && different > 500, `pairs with the same key: ${equal}, with different keys: ${different}`)
  })

  it("keeps absent audiences apart from an empty list, and an absent lifetime or bound object as kubelet does", () => {
    const id = (request: TokenRequest) => idOf("sa", "ns", request)
    assert.notEqual(id({ spec: {} }), id({ spec: { audiences: [] } }))
    assert.equal(id({ spec: {} }), id({ spec: { expirationSeconds: 0 } }))
    assert.equal(id({ spec: {} }), id({ spec: { boundObjectRef: {} } }))
    assert.equal(id({ spec: {} }), id({ metadata: { uid: "" }, spec: {} }))
    assert.notEqual(id({ spec: { audiences: ["a,b"] } }), id({ spec: { audiences: ["a", "b"] } }))
  })

  it("remembers the last id only while every field is the same value, even for an object changed in place", () => {
    fc.assert(
      fc.property(request, fc.array(fc.tuple(request, field)), fc.array(fc.boolean()), (first, steps, inPlace) => {
        // Each request is the one before with one field taken from another: consecutive calls differ in one field.
        const requests = [first]
        for (const [other, changed] of steps) requests.push(withField(requests.at(-1)!, other, changed))
        const memoized = memoizedIdOf()
        // One object, changed in place (its audiences array too) or replaced, call after call.
        const audiences: Array<string> = []
        const ref: { kind?: string; apiVersion?: string; name?: string; uid?: string } = {}
        const spec: { audiences?: Array<string>; expirationSeconds?: number; boundObjectRef?: typeof ref } = {}
        const metadata: { uid?: string } = {}
        const shared = { metadata, spec }
        for (const [i, next] of requests.entries()) {
          let asked: TokenRequest = next.request
          if (inPlace[i] === true) {
            const wanted = next.request.spec
            if (wanted.audiences === undefined) delete spec.audiences
            else {
              audiences.splice(0, audiences.length, ...wanted.audiences)
              spec.audiences = audiences
            }
            if (wanted.expirationSeconds === undefined) delete spec.expirationSeconds
            else spec.expirationSeconds = wanted.expirationSeconds
            if (wanted.boundObjectRef === undefined) delete spec.boundObjectRef
            else {
              for (const field of ["kind", "apiVersion", "name", "uid"] as const) {
                const value = wanted.boundObjectRef[field]
                if (value === undefined) delete ref[field]
                else ref[field] = value
              }
              spec.boundObjectRef = ref
            }
            if (next.request.metadata?.uid === undefined) delete metadata.uid
            else metadata.uid = next.request.metadata.uid
            asked = shared
          }
          assert.equal(memoized(next.name, next.namespace, asked), idOf(next.name, next.namespace, asked))
        }
      }),
      { numRuns: 2000 },
    )
  })

  it("gives an equal request asked again the remembered id, and a different one a new id", () => {
    const memoized = memoizedIdOf()
    const first = memoized("sa", "ns", { spec: { audiences: ["a"] } })
    assert.equal(memoized("sa", "ns", { spec: { audiences: ["a"] } }), first)
    assert.notEqual(memoized("sa", "ns", { spec: { audiences: ["a", "b"] } }), first)
  })
})
