import assert from "node:assert/strict"
import { describe, it } from "node:test"
import fc from "fast-check"
import { idOf } from "../../../core/internal/cache.ts"
import { cacheKey } from "../../../core/TokenRequest.ts"
import type { TokenRequest } from "../../../core/TokenRequest.ts"

// Small pools, so that two random requests often share a key and often differ in one field only.
const text = fc.constantFrom("", "a", "b", 'q"', "\n", "a/b", "null")
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined })
const request: fc.Arbitrary<{ name: string; namespace: string; request: TokenRequest }> = fc.record({
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

describe("the manager's map key", () => {
  it("tells two requests apart exactly when kubelet's key does", () => {
    let equal = 0
    let different = 0
    fc.assert(
      fc.property(request, request, fc.integer({ min: 0, max: 5 }), (a, other, field) => {
        // b is a with one field taken from another request: often the same key, often one field apart.
        const spec = a.request.spec
        const b = {
          name: field === 0 ? other.name : a.name,
          namespace: field === 1 ? other.namespace : a.namespace,
          request: {
            metadata: field === 2 ? other.request.metadata : a.request.metadata,
            spec: {
              audiences: field === 3 ? other.request.spec.audiences : spec.audiences,
              expirationSeconds: field === 4 ? other.request.spec.expirationSeconds : spec.expirationSeconds,
              boundObjectRef: field === 5 ? other.request.spec.boundObjectRef : spec.boundObjectRef,
            },
          },
        }
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
})
