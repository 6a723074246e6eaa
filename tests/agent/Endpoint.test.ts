import assert from "node:assert/strict"
import { execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import process from "node:process"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Endpoint from "../../adapters/agent/Endpoint.ts"
import * as SealedReply from "../../adapters/agent/SealedReply.ts"
import * as NodeLocalHttp from "../../adapters/platform/NodeLocalHttp.ts"
import { fakeAgent, request, status } from "../_support/agentFakes.ts"
import * as Connections from "../_support/connections.ts"
import { runtime } from "../_support/runtime.ts"
import type { FakeAgent, Reply, Target } from "../_support/agentFakes.ts"

const MARKER = "MARKER-7f3a9c-DO-NOT-LEAK"
const future = new Date(Date.UTC(2100, 0, 1))

const agent = (): FakeAgent =>
  fakeAgent([
    { status: status("app", { fingerprint: "abc", expiresAt: future }), token: `${MARKER}-app` },
    { status: status("stale", { phase: "stale", expiresAt: future }), token: `${MARKER}-stale` },
    { status: status("pending", { phase: "pending" }) },
    { status: status("old", { phase: "valid", expiresAt: new Date(Date.UTC(2000, 0, 1)) }), token: `${MARKER}-old` },
  ])

const tempDir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), "sa-endpoint-"))

/** Starts an endpoint, runs the checks against it, and stops it. */
const withEndpoint = (
  fake: FakeAgent,
  config: Endpoint.EndpointConfig,
  body: (target: Target, endpoint: Endpoint.Endpoint) => Promise<void>,
): Promise<void> =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const endpoint = yield* Endpoint.make(config)
        const address = endpoint.address
        const target: Target = address._tag === "Unix"
          ? { socketPath: address.path }
          : { host: address.host, port: address.port }
        yield* Effect.promise(() => body(target, endpoint))
      }),
    ).pipe(Effect.provide([fake.layer, NodeLocalHttp.layer])),
  )

const startError = (fake: FakeAgent, config: Endpoint.EndpointConfig): Promise<Endpoint.EndpointError> =>
  Effect.runPromise(
    Effect.exit(Effect.scoped(Endpoint.make(config)).pipe(Effect.provide([fake.layer, NodeLocalHttp.layer]))),
  )
    .then((exit) => {
      assert.ok(Exit.isFailure(exit), "the endpoint should not start")
      const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
      assert.ok(error instanceof Endpoint.EndpointError, String(exit.cause))
      return error
    })

const noMarker = (reply: Reply, what: string) => {
  assert.ok(!reply.body.includes(MARKER), `${what} leaks the token`)
  assert.ok(!JSON.stringify(reply.headers).includes(MARKER), `${what} headers leak the token`)
}

/** Sends raw bytes and returns the status line of the reply (or "closed"). */
const raw = (socketPath: string, text: string): Promise<string> =>
  new Promise((resolve) => {
    const socket = net.connect({ path: socketPath })
    let data = ""
    socket.on("data", (chunk) => (data += chunk.toString("utf8")))
    socket.on("error", () => resolve(data.split("\r\n")[0] || "closed"))
    socket.on("close", () => resolve(data.split("\r\n")[0] || "closed"))
    socket.write(text)
  })

