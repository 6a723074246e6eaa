/**
 * Asking the agent without handing the bearer token to whatever listens at its address. Any local user can listen on a
 * free loopback port while the agent is stopped; a client that sent `Authorization: Bearer SECRET` there would give
 * that user the secret, and with it every token the agent serves.
 *
 * A sealed request carries a fresh random nonce and a proof, HMAC-SHA256 keyed with the bearer token over the nonce
 * and the request target, in `Authorization: SA-Token-Sealed nonce=N, proof=P`. The agent checks the proof (so only a
 * holder of the secret is answered), answers as it would, and seals the body with AES-256-GCM under a key derived from
 * the secret and the nonce, binding the target and the HTTP status. The client opens it with the same key: an answer
 * it cannot open did not come from a holder of the secret, and is refused. What crosses the connection is useless to a
 * listener without the secret: the proof names one target under one nonce, and replaying it to the agent only brings
 * back a body sealed under that nonce.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import { SealedReply } from "@sa-token/manager/agent"
 * import * as Effect from "effect/Effect"
 * import * as Option from "effect/Option"
 * import * as Redacted from "effect/Redacted"
 *
 * const secret = Redacted.make("a-long-random-secret")
 * const target = "/v1/tokens/vault?format=json"
 * const opened = await Effect.gen(function* () {
 *   const asked = yield* SealedReply.ask(secret, target)
 *   // The agent: checks the proof, then seals its answer under the request's nonce.
 *   const nonce = yield* SealedReply.verify(secret, asked.authorization, target)
 *   assert.ok(Option.isSome(nonce))
 *   const body = yield* SealedReply.seal(secret, nonce.value, target, 200, "the answer")
 *   assert.ok(!body.includes("the answer"))
 *   return yield* SealedReply.open(secret, asked.nonce, target, 200, body)
 * }).pipe(Effect.runPromise)
 * assert.deepEqual(opened, Option.some("the answer"))
 * ```
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"

/** The `Authorization` scheme of a sealed request. */
export const scheme = "SA-Token-Sealed"

/** The `Content-Type` of a sealed answer. */
export const contentType = "application/vnd.sa-token.sealed"

/** A sealed request's `Authorization` header, and the nonce its answer is sealed under. */
export interface Asked {
  /** The request's `Authorization` header: the scheme, the nonce and the proof. */
  readonly authorization: string
  /** The nonce, unpadded base64url of 32 random bytes, which the answer is sealed under. */
  readonly nonce: string
}

const encoder = new TextEncoder()
const subtle = (): SubtleCrypto => globalThis.crypto.subtle

/** Bytes that Web Crypto accepts (a view of an `ArrayBuffer`, never of a `SharedArrayBuffer`). */
type Bytes = Uint8Array<ArrayBuffer>

/** The bytes an HMAC is computed over: a purpose and version, then each part, one per line. */
const message = (purpose: "request" | "seal", ...parts: ReadonlyArray<string>): Bytes =>
  encoder.encode([`sa-token ${purpose} v1`, ...parts].join("\n"))

const hmacKey = (secret: Redacted.Redacted<string>): Promise<CryptoKey> =>
  subtle().importKey("raw", encoder.encode(Redacted.value(secret)), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ])

const sign = async (secret: Redacted.Redacted<string>, data: Bytes): Promise<Bytes> =>
  new Uint8Array(await subtle().sign("HMAC", await hmacKey(secret), data))

/** The AES-256-GCM key of the answers to one request: HMAC-SHA256 of the nonce, keyed with the secret. */
const sealKey = async (secret: Redacted.Redacted<string>, nonce: string, usage: KeyUsage): Promise<CryptoKey> =>
  subtle().importKey("raw", await sign(secret, message("seal", nonce)), "AES-GCM", false, [usage])

/** What an answer's seal binds besides its body: the request target and the HTTP status. */
const bound = (target: string, status: number): Bytes => message("seal", target, String(status))

