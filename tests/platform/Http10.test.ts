import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as Http10 from "../../adapters/platform/Http10.ts"

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

describe("Http10", () => {
  it("asks with the path and the headers, and refuses a line break in either", () => {
    assert.equal(
      new TextDecoder().decode(Http10.request("/x?y=1", { accept: "a", "x-one": "1" })),
      "GET /x?y=1 HTTP/1.0\r\nhost: localhost\r\naccept: a\r\nx-one: 1\r\n\r\n",
    )
    assert.throws(() => Http10.request("/x HTTP/1.0\r\nevil: 1", {}), /line break/)
    assert.throws(() => Http10.request("/x", { accept: "a\r\nevil: 1" }), /line break/)
  })

  it("reads the status and the body, as long as any content-length says, of either HTTP/1 version", () => {
    assert.deepEqual(Http10.parse(bytes("HTTP/1.0 404 Not Found\r\n\r\nno token\n"), 64), {
      status: 404,
      body: "no token\n",
    })
    assert.deepEqual(Http10.parse(bytes("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nX: a:b\r\n\r\n{\u00e9}"), 64), {
      status: 200,
      body: "{\u00e9}",
    })
    assert.deepEqual(Http10.parse(bytes("HTTP/1.1 204\r\n\r\n"), 64), { status: 204, body: "" })
    assert.equal(Http10.parse(bytes(`HTTP/1.1 200 OK\r\n\r\n${"y".repeat(64)}`), 64).body.length, 64)
  })

  it("refuses an answer cut short, malformed, chunked, longer than announced or over the limits", () => {
    const refused: ReadonlyArray<readonly [string, RegExp]> = [
      ["", /cut short/],
      ["HTTP/1.1 200 OK\r\ncontent-length: 2\r\n", /cut short/],
      ["HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nabc", /3 bytes where its content-length says 5/],
      ["HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nabc", /3 bytes where its content-length says 2/],
      ["HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n", /malformed content-length/],
      ["HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", /transfer encoding/],
      ["SSH-2.0-OpenSSH\r\n\r\n", /no HTTP status line/],
      ["HTTP/1.1 2000 OK\r\n\r\n", /no HTTP status line/],
      ["HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", /malformed header line/],
      [`HTTP/1.1 200 OK\r\n\r\n${"y".repeat(65)}`, /larger than 64 bytes/],
      ["HTTP/1.1 200 OK\r\ncontent-length: 65\r\n\r\n", /larger than 64 bytes/],
      [`HTTP/1.1 200 OK\r\nx: ${"h".repeat(Http10.maxHeaderBytes)}\r\n\r\n`, /headers are too large/],
    ]
    for (const [text, error] of refused) assert.throws(() => Http10.parse(bytes(text), 64), error, JSON.stringify(text))
  })
})
