import assert from "node:assert/strict"
import * as nodeFs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import { describe, it } from "node:test"
import * as Path from "@effect/platform/Path"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as ExecCredential from "../../adapters/agent/ExecCredential.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import { fakeFetcher, fetchError, hour, issued, minute, runTest, tokenOf } from "../_support/harness.ts"
import { platform } from "../_support/platform.ts"

const MARKER = "MARKER-exec-5b1e"
const request: TokenRequest = { spec: { audiences: ["https://kubernetes.default.svc"], expirationSeconds: 3600 } }

/** A fetcher issuing `MARKER-n` tokens that live for the requested lifetime from the TestClock's now. */
const issuing = () => {
  const fake = fakeFetcher((_namespace, _name, req) =>
    Effect.map(
      Clock.currentTimeMillis,
      (now) => issued(req, `${MARKER}-${fake.calls}`, now + (req.spec.expirationSeconds ?? 3600) * 1000),
    )
  )
  return fake
}

const tempDir = (): string => nodeFs.mkdtempSync(nodePath.join(os.tmpdir(), "sa-exec-"))

describe("ExecCredential.render", () => {
  it("prints a client.authentication.k8s.io/v1 ExecCredential with an RFC 3339 expiry", () => {
    const text = ExecCredential.render(issued(request, "abc", Date.UTC(2030, 0, 1, 12, 0, 0, 500)))
    assert.deepEqual(JSON.parse(text), {
      apiVersion: "client.authentication.k8s.io/v1",
      kind: "ExecCredential",
      status: { token: "abc", expirationTimestamp: "2030-01-01T12:00:00Z" },
    })
  })

  it("finds the cache directory from XDG_CACHE_HOME, else HOME", () =>
    runTest(
      Effect.gen(function* () {
        const path = yield* Path.Path
        assert.equal(
          ExecCredential.defaultDirectory({ XDG_CACHE_HOME: "/x/cache", HOME: "/home/u" }, path),
          "/x/cache/sa-token",
        )
        assert.equal(
          ExecCredential.defaultDirectory({ XDG_CACHE_HOME: "rel", HOME: "/home/u" }, path),
          "/home/u/.cache/sa-token",
        )
        assert.equal(ExecCredential.defaultDirectory({ HOME: "/home/u" }, path), "/home/u/.cache/sa-token")
      }).pipe(Effect.provide(platform)),
    ))
})

