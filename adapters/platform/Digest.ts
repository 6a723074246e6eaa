/**
 * The SHA-256 of a text, in lower-case hex, through the Web Crypto API every runtime has: the hash that names the
 * cache's files and makes a kubeconfig's identity. Free of Effect, so that the lean `exec-credential` answers and the
 * full command compute it with the same code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import { sha256Hex } from "./Digest.ts"
 *
 * assert.equal(await sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
 * ```
 *
 * @module
 */

/** The SHA-256 of the UTF-8 bytes of `text`, as 64 lower-case hex digits. */
export const sha256Hex = async (text: string): Promise<string> => {
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)))
  let hex = ""
  for (const byte of digest) hex += byte.toString(16).padStart(2, "0")
  return hex
}
