import assert from "node:assert/strict"
import * as nodeFs from "node:fs"
import * as nodePath from "node:path"
import { describe, it } from "node:test"
import * as Path from "@effect/platform/Path"
import * as Clock from "effect/Clock"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import type { YieldWrap } from "effect/Utils"
import * as ExecCredential from "../../adapters/agent/ExecCredential.ts"
import type { TokenFetcher } from "../../core/TokenFetcher.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import { fakeFetcher, fetchError, hour, issued, minute, runTest, tokenOf } from "../_support/harness.ts"
import { type Platform, platform } from "../_support/platform.ts"
import { removeDir, tempDir } from "../_support/scratch.ts"

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

/** `ExecCredential.get` of the `builder` token of `default`, for {@link request}. */
const getBuilder = (options: ExecCredential.CacheOptions) => ExecCredential.get("default", "builder", request, options)

/** The path of the one entry in the cache directory `root`. */
const onlyEntry = (root: string): string => {
  const names = nodeFs.readdirSync(root)
  assert.equal(names.length, 1, `one entry: ${names}`)
  return nodePath.join(root, names[0]!)
}

/**
 * Runs the generator `body` (as in `Effect.gen`) at 2030-01-01 with a new cache root, the options of a cache there
 * for cluster `c`, and an {@link issuing} fetcher, on Node's platform; removes the root.
 */
const inCache = (
  body: (
    root: string,
    fake: ReturnType<typeof issuing>,
    options: ExecCredential.CacheOptions,
  ) => Generator<YieldWrap<Effect.Effect<unknown, unknown, TokenFetcher | Platform>>, void, never>,
): Promise<void> => {
  const root = tempDir("sa-exec")
  const fake = issuing()
  const run: Effect.Effect<void, unknown, TokenFetcher | Platform> = Effect.gen(() =>
    body(root, fake, { directory: root, cluster: "c" })
  )
  const program = Effect.zipRight(TestClock.setTime(Date.UTC(2030, 0, 1)), run)
  return runTest(program.pipe(Effect.provide(fake.layer), Effect.provide(platform))).finally(() => removeDir(root))
}

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
        // --cache-dir wins, resolved; otherwise the environment's.
        assert.equal(yield* ExecCredential.directory("rel/cache"), path.resolve("rel/cache"))
        const fromEnv = (env: Record<string, string>) =>
          ExecCredential.directory(undefined).pipe(
            Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
          )
        assert.equal(yield* fromEnv({ XDG_CACHE_HOME: "/x/cache", HOME: "/home/u" }), "/x/cache/sa-token")
        assert.equal(yield* fromEnv({ HOME: "/home/u" }), "/home/u/.cache/sa-token")
      }).pipe(Effect.provide(platform)),
    ))
})

