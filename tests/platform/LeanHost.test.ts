/**
 * The conformance suite of the {@link LeanHost} port: each runtime runs it against its own host (Deno's over `Deno.*`,
 * Bun's over `node:fs` and Bun's `fetch`, Node's over `node:fs` and `node:http`), on real files in a temporary
 * directory and against a `node:http` server that the test starts on a unix socket.
 */
import assert from "node:assert/strict"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import * as nodePath from "node:path"
import process from "node:process"
import { describe, it } from "node:test"
import type { LeanHost } from "../../adapters/platform/LeanHost.ts"
import { runtime } from "../_support/runtime.ts"
import { withSocketBehindTwoLinks } from "../_support/links.ts"
import { withTempDir } from "../_support/scratch.ts"

const host: LeanHost = runtime === "deno"
  ? (await import("../../adapters/deno/DenoLeanHost.ts")).leanHost
  : runtime === "bun"
  ? (await import("../../adapters/bun/BunLeanHost.ts")).leanHost
  : (await import("../../adapters/node/NodeLeanHost.ts")).leanHost

/** What the runtime itself says, through its own API rather than the host's. */
const own = runtime === "deno"
  ? { cwd: () => Deno.cwd(), env: (name: string) => Deno.env.get(name), uid: () => Deno.uid() ?? -1 }
  : { cwd: () => process.cwd(), env: (name: string) => process.env[name], uid: () => process.geteuid?.() ?? -1 }

const mkfifo: string | false = spawnSync("mkfifo", ["--version"]).status === 0
  ? false
  : "needs the mkfifo command to make a FIFO (node:fs cannot)"

/** Writes `data` to `dir/name` with `mode` and returns the path. */
const write = (dir: string, name: string, data: string | Uint8Array, mode = 0o600): string => {
  const path = nodePath.join(dir, name)
  fs.writeFileSync(path, data, { mode })
  fs.chmodSync(path, mode)
  return path
}

const text = (data: Uint8Array): string => new TextDecoder().decode(data)

