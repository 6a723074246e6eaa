/**
 * One GET over HTTP/1.0 on a raw connection, for a {@link LeanHost} that has a connection but no HTTP client it can
 * afford: Deno's reaches the agent's unix socket with `Deno.connect`, since the first `fetch` costs Deno about a third
 * of its own start. HTTP/1.0 keeps the answer simple to read and hard to misread: the server sends no chunked encoding
 * and closes the connection after the body, so the answer is every byte up to the end of the stream, a status line,
 * header lines and the body, whose `content-length`, when given, must match.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import * as Http10 from "./Http10.ts"
 *
 * const head = new TextDecoder().decode(Http10.request("/v1/tokens/t?format=json", { accept: "application/json" }))
 * assert.equal(head, "GET /v1/tokens/t?format=json HTTP/1.0\r\nhost: localhost\r\naccept: application/json\r\n\r\n")
 * const answer = new TextEncoder().encode("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
 * assert.deepEqual(Http10.parse(answer, 1024), { status: 200, body: "ok" })
 * ```
 *
 * @module
 */
import * as LeanFailures from "./LeanFailures.ts"
import type { LeanReply } from "./LeanHost.ts"

/** The most bytes of status line and headers an answer may have. */
export const maxHeaderBytes = 64 << 10

/** The request's bytes: `GET path HTTP/1.0`, `host: localhost`, then `headers`. */
export const request = (path: string, headers: Readonly<Record<string, string>>): Uint8Array => {
  const lines = [`GET ${path} HTTP/1.0`, "host: localhost", ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)]
  if (lines.some((line) => /[\r\n]/.test(line))) throw new Error("a request line or header holds a line break")
  return new TextEncoder().encode(`${lines.join("\r\n")}\r\n\r\n`)
}

/** The index of the blank line that ends the headers (`\r\n\r\n`), or -1. */
const headersEnd = (bytes: Uint8Array): number => {
  for (let i = 3; i < bytes.length; i++) {
    if (bytes[i] === 10 && bytes[i - 1] === 13 && bytes[i - 2] === 10 && bytes[i - 3] === 13) return i - 3
  }
  return -1
}

/**
 * Reads a whole answer, as received until the server closed the connection: its status and its body as UTF-8 text.
 * Throws when the headers do not end, are larger than {@link maxHeaderBytes} or malformed, when the body is chunked,
 * larger than `maxBytes` or not as long as its `content-length` says.
 */
export const parse = (bytes: Uint8Array, maxBytes: number): LeanReply => {
  const end = headersEnd(bytes.subarray(0, maxHeaderBytes + 4))
  if (end < 0) {
    throw bytes.length > maxHeaderBytes ? new Error("the answer's headers are too large") : LeanFailures.cutShort()
  }
  const [statusLine, ...lines] = new TextDecoder().decode(bytes.subarray(0, end)).split("\r\n")
  const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine!)
  if (status === null) throw new Error("the answer has no HTTP status line")
  const headers = new Map<string, string>()
  for (const line of lines) {
    const colon = line.indexOf(":")
    if (colon <= 0) throw new Error("the answer has a malformed header line")
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim())
  }
  if ((headers.get("transfer-encoding") ?? "identity").toLowerCase() !== "identity") {
    throw new Error("the answer to an HTTP/1.0 request has a transfer encoding")
  }
  const body = bytes.subarray(end + 4)
  const declared = headers.get("content-length")
  if (declared !== undefined && !/^\d+$/.test(declared)) throw new Error("the answer has a malformed content-length")
  if (declared !== undefined && Number(declared) > maxBytes || body.length > maxBytes) {
    throw LeanFailures.tooLarge(LeanFailures.answer, maxBytes)
  }
  if (declared !== undefined && Number(declared) !== body.length) {
    throw new Error(`the answer's body is ${body.length} bytes where its content-length says ${declared}`)
  }
  return { status: Number(status[1]), body: new TextDecoder().decode(body) }
}
