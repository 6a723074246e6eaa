/**
 * The LocalHttp port over node:http, on the runtime running the suite: a TCP server on port 0 reports the port it got
 * (to the caller and to its handler), a handler's defect becomes a 500, and a GET fails with a typed reason when
 * nothing listens, when no answer comes in time and when the answer is too large.
 */
import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as nodePath from "node:path"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import type * as LocalHttp from "../../adapters/platform/LocalHttp.ts"
import * as NodeLocalHttp from "../../adapters/platform/NodeLocalHttp.ts"
import { failureOf } from "../_support/scratch.ts"

const local = NodeLocalHttp.make()
const limits = { maxConnections: 8, headersTimeoutMillis: 2000, idleTimeoutMillis: 2000, requestTimeoutMillis: 2000 }
const options = { headers: { accept: "text/plain" }, timeoutMillis: 2000, maxBytes: 1024 }

const failure = async (effect: Effect.Effect<unknown, LocalHttp.LocalHttpError>): Promise<LocalHttp.LocalHttpError> =>
  failureOf(await Effect.runPromise(Effect.exit(effect)), "the call should fail")

/** A plain node:http server on a loopback port, answering with `handler`, for the duration of `body`. */
const withServer = async (
  handler: http.RequestListener,
  body: (address: LocalHttp.Address) => Promise<void>,
): Promise<void> => {
  const server = http.createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as { port: number }).port
  try {
    await body({ _tag: "Tcp", host: "127.0.0.1", port })
  } finally {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

describe("LocalHttp over node:http", () => {
  it("serves on a free TCP port, tells the handler where it listens, and turns a defect into a 500", async () => {
    const seen: Array<string> = []
    await Effect.runPromise(Effect.scoped(Effect.gen(function* () {
      const address = yield* local.serve({
        address: { _tag: "Tcp", host: "127.0.0.1", port: 0 },
        maxHeaderBytes: 8192,
        limits,
        handle: (request, bound) =>
          request.url === "/boom" ? Effect.die("boom") : Effect.sync(() => {
            seen.push(`${request.method} ${request.url} ${request.headers["accept"]} ${JSON.stringify(bound)}`)
            return { status: 200, headers: { "content-type": "text/plain" }, body: "hello" }
          }),
      })
      assert.ok(address._tag === "Tcp" && address.port > 0)
      const reply = yield* local.get(address, "/hi", options)
      assert.deepEqual(reply, { status: 200, body: "hello" })
      assert.deepEqual(seen, [`GET /hi text/plain ${JSON.stringify(address)}`])
      assert.equal((yield* local.get(address, "/boom", options)).status, 500)
    })))
  })

  it("a GET names why it got no answer: nothing listens, no answer in time, an answer too large", async () => {
    const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "localhttp-"))
    try {
      const none = await failure(local.get({ _tag: "Unix", path: nodePath.join(dir, "none.sock") }, "/", options))
      assert.equal(none.reason, "Refused")
      assert.equal(none.code, "ENOENT")
      assert.match(none.message, /^unix:.*none\.sock: /)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
    await withServer(() => {}, async (address) => {
      const slow = await failure(local.get(address, "/", { ...options, timeoutMillis: 200 }))
      assert.equal(slow.reason, "Timeout")
      assert.match(slow.message, /no answer within 200 ms/)
    })
    await withServer((_req, res) => res.end("x".repeat(4096)), async (address) => {
      const large = await failure(local.get(address, "/", options))
      assert.equal(large.reason, "TooLarge")
    })
  })
})