describe(`LeanHost on ${runtime}: files`, () => {
  it("reads a private file whole, with its owner and mode from the descriptor read", () =>
    withTempDir("lean-host", async (dir) => {
      const path = write(dir, "entry.json", '{"token":"t\u00e9"}')
      const file = await host.readFile(path, 1024)
      assert.ok(file !== undefined)
      assert.equal(text(file.data), '{"token":"t\u00e9"}')
      assert.deepEqual(file.info, { uid: fs.statSync(path).uid, gid: fs.statSync(path).gid, mode: 0o600 })
      assert.equal(file.info.uid, host.uid(), "a file the test wrote belongs to the user running it")
      const empty = await host.readFile(write(dir, "empty", ""), 1024)
      assert.equal(empty?.data.length, 0)
    }))

  it("keeps the setgid bit in the mode and reads a file of exactly maxBytes", () =>
    withTempDir("lean-host", async (dir) => {
      const path = write(dir, "shared", "x".repeat(100), 0o2640)
      const expected = fs.statSync(path).mode & 0o7777
      assert.equal(expected & 0o777, 0o640)
      const file = await host.readFile(path, 100)
      assert.equal(file?.data.length, 100)
      assert.equal(file?.info.mode, expected)
    }))

  it("is undefined when nothing is there, also through a path whose parent is a file", () =>
    withTempDir("lean-host", async (dir) => {
      assert.equal(await host.readFile(nodePath.join(dir, "absent"), 1024), undefined)
      const file = write(dir, "file", "data")
      assert.equal(await host.readFile(nodePath.join(file, "below"), 1024), undefined)
    }))

  it("rejects a symlink as the last component, even to a regular file", () =>
    withTempDir("lean-host", async (dir) => {
      const target = write(dir, "target", "secret")
      const link = nodePath.join(dir, "link")
      fs.symlinkSync(target, link)
      await assert.rejects(host.readFile(link, 1024))
      const dangling = nodePath.join(dir, "dangling")
      fs.symlinkSync(nodePath.join(dir, "absent"), dangling)
      await assert.rejects(host.readFile(dangling, 1024), "a dangling symlink is something, not nothing")
    }))

  it("rejects a directory", () =>
    withTempDir("lean-host", async (dir) => {
      fs.mkdirSync(nodePath.join(dir, "sub"))
      await assert.rejects(host.readFile(nodePath.join(dir, "sub"), 1024), /not a regular file|directory/i)
    }))

  it("rejects a FIFO without waiting for a writer", { skip: mkfifo }, () =>
    withTempDir("lean-host", async (dir) => {
      const fifo = nodePath.join(dir, "fifo")
      assert.equal(spawnSync("mkfifo", ["-m", "600", fifo]).status, 0)
      // A blocking open would wait for a writer forever: the test would never end
      await assert.rejects(host.readFile(fifo, 1024), /not a regular file/)
    }))

  it("rejects a file larger than maxBytes", () =>
    withTempDir("lean-host", async (dir) => {
      const path = write(dir, "large", "x".repeat(101))
      await assert.rejects(host.readFile(path, 100), /larger than 100 bytes/)
    }))

  it("stat follows a symlink, and is undefined when nothing is there", () =>
    withTempDir("lean-host", async (dir) => {
      const target = write(dir, "target", "data", 0o640)
      const link = nodePath.join(dir, "link")
      fs.symlinkSync(target, link)
      // As root, a group that is nobody's primary one, so that a gid read from the wrong place shows.
      if (host.uid() === 0) fs.chownSync(target, 0, 4343)
      const expected = { uid: fs.statSync(target).uid, gid: fs.statSync(target).gid, mode: 0o640 }
      assert.deepEqual(await host.stat(target), expected)
      assert.deepEqual(await host.stat(link), expected)
      fs.chmodSync(dir, 0o750)
      assert.deepEqual(await host.stat(dir), { uid: expected.uid, gid: fs.statSync(dir).gid, mode: 0o750 })
      assert.equal(await host.stat(nodePath.join(dir, "absent")), undefined)
      assert.equal(await host.stat(nodePath.join(target, "below")), undefined)
      fs.symlinkSync(nodePath.join(dir, "absent"), nodePath.join(dir, "dangling"))
      assert.equal(await host.stat(nodePath.join(dir, "dangling")), undefined)
    }))

  it("realPath resolves every symlink, and is undefined when nothing is there", () =>
    withTempDir("lean-host", async (dir) => {
      fs.mkdirSync(nodePath.join(dir, "real"))
      const target = write(nodePath.join(dir, "real"), "config", "data")
      fs.symlinkSync(nodePath.join(dir, "real"), nodePath.join(dir, "via"))
      fs.symlinkSync(nodePath.join(dir, "via", "config"), nodePath.join(dir, "link"))
      const expected = fs.realpathSync(target)
      assert.equal(await host.realPath(nodePath.join(dir, "link")), expected)
      assert.equal(await host.realPath(nodePath.join(dir, "via", "config")), expected)
      assert.equal(await host.realPath(nodePath.join(dir, "via", "absent")), undefined)
      fs.symlinkSync(nodePath.join(dir, "absent"), nodePath.join(dir, "dangling"))
      assert.equal(await host.realPath(nodePath.join(dir, "dangling")), undefined)
      assert.equal(await host.realPath(nodePath.join(target, "below")), undefined)
    }))

  it("realPath follows a chain of symlinks to a unix socket to its end", () =>
    withTempDir("lean-host", (dir) =>
      withSocketBehindTwoLinks(dir, async (link, real) => {
        assert.equal(await host.realPath(link), real)
      })))
})

describe(`LeanHost on ${runtime}: the process`, () => {
  it("env, cwd and uid say what the runtime says", () => {
    const name = `SA_TOKEN_LEAN_HOST_${Math.random().toString(36).slice(2, 8).toUpperCase()}`
    assert.equal(host.env(name), undefined)
    process.env[name] = "set by the test"
    try {
      assert.equal(host.env(name), "set by the test")
      assert.equal(host.env(name), own.env(name))
    } finally {
      delete process.env[name]
    }
    assert.equal(host.env(name), undefined)
    assert.equal(host.env("PATH"), own.env("PATH"))
    assert.equal(host.cwd(), own.cwd())
    assert.equal(host.uid(), own.uid())
    assert.ok(host.uid() >= 0)
  })

  it("now is the wall clock in epoch milliseconds", () => {
    const before = Date.now()
    const now = host.now()
    assert.ok(Number.isInteger(now) && now >= before && now <= Date.now())
  })
})

/** A request as the server saw it: its target (origin-form, whatever form was sent) and its headers. */
interface Seen {
  readonly target: string
  readonly headers: http.IncomingHttpHeaders
}