describe("Endpoint on a unix socket", () => {
  it("creates the socket 0600, serves tokens raw and as JSON, and removes the socket when stopped", async () => {
    const dir = tempDir()
    const socketPath = path.join(dir, "run", "agent.sock")
    await withEndpoint(agent(), { _tag: "Unix", path: socketPath }, async (target) => {
      const stat = fs.statSync(socketPath)
      assert.ok(stat.isSocket())
      assert.equal(stat.mode & 0o777, 0o600)
      assert.equal(fs.statSync(path.dirname(socketPath)).mode & 0o777, 0o700)
      assert.deepEqual(fs.readdirSync(path.dirname(socketPath)), ["agent.sock"])

      const plain = await request(target, "/v1/tokens/app")
      assert.equal(plain.status, 200)
      assert.match(String(plain.headers["content-type"]), /^text\/plain/)
      assert.equal(plain.headers["cache-control"], "no-store")
      assert.equal(plain.body, `${MARKER}-app`)

      const expected = { name: "app", token: `${MARKER}-app`, expirationTimestamp: "2100-01-01T00:00:00Z" }
      const byQuery = await request(target, "/v1/tokens/app?format=json")
      assert.equal(byQuery.status, 200)
      assert.deepEqual(JSON.parse(byQuery.body), expected)
      const byAccept = await request(target, "/v1/tokens/app", { headers: { accept: "application/json" } })
      assert.match(String(byAccept.headers["content-type"]), /^application\/json/)
      assert.deepEqual(JSON.parse(byAccept.body), expected)

      assert.equal((await request(target, "/v1/tokens/stale")).body, `${MARKER}-stale`)
    })
    assert.equal(fs.existsSync(socketPath), false)
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("creates the socket with its mode whatever the umask (000 and 077)", async () => {
    for (const [umask, mode] of [[0o000, 0o600], [0o077, 0o660], [0o000, undefined]] as const) {
      const dir = tempDir()
      const socketPath = path.join(dir, "fresh", "agent.sock")
      const previous = process.umask(umask)
      try {
        await withEndpoint(agent(), { _tag: "Unix", path: socketPath, mode }, async (target) => {
          assert.equal(fs.statSync(socketPath).mode & 0o777, mode ?? 0o600, `umask ${umask.toString(8)}`)
          assert.equal(fs.statSync(path.dirname(socketPath)).mode & 0o777, 0o700)
          assert.equal((await request(target, "/healthz")).status, 200)
        })
      } finally {
        process.umask(previous)
        fs.rmSync(dir, { recursive: true, force: true })
      }
    }
  })

  it("answers 404 for undeclared names, 503 for tokens that are not valid, 405 for other methods", async () => {
    const dir = tempDir()
    await withEndpoint(agent(), { _tag: "Unix", path: path.join(dir, "a.sock") }, async (target) => {
      const unknown = await request(target, "/v1/tokens/nope")
      assert.equal(unknown.status, 404)
      const pending = await request(target, "/v1/tokens/pending")
      assert.equal(pending.status, 503)
      const expired = await request(target, "/v1/tokens/old")
      assert.equal(expired.status, 503, "an expired token is never served")
      const post = await request(target, "/v1/tokens/app", { method: "POST" })
      assert.equal(post.status, 405)
      const del = await request(target, "/v1/tokens/app", { method: "DELETE" })
      assert.equal(del.status, 405)
      assert.equal((await request(target, "/nowhere")).status, 404)
      assert.equal((await request(target, "/v1/tokens/%E0%A4%A")).status, 400)
      for (const reply of [unknown, pending, expired, post, del]) noMarker(reply, "an error")
    })
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("serves health, readiness and metrics without any token", async () => {
    const dir = tempDir()
    const fake = agent()
    await withEndpoint(fake, { _tag: "Unix", path: path.join(dir, "a.sock") }, async (target) => {
      await request(target, "/v1/tokens/stale")
      const health = await request(target, "/healthz")
      assert.equal(health.status, 200)
      const ready = await request(target, "/readyz")
      assert.equal(ready.status, 200)
      fake.ready = false
      const notReady = await request(target, "/readyz")
      assert.equal(notReady.status, 503)
      assert.match(notReady.body, /"pending" is pending/)
      const metrics = await request(target, "/metrics")
      assert.equal(metrics.status, 200)
      assert.match(String(metrics.headers["content-type"]), /^text\/plain; version=0\.0\.4/)
      assert.match(
        metrics.body,
        /sa_token_agent_token_expiry_seconds\{token="app",namespace="default",service_account="sa-app"\} \d+/,
      )
      assert.match(metrics.body, /sa_token_agent_token_stale_served_total\{token="stale",[^}]*\} [1-9]/)
      assert.match(metrics.body, /sa_token_agent_ready 0/)
      assert.match(metrics.body, /sa_token_agent_endpoint_requests_total\{route="token",code="200"\} [1-9]/)
      assert.match(metrics.body, /sa_token_agent_endpoint_requests_total\{route="readyz",code="503"\} [1-9]/)
      for (
        const [reply, what] of [[health, "healthz"], [ready, "readyz"], [notReady, "readyz"], [
          metrics,
          "metrics",
        ]] as const
      ) {
        noMarker(reply, what)
      }
    })
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("accepts an absolute request target (Deno's unix-socket fetch) and a configured mode", async () => {
    const dir = tempDir()
    const socketPath = path.join(dir, "a.sock")
    await withEndpoint(agent(), { _tag: "Unix", path: socketPath, mode: 0o660 }, async () => {
      assert.equal(fs.statSync(socketPath).mode & 0o777, 0o660)
      const line = await raw(
        socketPath,
        "GET http://localhost/v1/tokens/app HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
      )
      assert.match(line, /^HTTP\/1\.1 200/)
    })
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("refuses oversized requests and requests with a body", async () => {
    const dir = tempDir()
    const socketPath = path.join(dir, "a.sock")
    await withEndpoint(agent(), { _tag: "Unix", path: socketPath, maxRequestBytes: 2048 }, async (target) => {
      const big = await request(target, "/healthz", { headers: { "x-padding": "x".repeat(4096) } })
      assert.equal(big.status, 431)
      const longPath = await request(target, `/v1/tokens/${"a".repeat(4096)}`)
      assert.equal(longPath.status, 431)
      const withBody = await request(target, "/healthz", { body: "hello", headers: { "content-length": "5" } })
      assert.equal(withBody.status, 413)
      assert.equal((await request(target, "/healthz")).status, 200, "the endpoint still serves afterwards")
    })
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("refuses to start over a live socket or a file, and replaces a stale socket", async () => {
    const dir = tempDir()
    const socketPath = path.join(dir, "a.sock")
    await withEndpoint(agent(), { _tag: "Unix", path: socketPath }, async () => {
      const error = await startError(agent(), { _tag: "Unix", path: socketPath })
      assert.equal(error.reason, "AddressInUse")
    })
    const filePath = path.join(dir, "file")
    fs.writeFileSync(filePath, "x")
    assert.equal((await startError(agent(), { _tag: "Unix", path: filePath })).reason, "InvalidConfig")
    assert.equal(fs.readFileSync(filePath, "utf8"), "x")
    // A stale socket: bound by a server that is gone, left behind on disk.
    const stalePath = path.join(dir, "stale.sock")
    const server = net.createServer()
    await new Promise<void>((resolve) => server.listen(stalePath, resolve))
    fs.renameSync(stalePath, `${stalePath}.kept`)
    await new Promise<void>((resolve) => server.close(() => resolve()))
    fs.renameSync(`${stalePath}.kept`, stalePath)
    await withEndpoint(agent(), { _tag: "Unix", path: stalePath }, async (target) => {
      assert.equal((await request(target, "/healthz")).status, 200)
    })
    fs.rmSync(dir, { recursive: true, force: true })
  })
})

const bearerToken = Redacted.make(`${MARKER}-bearer`)
const bearer = { authorization: `Bearer ${MARKER}-bearer` }

describe("Endpoint on TCP", () => {
  it("listens on loopback and refuses other addresses unless allowed", async () => {
    await withEndpoint(agent(), { _tag: "Tcp", host: "127.0.0.1", port: 0, bearerToken }, async (target) => {
      assert.ok("port" in target && target.port > 0)
      assert.equal((await request(target, "/v1/tokens/app", { headers: bearer })).body, `${MARKER}-app`)
    })
    for (const host of ["0.0.0.0", "10.1.2.3", "::", "example.com", "128.0.0.1"]) {
      const error = await startError(agent(), { _tag: "Tcp", host, port: 0, bearerToken })
      assert.equal(error.reason, "NonLoopback", host)
      assert.match(error.message, /not a loopback address/)
    }
    assert.ok(["127.0.0.1", "127.9.8.7", "::1", "[::1]", "localhost"].every(Endpoint.isLoopback))
  })

  it("refuses to start without a bearer token: any local user could read every token", async () => {
    for (const token of [undefined, ""]) {
      const config = { _tag: "Tcp", host: "127.0.0.1", port: 0, bearerToken: token } as const
      const error = await startError(
        agent(),
        (token === undefined ? config : { ...config, bearerToken: Redacted.make(token) }) as Endpoint.TcpConfig,
      )
      assert.equal(error.reason, "InvalidConfig")
      assert.match(error.message, /requires bearerToken/)
    }
  })

  it("requires the bearer token", async () => {
    await withEndpoint(agent(), { _tag: "Tcp", host: "127.0.0.1", port: 0, bearerToken }, async (target) => {
      const none = await request(target, "/v1/tokens/app")
      assert.equal(none.status, 401)
      assert.equal(none.headers["www-authenticate"], "Bearer, SA-Token-Sealed")
      const wrong = await request(target, "/v1/tokens/app", { headers: { authorization: `Bearer ${MARKER}-bearex` } })
      assert.equal(wrong.status, 401)
      const prefix = await request(target, "/metrics", { headers: { authorization: `Bearer ${MARKER}` } })
      assert.equal(prefix.status, 401)
      for (const reply of [none, wrong, prefix]) noMarker(reply, "a refusal")
      const right = await request(target, "/v1/tokens/app", { headers: { authorization: `bearer ${MARKER}-bearer` } })
      assert.equal(right.status, 200)
      assert.equal(right.body, `${MARKER}-app`)
    })
    assert.equal(Endpoint.authorized(undefined, Redacted.make("t")), false)
    assert.equal(Endpoint.authorized("Basic dDp0", Redacted.make("t")), false)
    assert.equal(Endpoint.authorized("Bearer t", Redacted.make("t")), true)
  })

  it("answers a sealed request only when its proof holds, sealed under its nonce, target and status", async () => {
    await withEndpoint(agent(), { _tag: "Tcp", host: "127.0.0.1", port: 0, bearerToken }, async (target) => {
      const ask = (secret: Redacted.Redacted<string>, path: string, sentAs = path) =>
        Effect.runPromise(SealedReply.ask(secret, path)).then(async (asked) => ({
          asked,
          reply: await request(target, sentAs, { headers: { authorization: asked.authorization } }),
        }))
      const open = (asked: SealedReply.Asked, path: string, reply: Reply) =>
        Effect.runPromise(SealedReply.open(bearerToken, asked.nonce, path, reply.status, reply.body))
      const path = "/v1/tokens/app?format=json"
      const right = await ask(bearerToken, path)
      assert.equal(right.reply.status, 200)
      assert.equal(right.reply.headers["content-type"], SealedReply.contentType)
      noMarker(right.reply, "a sealed answer")
      const opened = await open(right.asked, path, right.reply)
      assert.ok(Option.isSome(opened))
      assert.equal(JSON.parse(opened.value).token, `${MARKER}-app`)
      // Every routed answer is sealed, its status bound: a 404 does not open as a 200.
      const missing = await ask(bearerToken, "/v1/tokens/nope")
      assert.equal(missing.reply.status, 404)
      assert.match(Option.getOrThrow(await open(missing.asked, "/v1/tokens/nope", missing.reply)), /not declared/)
      assert.ok(Option.isNone(await open(missing.asked, "/v1/tokens/nope", { ...missing.reply, status: 200 })))
      // A proof made with another secret, or for another target, is refused like a wrong bearer token.
      const wrong = await ask(Redacted.make(`${MARKER}-bearex`), path)
      const moved = await ask(bearerToken, "/metrics", path)
      for (const refused of [wrong.reply, moved.reply]) {
        assert.equal(refused.status, 401)
        noMarker(refused, "a refused sealed request")
      }
    })
  })

  it("refuses a foreign Host or Origin (DNS rebinding) with 403, even with the bearer token", async () => {
    await withEndpoint(agent(), { _tag: "Tcp", host: "127.0.0.1", port: 0, bearerToken }, async (target) => {
      const port = "port" in target ? target.port : 0
      const attacks: ReadonlyArray<Record<string, string>> = [
        { host: `attacker.example:${port}` },
        { host: `127.0.0.1.nip.io:${port}` },
        { host: `127.0.0.1:${port + 1}` },
        { host: "127.0.0.1" },
        { host: `localhost:${port}`, origin: `http://attacker.example:${port}` },
        { host: `127.0.0.1:${port}`, origin: "null" },
        { host: `127.0.0.1:${port}`, origin: `https://127.0.0.1:${port}` },
      ]
      for (const headers of attacks) {
        for (const path of ["/v1/tokens/app", "/metrics"]) {
          const reply = await request(target, path, { headers: { ...bearer, ...headers } })
          assert.equal(reply.status, 403, `${JSON.stringify(headers)} ${path}`)
          noMarker(reply, "a refusal")
        }
      }
      const allowed: ReadonlyArray<Record<string, string>> = [
        {},
        { host: `localhost:${port}` },
        { host: `LOCALHOST:${port}`, origin: `http://localhost:${port}` },
        { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` },
      ]
      for (const headers of allowed) {
        const reply = await request(target, "/v1/tokens/app", { headers: { ...bearer, ...headers } })
        assert.equal(reply.status, 200, JSON.stringify(headers))
      }
    })
    assert.ok(Endpoint.hostMatches("[::1]:8181", "::1", 8181))
    assert.ok(Endpoint.hostMatches("localhost:8181", "::1", 8181))
    assert.ok(!Endpoint.hostMatches("127.0.0.1:8181", "::1", 8181))
    assert.ok(Endpoint.hostMatches("[::1]:8181", "localhost", 8181))
    assert.ok(Endpoint.hostMatches("10.0.0.5:8181", "0.0.0.0", 8181))
    assert.ok(!Endpoint.hostMatches("evil.example:8181", "0.0.0.0", 8181))
    assert.ok(Endpoint.hostMatches("10.1.2.3:8181", "10.1.2.3", 8181))
    assert.ok(!Endpoint.hostMatches("localhost:8181", "10.1.2.3", 8181))
    assert.ok(Endpoint.hostMatches("127.0.0.1", "127.0.0.1", 80))
    assert.ok(!Endpoint.hostMatches(undefined, "127.0.0.1", 80))
    assert.ok(Endpoint.originAllowed(undefined, "127.0.0.1", 80))
    assert.ok(!Endpoint.originAllowed("http://127.0.0.1:80/x", "127.0.0.1", 80))
  })

  it("rejects invalid configurations with a typed error", async () => {
    assert.equal(
      (await startError(agent(), { _tag: "Tcp", host: "127.0.0.1", port: 70000, bearerToken })).reason,
      "InvalidConfig",
    )
    const mode = await startError(agent(), { _tag: "Unix", path: path.join(os.tmpdir(), "x.sock"), mode: 0o1777 })
    assert.equal(mode.reason, "InvalidConfig")
  })
})

describe("Endpoint request paths", () => {
  // Each of these reaches the token route once a URL parser normalizes it, past a proxy that allows only /metrics or
  // /healthz by prefix.
  const tricks = [
    "/metrics/../v1/tokens/app",
    "/healthz/%2e%2e/v1/tokens/app",
    "/metrics/%2E%2E/v1/tokens/app",
    "/v1/tokens/./app",
    "/v1/./tokens/app",
    "/metrics\\..\\v1\\tokens\\app",
    "/v1\\tokens\\app",
    "/v1/tokens%2fapp",
    "/v1/tokens%5Capp",
    "/v1/tokens/app/..",
    "/v1/tokens/app/.",
  ]

  const refusesAll = async (send: (path: string) => Promise<{ status: number; body: string }>) => {
    for (const trick of tricks) {
      const reply = await send(trick)
      assert.equal(reply.status, 400, trick)
      assert.ok(!reply.body.includes(MARKER), `${trick} leaks the token`)
    }
  }

  it("refuses dot segments, encoded dots and slashes, and backslashes on a unix socket, before routing", async () => {
    const dir = tempDir()
    const socketPath = path.join(dir, "a.sock")
    await withEndpoint(agent(), { _tag: "Unix", path: socketPath }, async (target) => {
      await refusesAll((trick) => request(target, trick))
      const absolute = await raw(
        socketPath,
        "GET http://localhost/metrics/../v1/tokens/app HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
      )
      assert.match(absolute, /^HTTP\/1\.1 400/)
      assert.equal((await request(target, "/v1/tokens/app")).status, 200)
      assert.equal((await request(target, "/v1/tokens/app?format=json&x=../..")).status, 200, "a query is not a path")
    })
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("refuses the same paths on TCP", async () => {
    await withEndpoint(agent(), { _tag: "Tcp", host: "127.0.0.1", port: 0, bearerToken }, async (target) => {
      await refusesAll((trick) => request(target, trick, { headers: bearer }))
      assert.equal((await request(target, "/v1/tokens/app", { headers: bearer })).status, 200)
    })
  })
})

describe("Endpoint connection limits", () => {
  /** Sends one keep-alive request on an open socket and returns the status line of the reply. */
  const ask = (socket: net.Socket, host: string): Promise<string> =>
    new Promise((resolve) => {
      let data = ""
      const onData = (chunk: Buffer) => {
        data += chunk.toString("utf8")
        if (data.includes("\r\n\r\n")) {
          socket.off("data", onData)
          resolve(data.split("\r\n")[0]!)
        }
      }
      socket.on("data", onData)
      socket.once("close", () => resolve(data.split("\r\n")[0] || "closed"))
      socket.write(`GET /healthz HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${MARKER}-bearer\r\n\r\n`)
    })

  const configs = (
    dir: string,
    connections: Endpoint.EndpointConfig["connections"],
  ): Array<Endpoint.EndpointConfig> => [
    { _tag: "Unix", path: path.join(dir, "a.sock"), connections },
    { _tag: "Tcp", host: "127.0.0.1", port: 0, bearerToken, connections },
  ]

  const connectTo = (target: Target) => () =>
    "socketPath" in target ? net.connect({ path: target.socketPath }) : net.connect(target.port, target.host)

  const hostOf = (target: Target) => "socketPath" in target ? "localhost" : `${target.host}:${target.port}`

  it("holds at most maxConnections: 300 idle connections, 250 closed at once, the 50 held ones still served", {
    timeout: 30_000,
  }, async () => {
    const dir = tempDir()
    for (const config of configs(dir, { maxConnections: 50 })) {
      await withEndpoint(agent(), config, async (target) => {
        const batch = await Connections.open(300, connectTo(target))
        await batch.closed(250)
        const held = batch.sockets.filter((socket) => !batch.isClosed(socket))
        assert.equal(held.length, 50, config._tag)
        const lines = await Promise.all(held.map((socket) => ask(socket, hostOf(target))))
        assert.deepEqual(new Set(lines), new Set(["HTTP/1.1 200 OK"]), config._tag)
        // still full: one more connection is closed at once
        const extra = await Connections.open(1, connectTo(target))
        await extra.closed(1)
        batch.destroy()
      })
    }
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("closes connections that send nothing, half a request, or nothing after a response", {
    timeout: 30_000,
  }, async () => {
    const dir = tempDir()
    const limits = { maxConnections: 200, headersTimeoutMillis: 1000, idleTimeoutMillis: 100 }
    for (const config of configs(dir, limits)) {
      await withEndpoint(agent(), config, async (target) => {
        const kept = await Connections.open(20, connectTo(target))
        const answers = await Promise.all(kept.sockets.map((socket) => ask(socket, hostOf(target))))
        assert.deepEqual(new Set(answers), new Set(["HTTP/1.1 200 OK"]))
        const idle = await Connections.open(150, connectTo(target))
        const partial = await Connections.open(20, connectTo(target))
        partial.sockets.forEach((socket) => socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\n"))
        await Promise.all([idle.closed(150), partial.closed(20), kept.closed(20)])
        // the endpoint serves as before
        const after = await Connections.open(1, connectTo(target))
        assert.equal(await ask(after.sockets[0]!, hostOf(target)), "HTTP/1.1 200 OK")
        after.destroy()
      })
    }
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("refuses limits that are not positive whole numbers", async () => {
    for (const connections of [{ maxConnections: 0 }, { idleTimeoutMillis: 1.5 }, { headersTimeoutMillis: -1 }]) {
      const error = await startError(agent(), { _tag: "Tcp", host: "127.0.0.1", port: 0, bearerToken, connections })
      assert.equal(error.reason, "InvalidConfig")
      assert.match(error.message, /connections\.\w+ must be a whole number above 0/)
    }
  })
})

describe("Endpoint against a second local user", () => {
  const root = typeof process.getuid === "function" && process.getuid() === 0
  const skip = !root
    ? "needs root, to create and remove a second local user"
    : runtime !== "node"
    ? "runs once, under Node (it spawns the client as another user with node:child_process's uid option)"
    : false

  /** Runs a Node client as `uid` asking `target` for a token; resolves with its answer (a status or an error code). */
  const askAs = (uid: number, target: Record<string, unknown>, headers: Record<string, string> = {}): Promise<string> =>
    new Promise((resolve) => {
      const script = `const r = require("node:http").get(${
        JSON.stringify({ ...target, path: "/v1/tokens/app", headers })
      },
        (res) => { let b = ""; res.on("data", (c) => b += c); res.on("end", () => console.log(res.statusCode + " " + b)) });
        r.on("error", (e) => console.log(e.code))`
      const child = spawn(process.execPath, ["-e", script], { uid, gid: uid, stdio: ["ignore", "pipe", "inherit"] })
      let out = ""
      child.stdout.on("data", (chunk) => (out += String(chunk)))
      child.on("exit", () => resolve(out.trim()))
    })

  it(
    "another user gets no token: a TCP endpoint needs the bearer token, the unix socket is mode 0600",
    { skip },
    async () => {
      const user = `satk-net-${process.pid}`
      execFileSync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user])
      const dir = tempDir()
      try {
        fs.chmodSync(dir, 0o755)
        const uid = Number(execFileSync("id", ["-u", user], { encoding: "utf8" }).trim())
        // Today's default, a TCP endpoint without a bearer token, must not come up at all.
        const open = await Effect.runPromise(Effect.exit(
          Effect.scoped(Effect.gen(function* () {
            const endpoint = yield* Endpoint.make({ _tag: "Tcp", host: "127.0.0.1", port: 0 } as Endpoint.TcpConfig)
            const port = endpoint.address._tag === "Tcp" ? endpoint.address.port : 0
            return yield* Effect.promise(() => askAs(uid, { host: "127.0.0.1", port }))
          })).pipe(Effect.provide([agent().layer, NodeLocalHttp.layer])),
        ))
        assert.ok(Exit.isFailure(open), `the other user was answered: ${Exit.isSuccess(open) ? open.value : ""}`)
        await withEndpoint(agent(), { _tag: "Tcp", host: "127.0.0.1", port: 0, bearerToken }, async (target) => {
          const answer = await askAs(uid, target)
          assert.match(answer, /^401 /)
          assert.ok(!answer.includes(MARKER))
        })
        await withEndpoint(agent(), { _tag: "Unix", path: path.join(dir, "a.sock") }, async (target) => {
          assert.equal(await askAs(uid, target), "EACCES")
        })
      } finally {
        execFileSync("userdel", [user])
        fs.rmSync(dir, { recursive: true, force: true })
      }
    },
  )
})
