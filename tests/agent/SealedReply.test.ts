/**
 * Tests of the sealed requests and answers: a proof holds only for its secret, nonce and target; an answer opens only
 * with its secret, nonce, target and status, and not at all once altered.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as SealedReply from "../../adapters/agent/SealedReply.ts"

const secret = Redacted.make("a-long-random-secret")
const other = Redacted.make("a-long-random-secreT")
const target = "/v1/tokens/vault?format=json"
const run = Effect.runPromise

describe("SealedReply", () => {
  it("proves the secret without holding it, for one nonce and one target", async () => {
    const asked = await run(SealedReply.ask(secret, target))
    assert.ok(!asked.authorization.includes(Redacted.value(secret)))
    assert.match(asked.authorization, /^SA-Token-Sealed nonce=[\w-]{43}, proof=[\w-]{43}$/)
    assert.ok(SealedReply.isSealed(asked.authorization))
    assert.deepEqual(await run(SealedReply.verify(secret, asked.authorization, target)), Option.some(asked.nonce))
    assert.ok(Option.isNone(await run(SealedReply.verify(other, asked.authorization, target))))
    assert.ok(Option.isNone(await run(SealedReply.verify(secret, asked.authorization, "/v1/tokens/other"))))
    // Each request has a nonce of its own.
    assert.notEqual((await run(SealedReply.ask(secret, target))).nonce, asked.nonce)
  })

  it("refuses a header that is not exactly the scheme, a nonce and a proof, each 32 bytes in unpadded base64url", async () => {
    const asked = await run(SealedReply.ask(secret, target))
    const [, nonce, proof] = /nonce=(\S+), proof=(\S+)$/.exec(asked.authorization)!
    const swapped = `SA-Token-Sealed nonce=${proof}, proof=${nonce}`
    // The last character of 32 bytes in base64url carries 2 unused bits, which the encoder leaves 0: the next letter
    // of the alphabet (A to B, 0 to 1, ...) decodes to the same bytes, and is refused as not the one encoding of them.
    const twin = `${proof!.slice(0, -1)}${String.fromCharCode(proof!.charCodeAt(42) + 1)}`
    for (
      const header of [
        undefined,
        "",
        `Bearer ${Redacted.value(secret)}`,
        swapped,
        `${asked.authorization}=`,
        `SA-Token-Sealed nonce=${nonce}`,
        `SA-Token-Sealed nonce=${nonce}, proof=${proof}, extra=1`,
        `SA-Token-Sealed nonce=${nonce}, proof=${twin}`,
      ]
    ) {
      assert.ok(Option.isNone(await run(SealedReply.verify(secret, header, target))), String(header))
    }
    assert.equal(SealedReply.isSealed(`Bearer ${Redacted.value(secret)}`), false)
    assert.equal(SealedReply.isSealed(undefined), false)
  })

  it("opens an answer only with its secret, nonce, target and status, and not once altered", async () => {
    const asked = await run(SealedReply.ask(secret, target))
    const sealed = await run(SealedReply.seal(secret, asked.nonce, target, 200, "the answer ✓"))
    assert.ok(!sealed.includes("the answer"))
    assert.match(sealed, /^v1\.[\w-]{16}\.[\w-]+$/)
    const open = (body: string, fields: { s?: Redacted.Redacted<string>; n?: string; t?: string; c?: number } = {}) =>
      run(SealedReply.open(fields.s ?? secret, fields.n ?? asked.nonce, fields.t ?? target, fields.c ?? 200, body))
    assert.deepEqual(await open(sealed), Option.some("the answer ✓"))
    const [version, iv, data] = sealed.split(".")
    const flipped = `${data!.slice(0, 5)}${data![5] === "A" ? "B" : "A"}${data!.slice(6)}`
    const otherNonce = (await run(SealedReply.ask(secret, target))).nonce
    for (
      const [what, opened] of [
        ["another secret", await open(sealed, { s: other })],
        ["another nonce", await open(sealed, { n: otherNonce })],
        ["another target", await open(sealed, { t: "/v1/tokens/other?format=json" })],
        ["another status", await open(sealed, { c: 404 })],
        ["an altered ciphertext", await open(`${version}.${iv}.${flipped}`)],
        ["another version", await open(`v2.${iv}.${data}`)],
        ["a part more", await open(`${sealed}.x`)],
        ["a short IV", await open(`${version}.${iv!.slice(4)}.${data}`)],
        ["plain text", await open("the answer ✓")],
      ] as const
    ) {
      assert.ok(Option.isNone(opened), what)
    }
  })

  it("seals each answer under an IV of its own", async () => {
    const asked = await run(SealedReply.ask(secret, target))
    const once = await run(SealedReply.seal(secret, asked.nonce, target, 200, "same"))
    const twice = await run(SealedReply.seal(secret, asked.nonce, target, 200, "same"))
    assert.notEqual(once, twice)
    assert.deepEqual(await run(SealedReply.open(secret, asked.nonce, target, 200, twice)), Option.some("same"))
  })
})