describe("ExecCredential.get", () => {
  it("reuses the cached token until the refresh point, then fetches once", () => {
    const root = tempDir()
    const directory = nodePath.join(root, "cache", "sa-token")
    const options = { directory, cluster: "https://127.0.0.1:6443 context dev" }
    const fake = issuing()
    return runTest(
      Effect.gen(function* () {
        yield* TestClock.setTime(Date.UTC(2030, 0, 1))
        const first = yield* ExecCredential.get("default", "builder", request, options)
        assert.equal(fake.calls, 1)
        assert.equal(tokenOf(first), `${MARKER}-1`)

        const files = nodeFs.readdirSync(directory)
        assert.equal(files.length, 1, `no temporary file is left: ${files}`)
        assert.match(files[0]!, /^[0-9a-f]{64}\.json$/)
        assert.equal(nodeFs.statSync(nodePath.join(directory, files[0]!)).mode & 0o777, 0o600)
        assert.equal(nodeFs.statSync(directory).mode & 0o777, 0o700)

        // A second invocation before the refresh point (80 % of 1 h = 48 min) makes no TokenRequest.
        yield* TestClock.adjust(47 * minute)
        const second = yield* ExecCredential.get("default", "builder", request, options)
        assert.equal(fake.calls, 1)
        assert.equal(tokenOf(second), `${MARKER}-1`)

        // After the refresh point: exactly one TokenRequest, and the new token replaces the cached one.
        yield* TestClock.adjust(2 * minute)
        const third = yield* ExecCredential.get("default", "builder", request, options)
        assert.equal(fake.calls, 2)
        assert.equal(tokenOf(third), `${MARKER}-2`)
        const fourth = yield* ExecCredential.get("default", "builder", request, options)
        assert.equal(fake.calls, 2)
        assert.equal(tokenOf(fourth), `${MARKER}-2`)
        assert.equal(nodeFs.readdirSync(directory).length, 1)
      }).pipe(Effect.provide(fake.layer), Effect.provide(platform)),
    )
      .finally(() => nodeFs.rmSync(root, { recursive: true, force: true }))
  })

  it("serves the cached token past its refresh point while the refresh fails, as the core manager does", () => {
    const root = tempDir()
    const options = { directory: root, cluster: "c" }
    const fake = issuing()
    return runTest(
      Effect.gen(function* () {
        yield* TestClock.setTime(Date.UTC(2030, 0, 1))
        yield* ExecCredential.get("default", "builder", request, options)
        const [name] = nodeFs.readdirSync(root)
        const before = nodeFs.readFileSync(nodePath.join(root, name!), "utf8")
        yield* TestClock.adjust(50 * minute)
        fake.respond = () => Effect.fail(fetchError("apiserver down", "ServerError"))
        const stale = yield* ExecCredential.get("default", "builder", request, options)
        assert.equal(tokenOf(stale), `${MARKER}-1`)
        assert.equal(fake.calls, 2, "one refresh was tried")
        assert.equal(nodeFs.readFileSync(nodePath.join(root, name!), "utf8"), before, "the entry is kept")
        // Once the token has expired there is nothing left to serve.
        yield* TestClock.adjust(11 * minute)
        const failed = yield* Effect.flip(ExecCredential.get("default", "builder", request, options))
        assert.equal(failed._tag, "TokenFetchError")
        assert.equal(failed.message, "apiserver down")
      }).pipe(Effect.provide(fake.layer), Effect.provide(platform)),
    )
      .finally(() => nodeFs.rmSync(root, { recursive: true, force: true }))
  })

  it("keys entries by request and cluster", () => {
    const root = tempDir()
    const fake = issuing()
    const dev = { directory: root, cluster: "https://dev" }
    const prod = { directory: root, cluster: "https://prod" }
    return runTest(
      Effect.gen(function* () {
        yield* TestClock.setTime(Date.UTC(2030, 0, 1))
        yield* ExecCredential.get("default", "builder", request, dev)
        yield* ExecCredential.get("default", "builder", request, prod)
        yield* ExecCredential.get("default", "builder", { spec: { ...request.spec, audiences: ["vault"] } }, dev)
        yield* ExecCredential.get("other", "builder", request, dev)
        assert.equal(fake.calls, 4)
        yield* ExecCredential.get("default", "builder", request, prod)
        assert.equal(fake.calls, 4)
        assert.equal(nodeFs.readdirSync(root).length, 4)
      }).pipe(Effect.provide(fake.layer), Effect.provide(platform)),
    )
      .finally(() => nodeFs.rmSync(root, { recursive: true, force: true }))
  })

  it("ignores a corrupt, foreign or future entry and overwrites it", () => {
    const root = tempDir()
    const fake = issuing()
    const options = { directory: root, cluster: "c" }
    return runTest(
      Effect.gen(function* () {
        yield* TestClock.setTime(Date.UTC(2030, 0, 1))
        yield* ExecCredential.get("default", "builder", request, options)
        const [name] = nodeFs.readdirSync(root)
        const target = nodePath.join(root, name!)
        nodeFs.writeFileSync(target, "{not json")
        yield* ExecCredential.get("default", "builder", request, options)
        assert.equal(fake.calls, 2)
        const entry = JSON.parse(nodeFs.readFileSync(target, "utf8"))
        nodeFs.writeFileSync(target, JSON.stringify({ ...entry, cluster: "other" }))
        yield* ExecCredential.get("default", "builder", request, options)
        assert.equal(fake.calls, 3, "an entry for another cluster is not used")
        // An entry others could read, or in a directory others can write, is not trusted.
        nodeFs.chmodSync(target, 0o644)
        yield* ExecCredential.get("default", "builder", request, options)
        assert.equal(fake.calls, 4, "a group- or world-readable entry is not used")
        assert.equal(nodeFs.statSync(target).mode & 0o777, 0o600, "and it is replaced by a private one")
        nodeFs.chmodSync(root, 0o777)
        yield* ExecCredential.get("default", "builder", request, options)
        assert.equal(fake.calls, 5, "an entry in a world-writable directory is not used")
        assert.equal(nodeFs.statSync(root).mode & 0o777, 0o700, "and the directory is tightened to 0700")
        yield* ExecCredential.get("default", "builder", request, options)
        assert.equal(fake.calls, 5)
        // The clock leapt backwards past the fetch time: refetch.
        yield* TestClock.setTime(Date.UTC(2029, 11, 31))
        yield* ExecCredential.get("default", "builder", request, options)
        assert.equal(fake.calls, 6)
      }).pipe(Effect.provide(fake.layer), Effect.provide(platform)),
    )
      .finally(() => nodeFs.rmSync(root, { recursive: true, force: true }))
  })

  it("refuses invalid requests before any fetch and caches nothing when the fetch fails", () => {
    const root = tempDir()
    const fake = issuing()
    const options = { directory: root, cluster: "c" }
    return runTest(
      Effect.gen(function* () {
        const invalid = yield* Effect.flip(ExecCredential.get("default", "../admin", request, options))
        assert.equal(invalid._tag, "InvalidTokenRequest")
        assert.equal(fake.calls, 0)
        fake.respond = () => Effect.fail(fetchError("boom", "ServerError"))
        const failed = yield* Effect.flip(ExecCredential.get("default", "builder", request, options))
        assert.equal(failed._tag, "TokenFetchError")
        assert.deepEqual(nodeFs.readdirSync(root), [])
        fake.respond = (_ns, _name, req) => Effect.succeed(issued(req, `${MARKER}-expired`, 0))
        yield* TestClock.setTime(hour)
        const expired = yield* Effect.flip(ExecCredential.get("default", "builder", request, options))
        assert.equal(expired._tag, "TokenFetchError")
        assert.ok(!String(expired.message).includes(MARKER))
        assert.deepEqual(nodeFs.readdirSync(root), [])
      }).pipe(Effect.provide(fake.layer), Effect.provide(platform)),
    )
      .finally(() => nodeFs.rmSync(root, { recursive: true, force: true }))
  })

  it("keeps the token redacted in what it returns", () => {
    const root = tempDir()
    const fake = issuing()
    return runTest(
      Effect.gen(function* () {
        const response = yield* ExecCredential.get("default", "builder", request, { directory: root, cluster: "c" })
        assert.ok(Redacted.isRedacted(response.status!.token))
        assert.ok(!JSON.stringify(response).includes(MARKER))
      }).pipe(Effect.provide(fake.layer), Effect.provide(platform)),
    )
      .finally(() => nodeFs.rmSync(root, { recursive: true, force: true }))
  })
})