/** Serves `handle` on a unix socket in a fresh directory while `body` runs; `body` gets the socket and the requests. */
const serving = (
  handle: (request: http.IncomingMessage, response: http.ServerResponse) => void,
  body: (socket: string, seen: ReadonlyArray<Seen>) => Promise<void>,
): Promise<void> =>
  withTempDir("lean-host", async (dir) => {
    const seen: Array<Seen> = []
    const server = http.createServer((request, response) => {
      const url = new URL(request.url ?? "", "http://localhost")
      seen.push({ target: url.pathname + url.search, headers: request.headers })
      handle(request, response)
    })
    const socket = nodePath.join(dir, "agent.sock")
    await new Promise<void>((resolve) => server.listen(socket, resolve))
    try {
      await body(socket, seen)
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

const options = { headers: { accept: "application/json" }, timeoutMillis: 60_000, maxBytes: 1024 }

describe(`LeanHost on ${runtime}: unixGet`, () => {
  it("gives the status and the body, and sends the path and the headers", () =>
    serving(
      (_, response) => {
        response.writeHead(200, { "content-type": "application/json" })
        // A two-byte character split across two writes
        response.write(Buffer.from([0x7b, 0x22, 0xc3]))
        response.end(Buffer.from([0xa9, 0x22, 0x7d]))
      },
      async (socket, seen) => {
        const reply = await host.unixGet(socket, "/v1/tokens/a%2Fb?format=json", {
          ...options,
          headers: { accept: "application/json", "x-probe": "one" },
        })
        assert.deepEqual(reply, { status: 200, body: '{"\u00e9"}' })
        assert.equal(seen.length, 1)
        assert.equal(seen[0]!.target, "/v1/tokens/a%2Fb?format=json")
        assert.equal(seen[0]!.headers.accept, "application/json")
        assert.equal(seen[0]!.headers["x-probe"], "one")
      },
    ))

  it("passes a 404 and a redirect through as their status", () =>
    serving(
      (request, response) =>
        request.url?.endsWith("/moved")
          ? response.writeHead(302, { location: "http://localhost/elsewhere" }).end()
          : response.writeHead(404, { "content-type": "text/plain" }).end("no token named x\n"),
      async (socket, seen) => {
        assert.deepEqual(await host.unixGet(socket, "/v1/tokens/x", options), {
          status: 404,
          body: "no token named x\n",
        })
        assert.equal((await host.unixGet(socket, "/moved", options)).status, 302)
        assert.deepEqual(seen.map((request) => request.target), ["/v1/tokens/x", "/moved"], "the redirect not followed")
      },
    ))

  it("reads a body of exactly maxBytes, and rejects one byte more, announced or not", () =>
    serving(
      (request, response) => {
        const size = Number(new URL(request.url ?? "", "http://localhost").searchParams.get("size"))
        const data = "y".repeat(size)
        if (request.url?.includes("declared")) response.writeHead(200, { "content-length": String(size) }).end(data)
        // Chunked, in pieces, with no content-length to go by
        else {
          response.writeHead(200)
          for (let at = 0; at < size; at += 300) response.write(data.slice(at, at + 300))
          response.end()
        }
      },
      async (socket) => {
        assert.equal((await host.unixGet(socket, "/chunked?size=1024", options)).body.length, 1024)
        assert.equal((await host.unixGet(socket, "/declared?size=1024", options)).body.length, 1024)
        await assert.rejects(host.unixGet(socket, "/chunked?size=1025", options), /larger than 1024 bytes/)
        await assert.rejects(host.unixGet(socket, "/declared?size=1025", options), /larger than 1024 bytes/)
      },
    ))

  it("rejects when the server closes the connection without answering", () =>
    serving(
      (request) => request.socket.destroy(),
      async (socket, seen) => {
        await assert.rejects(host.unixGet(socket, "/v1/tokens/x", options))
        assert.ok(seen.length >= 1, "the request reached the server")
      },
    ))

  it("rejects when nothing listens on the socket", () =>
    withTempDir("lean-host", async (dir) => {
      await assert.rejects(host.unixGet(nodePath.join(dir, "absent.sock"), "/v1/tokens/x", options))
      // A socket file left behind by a server that is gone
      const server = http.createServer()
      const stale = nodePath.join(dir, "stale.sock")
      await new Promise<void>((resolve) => server.listen(stale, resolve))
      fs.renameSync(stale, `${stale}.kept`)
      await new Promise((resolve) => server.close(resolve))
      fs.renameSync(`${stale}.kept`, stale)
      await assert.rejects(host.unixGet(stale, "/v1/tokens/x", options))
    }))
})
