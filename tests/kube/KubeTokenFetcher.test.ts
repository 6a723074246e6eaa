/**
 * The TokenRequest fetcher against real HTTPS exchanges with a scripted server on 127.0.0.1, under whichever runtime
 * runs the file (each with its own TLS client): every `reason`, the Status message, `Retry-After`, the one-time
 * discovery check (a definitive answer kept, a failed check not), `Warning` headers, the size limit, the timeout (TestClock), validation before the URL, and no token
 * in any message.
 */
import assert from "node:assert/strict"
import { after, before, describe, it } from "node:test"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as KubeConnection from "../../adapters/kube/KubeConnection.ts"
import * as KubeTokenFetcher from "../../adapters/kube/KubeTokenFetcher.ts"
import type { TokenFetchError } from "../../core/TokenError.ts"
import { fetchReasons } from "../../core/TokenError.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import { runTest, tokenOf } from "../_support/harness.ts"
import * as KubeServer from "../_support/kubeServer.ts"
import { tlsLayer } from "../_support/runtime.ts"

const SECRET = "eyJhbGciOiJFUzI1NiJ9.secret-token.sig"
const BEARER = "bearer-credential-1234"
const request: TokenRequest = { spec: { audiences: ["vault"], expirationSeconds: 3600 } }

const issued = (body: string) => {
  const spec = JSON.parse(body).spec
  return {
    status: 201,
    body: {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      metadata: { name: "builder", namespace: "default", creationTimestamp: "2030-01-01T00:00:00Z" },
      spec,
      status: { token: SECRET, expirationTimestamp: "2030-01-01T01:00:00Z" },
    },
  } as const
}

let server: KubeServer.KubeServer
before(async () => {
  server = await KubeServer.start(() => ({ status: 500 }))
})
after(() => server.close())

const connection = (options: Partial<KubeConnection.KubeConnection> = {}): KubeConnection.KubeConnection => ({
  server: server.url,
  namespace: "default",
  tls: { caPem: server.caPem },
  headers: {},
  bearerToken: Effect.succeed(Option.some(Redacted.make(BEARER))),
  unauthorized: Effect.void,
  description: "test",
  ...options,
})

const withFetcher = <A, E>(
  use: (fetcher: Effect.Effect.Success<ReturnType<typeof KubeTokenFetcher.scoped>>) => Effect.Effect<A, E>,
  conn: KubeConnection.KubeConnection = connection(),
  options: KubeTokenFetcher.Options = {},
) =>
  runTest(
    KubeTokenFetcher.scoped(options).pipe(
      Effect.flatMap(use),
      Effect.provide(KubeConnection.layerFrom(conn)),
      Effect.provide(tlsLayer),
    ),
  )

const failureOf = (conn?: KubeConnection.KubeConnection, options?: KubeTokenFetcher.Options) =>
  withFetcher(
    (fetcher) => Effect.either(fetcher.fetch("default", "builder", request)),
    conn,
    options,
  ).then((either) => {
    assert.ok(Either.isLeft(either), "expected a failure")
    seenReasons.add(either.left.reason)
    return either.left as TokenFetchError
  })

const seenReasons = new Set<string>()

const notFound: KubeServer.Answer = {
  status: 404,
  body: KubeServer.status(404, "NotFound", 'serviceaccounts "builder" not found'),
}

/** How many discovery checks reached the server since its requests were last cleared. */
const discoveries = () => server.requests.filter((r) => r.path === "/api/v1").length

const assertNoSecret = (error: TokenFetchError) => {
  for (const text of [error.message, String(error), JSON.stringify(error)]) {
    assert.ok(!text.includes(SECRET) && !text.includes(BEARER), `secret leaked: ${text}`)
  }
}