describe("ExecCredential.get", () => {
  it("reuses the cached token until the refresh point, then fetches once", () =>
    inCache(function* (root, fake) {
      const directory = nodePath.join(root, "cache", "sa-token")
      const options = { directory, cluster: "https://127.0.0.1:6443 context dev" }
      const first = yield* getBuilder(options)
      assert.equal(fake.calls, 1)
      assert.equal(tokenOf(first), `${MARKER}-1`)

      const files = nodeFs.readdirSync(directory)
      assert.equal(files.length, 1, `no temporary file is left: ${files}`)
      assert.match(files[0]!, /^[0-9a-f]{64}\.json$/)
      assert.equal(nodeFs.statSync(nodePath.join(directory, files[0]!)).mode & 0o777, 0o600)
      assert.equal(nodeFs.statSync(directory).mode & 0o777, 0o700)

      // A second invocation before the refresh point (80 % of 1 h = 48 min) makes no TokenRequest.
      yield* TestClock.adjust(47 * minute)
      const second = yield* getBuilder(options)
      assert.equal(fake.calls, 1)
      assert.equal(tokenOf(second), `${MARKER}-1`)

      // After the refresh point: exactly one TokenRequest, and the new token replaces the cached one.
      yield* TestClock.adjust(2 * minute)
      const third = yield* getBuilder(options)
      assert.equal(fake.calls, 2)
      assert.equal(tokenOf(third), `${MARKER}-2`)
      const fourth = yield* getBuilder(options)
      assert.equal(fake.calls, 2)
      assert.equal(tokenOf(fourth), `${MARKER}-2`)
      assert.equal(nodeFs.readdirSync(directory).length, 1)
    }))

  it("serves the cached token past its refresh point while the refresh fails, as the core manager does", () =>
    inCache(function* (root, fake, options) {
      yield* getBuilder(options)
      const target = onlyEntry(root)
      const before = nodeFs.readFileSync(target, "utf8")
      yield* TestClock.adjust(50 * minute)
      fake.respond = () => Effect.fail(fetchError("apiserver down", "ServerError"))
      const stale = yield* getBuilder(options)
      assert.equal(tokenOf(stale), `${MARKER}-1`)
      assert.equal(fake.calls, 2, "one refresh was tried")
      assert.equal(nodeFs.readFileSync(target, "utf8"), before, "the entry is kept")
      // Once the token has expired there is nothing left to serve.
      yield* TestClock.adjust(11 * minute)
      const failed = yield* Effect.flip(getBuilder(options))
      assert.equal(failed._tag, "TokenFetchError")
      assert.equal(failed.message, "apiserver down")
    }))

  it("keys entries by request and cluster", () =>
    inCache(function* (root, fake) {
      const dev = { directory: root, cluster: "https://dev" }
      const prod = { directory: root, cluster: "https://prod" }
      yield* getBuilder(dev)
      yield* getBuilder(prod)
      yield* ExecCredential.get("default", "builder", { spec: { ...request.spec, audiences: ["vault"] } }, dev)
      yield* ExecCredential.get("other", "builder", request, dev)
      assert.equal(fake.calls, 4)
      yield* getBuilder(prod)
      assert.equal(fake.calls, 4)
      assert.equal(nodeFs.readdirSync(root).length, 4)
    }))

  it("ignores a corrupt, foreign or future entry and overwrites it", () =>
    inCache(function* (root, fake, options) {
      yield* getBuilder(options)
      const target = onlyEntry(root)
      nodeFs.writeFileSync(target, "{not json")
      yield* getBuilder(options)
      assert.equal(fake.calls, 2)
      const entry = JSON.parse(nodeFs.readFileSync(target, "utf8"))
      nodeFs.writeFileSync(target, JSON.stringify({ ...entry, cluster: "other" }))
      yield* getBuilder(options)
      assert.equal(fake.calls, 3, "an entry for another cluster is not used")
      // An entry others could read, or in a directory others can write, is not trusted.
      nodeFs.chmodSync(target, 0o644)
      yield* getBuilder(options)
      assert.equal(fake.calls, 4, "a group- or world-readable entry is not used")
      assert.equal(nodeFs.statSync(target).mode & 0o777, 0o600, "and it is replaced by a private one")
      nodeFs.chmodSync(root, 0o777)
      yield* getBuilder(options)
      assert.equal(fake.calls, 5, "an entry in a world-writable directory is not used")
      assert.equal(nodeFs.statSync(root).mode & 0o777, 0o700, "and the directory is tightened to 0700")
      yield* getBuilder(options)
      assert.equal(fake.calls, 5)
      // The clock leapt backwards past the fetch time: refetch.
      yield* TestClock.setTime(Date.UTC(2029, 11, 31))
      yield* getBuilder(options)
      assert.equal(fake.calls, 6)
    }))

  it("refuses invalid requests before any fetch and caches nothing when the fetch fails", () =>
    inCache(function* (root, fake, options) {
      const invalid = yield* Effect.flip(ExecCredential.get("default", "../admin", request, options))
      assert.equal(invalid._tag, "InvalidTokenRequest")
      assert.equal(fake.calls, 0)
      fake.respond = () => Effect.fail(fetchError("boom", "ServerError"))
      const failed = yield* Effect.flip(getBuilder(options))
      assert.equal(failed._tag, "TokenFetchError")
      assert.deepEqual(nodeFs.readdirSync(root), [])
      fake.respond = (_ns, _name, req) => Effect.succeed(issued(req, `${MARKER}-expired`, 0))
      yield* TestClock.setTime(hour)
      const expired = yield* Effect.flip(getBuilder(options))
      assert.equal(expired._tag, "TokenFetchError")
      assert.ok(!String(expired.message).includes(MARKER))
      assert.deepEqual(nodeFs.readdirSync(root), [])
    }))

  it("keeps the token redacted in what it returns", () =>
    inCache(function* (root) {
      const response = yield* ExecCredential.get("default", "builder", request, { directory: root, cluster: "c" })
      assert.ok(Redacted.isRedacted(response.status!.token))
      assert.ok(!JSON.stringify(response).includes(MARKER))
    }))
})

describe("ExecCredential.rememberNamespace", () => {
  it("remembers a cluster's namespace privately, once, and only for that cluster", () =>
    inCache(function* (root, _fake, options) {
      assert.deepEqual(yield* ExecCredential.rememberedNamespace(options), Option.none())
      yield* ExecCredential.rememberNamespace(options, "apps")
      const target = onlyEntry(root)
      assert.match(nodePath.basename(target), /^[0-9a-f]{64}\.ns\.json$/)
      assert.equal(nodeFs.statSync(target).mode & 0o777, 0o600)
      assert.deepEqual(yield* ExecCredential.rememberedNamespace(options), Option.some("apps"))
      assert.deepEqual(yield* ExecCredential.rememberedNamespace({ ...options, cluster: "d" }), Option.none())
      // The same namespace again is not written again; another one replaces it.
      const inode = nodeFs.statSync(target).ino
      yield* ExecCredential.rememberNamespace(options, "apps")
      assert.equal(nodeFs.statSync(target).ino, inode)
      yield* ExecCredential.rememberNamespace(options, "web")
      assert.deepEqual(yield* ExecCredential.rememberedNamespace(options), Option.some("web"))
      // Copied under another cluster's name, it is not that cluster's.
      const other = { ...options, cluster: "d" }
      yield* ExecCredential.rememberNamespace(other, "db")
      const names = nodeFs.readdirSync(root).map((name) => nodePath.join(root, name))
      const [mine, theirs] = names[0] === target ? [names[0]!, names[1]!] : [names[1]!, names[0]!]
      nodeFs.copyFileSync(mine, theirs)
      assert.deepEqual(yield* ExecCredential.rememberedNamespace(other), Option.none())
      // Not trusted where others could have written it.
      nodeFs.chmodSync(root, 0o777)
      assert.deepEqual(yield* ExecCredential.rememberedNamespace(options), Option.none())
      nodeFs.chmodSync(root, 0o700)
      nodeFs.chmodSync(target, 0o644)
      assert.deepEqual(yield* ExecCredential.rememberedNamespace(options), Option.none())
      nodeFs.chmodSync(target, 0o600)
      nodeFs.writeFileSync(target, "{not json")
      assert.deepEqual(yield* ExecCredential.rememberedNamespace(options), Option.none())
    }))
})