/** The bytes of unpadded base64url text, if it is the one encoding of them. */
const decode = (text: string): Bytes | undefined => {
  const bytes = Encoding.decodeBase64Url(text)
  return Either.isRight(bytes) && Encoding.encodeBase64Url(bytes.right) === text
    ? new Uint8Array(bytes.right)
    : undefined
}

/**
 * A fresh sealed request for `target` (the request target as sent, such as `/v1/tokens/NAME?format=json`). The nonce
 * is 32 bytes from the platform's cryptographic random source, not Effect's `Random`, which is not one.
 */
export const ask = (secret: Redacted.Redacted<string>, target: string): Effect.Effect<Asked> =>
  Effect.promise(async () => {
    const nonce = Encoding.encodeBase64Url(globalThis.crypto.getRandomValues(new Uint8Array(32)))
    const proof = Encoding.encodeBase64Url(await sign(secret, message("request", nonce, target)))
    return { authorization: `${scheme} nonce=${nonce}, proof=${proof}`, nonce }
  })

/** Whether an `Authorization` header uses the sealed scheme (whatever its parameters). */
export const isSealed = (header: string | undefined): boolean =>
  header !== undefined && header.trim().toLowerCase().startsWith(`${scheme.toLowerCase()} `)

/** A sealed `Authorization` header: the scheme, then the nonce and the proof, 32 bytes each in unpadded base64url. */
const parameters = new RegExp(`^${scheme}[ \\t]+nonce=([A-Za-z0-9_-]{43}),[ \\t]*proof=([A-Za-z0-9_-]{43})$`, "i")

/**
 * The nonce of a sealed request whose proof is the secret's for `target`; none for any other header. The proof is
 * checked by the platform's HMAC verification, whose time does not depend on where the proof differs.
 */
export const verify = (
  secret: Redacted.Redacted<string>,
  header: string | undefined,
  target: string,
): Effect.Effect<Option.Option<string>> => {
  const match = parameters.exec((header ?? "").trim())
  const proof = match === null ? undefined : decode(match[2]!)
  if (match === null || proof === undefined || decode(match[1]!) === undefined) return Effect.succeed(Option.none())
  const nonce = match[1]!
  return Effect.promise(async () =>
    await subtle().verify("HMAC", await hmacKey(secret), proof, message("request", nonce, target))
      ? Option.some(nonce)
      : Option.none()
  )
}

/** `body`, sealed for the request with `nonce`: `v1.IV.CIPHERTEXT`, both base64url, under a random 12-byte IV. */
export const seal = (
  secret: Redacted.Redacted<string>,
  nonce: string,
  target: string,
  status: number,
  body: string,
): Effect.Effect<string> =>
  Effect.promise(async () => {
    const iv = globalThis.crypto.getRandomValues(new Uint8Array(12))
    const sealed = await subtle().encrypt(
      { name: "AES-GCM", iv, additionalData: bound(target, status) },
      await sealKey(secret, nonce, "encrypt"),
      encoder.encode(body),
    )
    return `v1.${Encoding.encodeBase64Url(iv)}.${Encoding.encodeBase64Url(new Uint8Array(sealed))}`
  })

/**
 * The body of an answer to the request with `nonce`, if it was sealed with the secret for that target and status;
 * none for anything else (an answer from something that does not hold the secret, or one altered on the way).
 */
export const open = (
  secret: Redacted.Redacted<string>,
  nonce: string,
  target: string,
  status: number,
  sealed: string,
): Effect.Effect<Option.Option<string>> => {
  const [version, ivText, dataText, ...rest] = sealed.trim().split(".")
  const iv = ivText === undefined ? undefined : decode(ivText)
  const data = dataText === undefined ? undefined : decode(dataText)
  if (version !== "v1" || rest.length > 0 || iv?.length !== 12 || data === undefined) {
    return Effect.succeed(Option.none())
  }
  return Effect.promise(async () => {
    const key = await sealKey(secret, nonce, "decrypt")
    try {
      const plain = await subtle().decrypt({ name: "AES-GCM", iv, additionalData: bound(target, status) }, key, data)
      return Option.some(new TextDecoder("utf-8", { fatal: true }).decode(plain))
    } catch {
      return Option.none()
    }
  })
}