describe("KubeTokenFetcher", () => {
  it("POSTs the TokenRequest as JSON with the bearer token and decodes the 201", async () => {
    server.handler = (seen) => (seen.method === "POST" ? issued(seen.body) : { status: 404 })
    const response = await withFetcher((fetcher) => fetcher.fetch("default", "builder", request))
    assert.equal(tokenOf(response), SECRET)
    assert.equal(response.status?.expirationTimestamp.toISOString(), "2030-01-01T01:00:00.000Z")
    assert.deepEqual(response.spec.audiences, ["vault"])
    const seen = server.requests.at(-1)!
    assert.equal(seen.path, "/api/v1/namespaces/default/serviceaccounts/builder/token")
    assert.equal(seen.bearer, BEARER)
    assert.match(String(seen.headers["content-type"]), /application\/json/)
    assert.deepEqual(JSON.parse(seen.body), {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { audiences: ["vault"], expirationSeconds: 3600 },
    })
  })

  const statuses: ReadonlyArray<readonly [number, string, string]> = [
    [400, "BadRequest", "BadRequest"],
    [401, "Unauthorized", "Unauthorized"],
    [403, "Forbidden", "Forbidden"],
    [409, "Conflict", "Conflict"],
    [422, "Invalid", "Invalid"],
    [500, "InternalError", "ServerError"],
    [503, "ServiceUnavailable", "ServerError"],
  ]
  for (const [code, statusReason, reason] of statuses) {
    it(`maps ${code} to ${reason} with the Status message`, async () => {
      const message = `serviceaccounts "builder" ${statusReason} (${code})`
      server.handler = () => ({ status: code, body: KubeServer.status(code, statusReason, message) })
      const error = await failureOf()
      assert.equal(error.reason, reason)
      assert.equal(error.message, message)
      assert.equal(error.status, code)
      assertNoSecret(error)
    })
  }

  it("maps 429 to TooManyRequests with Retry-After seconds", async () => {
    server.handler = () => ({
      status: 429,
      headers: { "retry-after": "7" },
      body: KubeServer.status(429, "TooManyRequests", "Too many requests, please try again later."),
    })
    const error = await failureOf()
    assert.equal(error.reason, "TooManyRequests")
    assert.equal(error.retryAfterSeconds, 7)
    assert.equal(error.message, "Too many requests, please try again later.")
  })

  it("uses client-go's text when an error answer has no Status", async () => {
    server.handler = () => ({ status: 401, body: "nope" })
    const error = await failureOf()
    assert.equal(error.reason, "Unauthorized")
    assert.equal(error.message, "the server has asked for the client to provide credentials")
  })

  it("keeps a 404 when discovery lists serviceaccounts/token, and checks discovery once", async () => {
    server.handler = (seen) =>
      seen.path === "/api/v1"
        ? { status: 200, body: KubeServer.discoveryV1 }
        : { status: 404, body: KubeServer.status(404, "NotFound", 'serviceaccounts "builder" not found') }
    server.requests.length = 0
    const errors = await withFetcher((fetcher) =>
      Effect.all([0, 1, 2].map(() => Effect.flip(fetcher.fetch("default", "builder", request))))
    )
    for (const error of errors) {
      seenReasons.add(error.reason)
      assert.equal(error.reason, "NotFound")
      assert.equal(error.message, 'serviceaccounts "builder" not found')
    }
    assert.equal(server.requests.filter((r) => r.path === "/api/v1").length, 1)
  })

  it("reports Unsupported when discovery lacks the endpoint, and asks discovery once across repeated calls", async () => {
    server.handler = (seen) =>
      seen.path === "/api/v1"
        ? { status: 200, body: { ...KubeServer.discoveryV1, resources: [{ name: "pods" }] } }
        : { status: 404, body: "404 page not found" }
    server.requests.length = 0
    const errors = await withFetcher((fetcher) =>
      Effect.all([0, 1, 2].map(() => Effect.flip(fetcher.fetch("default", "builder", request))))
    )
    for (const error of errors) {
      seenReasons.add(error.reason)
      assert.equal(error.reason, "Unsupported")
      assert.equal(error.message, "the API server does not have TokenRequest endpoints enabled")
      assert.equal(error.status, 404)
    }
    assert.equal(discoveries(), 1)
  })

  it("does not keep a discovery check answered with a 500: that 404 is reported as it came, the next one checks again", async () => {
    const answers: Array<KubeServer.Answer> = [
      { status: 500, body: KubeServer.status(500, "InternalError", "etcd is unavailable") },
      { status: 200, body: { ...KubeServer.discoveryV1, resources: [{ name: "pods" }] } },
    ]
    server.handler = (seen) => seen.path === "/api/v1" ? answers.shift()! : notFound
    server.requests.length = 0
    const errors = await withFetcher((fetcher) =>
      Effect.all([0, 1, 2].map(() => Effect.flip(fetcher.fetch("default", "builder", request))))
    )
    assert.deepEqual(errors.map((e) => e.reason), ["NotFound", "Unsupported", "Unsupported"])
    assert.equal(errors[0]!.message, 'serviceaccounts "builder" not found')
    assert.equal(errors[0]!.status, 404)
    assert.equal(discoveries(), 2)
  })

  it("does not keep a discovery check that failed in transport twice or answered a body that is not an APIResourceList", async () => {
    const answers: Array<KubeServer.Answer> = [
      "drop",
      "drop",
      { status: 200, headers: { "content-type": "text/html" }, body: "<html>proxy login</html>" },
      { status: 200, body: { kind: "Status", status: "Success" } },
      { status: 200, body: KubeServer.discoveryV1 },
    ]
    server.handler = (seen) => seen.path === "/api/v1" ? answers.shift()! : notFound
    server.requests.length = 0
    const errors = await withFetcher((fetcher) =>
      Effect.all([0, 1, 2, 3, 4].map(() => Effect.flip(fetcher.fetch("default", "builder", request))))
    )
    for (const error of errors) {
      assert.equal(error.reason, "NotFound")
      assert.equal(error.message, 'serviceaccounts "builder" not found')
    }
    assert.equal(discoveries(), 5)
  })

  it("sends a discovery check again, once, when its connection dropped, as Go's client does for a GET", async () => {
    const answers: Array<KubeServer.Answer> = ["drop", {
      status: 200,
      body: { ...KubeServer.discoveryV1, resources: [] },
    }]
    server.handler = (seen) => seen.path === "/api/v1" ? answers.shift()! : notFound
    server.requests.length = 0
    const error = await withFetcher((fetcher) => Effect.flip(fetcher.fetch("default", "builder", request)))
    assert.equal(error.reason, "Unsupported")
    assert.equal(discoveries(), 2)
  })

  it("shares one discovery check among concurrent callers, even one that failed, and asks again after it", async () => {
    // Each 404 carries a Warning header, logged as its caller leaves the request: three logs, three callers past it.
    let answered = 0
    const warned = { ...notFound, headers: { warning: '299 - "not found"' } }
    server.handler = (seen) => seen.path !== "/api/v1" ? warned : discoveries() === 1 ? "hang" : { status: 500 }
    server.requests.length = 0
    const [concurrent, later] = await withFetcher(
      (fetcher) =>
        Effect.gen(function* () {
          const callers = yield* Effect.fork(
            Effect.all([0, 1, 2].map(() => Effect.flip(fetcher.fetch("default", "builder", request))), {
              concurrency: "unbounded",
            }),
          )
          // The check hangs until its deadline while all three callers are past their POST.
          while (answered < 3 || discoveries() < 1) yield* Effect.yieldNow()
          for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
          yield* TestClock.adjust("3 seconds")
          const concurrent = yield* Fiber.join(callers)
          server.handler = (seen) => seen.path === "/api/v1" ? { status: 200, body: KubeServer.discoveryV1 } : notFound
          const later = yield* Effect.all([0, 1].map(() => Effect.flip(fetcher.fetch("default", "builder", request))))
          return [concurrent, later] as const
        }).pipe(
          Effect.provide(Logger.replace(Logger.defaultLogger, Logger.make(() => void answered++))),
        ),
      connection(),
      { timeout: "3 seconds" },
    )
    assert.deepEqual(concurrent.map((e) => e.reason), ["NotFound", "NotFound", "NotFound"])
    assert.equal(concurrent[0]!.message, 'serviceaccounts "builder" not found')
    assert.deepEqual(later.map((e) => e.reason), ["NotFound", "NotFound"])
    assert.equal(discoveries(), 2)
  })

  it("does not keep the answer of a discovery check that was interrupted", async () => {
    let discoverySeen: () => void = () => {}
    const discovering = new Promise<void>((resolve) => (discoverySeen = resolve))
    server.handler = (seen) => {
      if (seen.path !== "/api/v1") return { status: 404, body: KubeServer.status(404, "NotFound", "gone") }
      discoverySeen()
      return "hang"
    }
    const reason = await withFetcher((fetcher) =>
      Effect.gen(function* () {
        const first = yield* Effect.fork(fetcher.fetch("default", "builder", request))
        yield* Effect.promise(() => discovering)
        yield* Fiber.interrupt(first)
        server.handler = (seen) =>
          seen.path === "/api/v1"
            ? { status: 200, body: KubeServer.discoveryV1 }
            : { status: 404, body: KubeServer.status(404, "NotFound", "gone") }
        const second = yield* Effect.flip(fetcher.fetch("default", "builder", request))
        return second.reason
      })
    )
    assert.equal(reason, "NotFound")
  })

  it("fails with Decode on malformed JSON, a bad TokenRequest, no token, or too large a body; never echoing values", async () => {
    server.handler = () => ({ status: 201, body: "{not json" })
    assert.equal((await failureOf()).reason, "Decode")
    server.handler = () => ({ status: 201, body: { spec: {}, status: { token: SECRET, expirationTimestamp: "soon" } } })
    const bad = await failureOf()
    assert.equal(bad.reason, "Decode")
    assert.match(bad.message, /status\.expirationTimestamp/)
    assertNoSecret(bad)
    server.handler = () => ({
      status: 201,
      body: { spec: {}, status: { token: "", expirationTimestamp: "2030-01-01T00:00:00Z" } },
    })
    assert.equal((await failureOf()).message, "no token in server response")
    server.handler = (seen) => ({ ...issued(seen.body), headers: { "content-type": "text/html" } })
    assert.match((await failureOf()).message, /content type "text\/html", not JSON/)
    server.handler = (seen) => {
      const answer = issued(seen.body)
      return { ...answer, body: { ...answer.body, spec: { expirationSeconds: -3600 } } }
    }
    assert.match((await failureOf()).message, /spec\.expirationSeconds is not positive: -3600/)
    server.handler = () => ({ status: 201, body: { spec: {}, padding: "x".repeat(5000) } })
    const large = await failureOf(undefined, { maxResponseBytes: 1000 })
    assert.equal(large.reason, "Decode")
    assert.match(large.message, /exceeds the limit of 1000 bytes/)
  })

  it("does not follow a redirect, so credentials stay with the configured server", async () => {
    server.requests.length = 0
    server.handler = (seen) =>
      seen.path === "/elsewhere" ? issued(seen.body) : { status: 307, headers: { location: `${server.url}/elsewhere` } }
    const error = await failureOf()
    assert.equal(error.reason, "ServerError")
    assert.equal(error.message, "the server redirected the request (status 307); redirects are not followed")
    assert.deepEqual(server.requests.map((r) => r.path), ["/api/v1/namespaces/default/serviceaccounts/builder/token"])
  })

  it("fails with Transport when the connection drops", async () => {
    server.handler = () => "drop"
    const error = await failureOf()
    assert.equal(error.reason, "Transport")
    assert.match(
      error.message,
      /^POST "https:\/\/127\.0\.0\.1:\d+\/api\/v1\/namespaces\/default\/serviceaccounts\/builder\/token": /,
    )
    assertNoSecret(error)
  })

  it("fails with Timeout when the server does not answer in time (TestClock), even when called uninterruptibly", async () => {
    server.handler = () => "hang"
    const error = await withFetcher(
      (fetcher) =>
        Effect.gen(function* () {
          // The manager runs shared fetches uninterruptibly: the fetcher's own deadline must still end the request.
          const fiber = yield* Effect.fork(
            Effect.uninterruptible(Effect.flip(fetcher.fetch("default", "builder", request))),
          )
          while (Chunk.isEmpty(yield* TestClock.sleeps())) yield* Effect.yieldNow()
          yield* TestClock.adjust("3 seconds")
          return yield* Fiber.join(fiber)
        }),
      connection(),
      { timeout: "3 seconds" },
    )
    seenReasons.add(error.reason)
    assert.equal(error.reason, "Timeout")
    assert.match(error.message, /request timed out after 3s/)
  })

  it("refuses a server whose certificate is not signed by the trusted CA", async () => {
    const other = await KubeServer.start(() => ({ status: 500 }))
    try {
      server.handler = (seen) => issued(seen.body)
      const error = await failureOf(connection({ tls: { caPem: other.caPem } }))
      assert.equal(error.reason, "Transport")
      const none = await failureOf(connection({ tls: {} }))
      assert.equal(none.reason, "Transport")
    } finally {
      await other.close()
    }
  })

  it("validates namespace and name before they go into the URL", async () => {
    server.requests.length = 0
    const errors = await withFetcher((fetcher) =>
      Effect.all([
        Effect.flip(fetcher.fetch("../kube-system", "builder", request)),
        Effect.flip(fetcher.fetch("default", "a/../../b", request)),
        Effect.flip(fetcher.fetch("default", "", request)),
      ])
    )
    assert.deepEqual(errors.map((e) => e.reason), ["Invalid", "Invalid", "Invalid"])
    assert.match(errors[0]!.message, /namespace/)
    assert.match(errors[1]!.message, /name/)
    assert.equal(server.requests.length, 0)
  })

  it("logs Warning headers and tells the connection about a 401", async () => {
    const logs: Array<string> = []
    let unauthorized = 0
    server.handler = (seen) => ({
      ...issued(seen.body),
      headers: { warning: '299 - "requested expiration of 3600 seconds shortened to 600 seconds"' },
    })
    await runTest(
      KubeTokenFetcher.scoped().pipe(
        Effect.flatMap((f) => f.fetch("default", "builder", request)),
        Effect.provide(KubeConnection.layerFrom(connection())),
        Effect.provide(tlsLayer),
        Effect.provide(Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => logs.push(String(message))))),
      ),
    )
    assert.ok(logs.includes("Warning: requested expiration of 3600 seconds shortened to 600 seconds"), logs.join("\n"))
    server.handler = () => ({ status: 401, body: KubeServer.status(401, "Unauthorized", "Unauthorized") })
    await failureOf(connection({ unauthorized: Effect.sync(() => void unauthorized++) }))
    assert.equal(unauthorized, 1)
  })

  it("produced every reason but Standalone (the no-server fetcher of the core) through a real exchange", () => {
    assert.deepEqual([...seenReasons].sort(), fetchReasons.filter((r) => r !== "Standalone").toSorted())
  })
})
