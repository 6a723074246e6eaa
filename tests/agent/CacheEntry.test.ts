import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import * as TestContext from "effect/TestContext"
import * as CacheEntry from "../../adapters/agent/CacheEntry.ts"
import * as ExecCredential from "../../adapters/agent/ExecCredential.ts"
import * as TokenFetcher from "../../core/TokenFetcher.ts"
import { type TokenRequest, TokenRequestJson } from "../../core/TokenRequest.ts"
import { platform } from "../_support/platform.ts"
import { withTempDir } from "../_support/scratch.ts"

const MARKER = "MARKER-cacheentry-9c2d"
const T0 = Date.UTC(2030, 0, 1)

/** A value with its tokens shown, so that two reads can be compared (a Redacted hides its value from deepEqual). */
const shown = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value, (_, x) => Redacted.isRedacted(x) ? `Redacted(${Redacted.value(x)})` : x))

/** The files the real store writes for `request`, with what the full command returned. */
const written = (dir: string, request: TokenRequest) =>
  Effect.gen(function* () {
    yield* TestClock.setTime(T0)
    const options = { directory: dir, cluster: "kubeconfig 00" }
    const response = yield* ExecCredential.get("apps", "builder", request, options)
    yield* ExecCredential.rememberNamespace(options, "apps")
    const names = fs.readdirSync(dir)
    const text = (pattern: RegExp) => fs.readFileSync(path.join(dir, names.find((n) => pattern.test(n))!), "utf8")
    return { response, entry: text(/^[0-9a-f]{64}\.json$/), remembered: text(/\.ns\.json$/) }
  }).pipe(
    Effect.provideService(
      TokenFetcher.TokenFetcher,
      TokenFetcher.make((_namespace, _name, req) =>
        Effect.succeed({
          ...req,
          metadata: { name: "builder", namespace: "apps" },
          status: { token: Redacted.make(MARKER), expirationTimestamp: new Date(T0 + 3600_000) },
        })
      ),
    ),
    Effect.provide(platform),
    Effect.provide(TestContext.TestContext),
    Effect.runPromise,
  )

describe("CacheEntry.decodeEntry", () => {
  it("reads the entries the real store writes, to the response the full command returned", async () => {
    for (
      const request of [
        { spec: { expirationSeconds: 3600 } },
        { spec: { audiences: [], expirationSeconds: 600 } },
        {
          metadata: { uid: "u-1" },
          spec: { audiences: ["vault", 'a"b'], boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "p", uid: "x" } },
        },
      ] satisfies ReadonlyArray<TokenRequest>
    ) {
      await withTempDir("sa-cacheentry", async (dir) => {
        const { response, entry, remembered } = await written(dir, request)
        const read = CacheEntry.decodeEntry(entry)
        assert.ok(read !== undefined, entry)
        assert.equal(read.version, 1)
        assert.equal(read.cluster, "kubeconfig 00")
        assert.match(read.key, /^"builder"\/"apps"\//)
        assert.equal(read.fetchedAt.getTime(), T0)
        assert.deepEqual(shown(read.response), shown(response))
        assert.equal(Redacted.value(read.response.status!.token), MARKER)
        assert.deepEqual(read.response.spec.audiences, request.spec.audiences)
        assert.deepEqual(CacheEntry.decodeRemembered(remembered), {
          version: 1,
          cluster: "kubeconfig 00",
          namespace: "apps",
        })
      })
    }
  })

  it("reads nothing from a text with a field missing, mistyped or corrupt", () =>
    withTempDir("sa-cacheentry", async (dir) => {
      const { entry, remembered } = await written(dir, { spec: { expirationSeconds: 3600 } })
      const value = JSON.parse(entry)
      const variants: Array<unknown> = [
        null,
        [],
        "text",
        { ...value, version: 2 },
        { ...value, version: "1" },
        { ...value, key: 1 },
        { ...value, cluster: null },
        { ...value, fetchedAt: "yesterday" },
        { ...value, fetchedAt: "2030-01-01" },
        { ...value, response: null },
        { ...value, response: { ...value.response, spec: "x" } },
        { ...value, response: { ...value.response, status: { ...value.response.status, token: 1 } } },
        { ...value, response: { ...value.response, status: { ...value.response.status, expirationTimestamp: 0 } } },
        { ...value, response: { ...value.response, spec: { audiences: [1] } } },
      ]
      for (const field of ["version", "key", "cluster", "fetchedAt", "response"]) {
        const { [field]: _, ...rest } = value
        variants.push(rest)
      }
      for (const variant of variants) {
        assert.equal(CacheEntry.decodeEntry(JSON.stringify(variant)), undefined, JSON.stringify(variant))
      }
      for (const text of ["", "{", entry.slice(0, -2), `${entry}x`]) {
        assert.equal(CacheEntry.decodeEntry(text), undefined)
      }
      const ns = JSON.parse(remembered)
      for (
        const variant of [{ ...ns, version: 0 }, { ...ns, cluster: 1 }, { ...ns, namespace: null }, { cluster: "c" }]
      ) assert.equal(CacheEntry.decodeRemembered(JSON.stringify(variant)), undefined)
      assert.equal(CacheEntry.decodeRemembered("]"), undefined)
    }))
})

describe("CacheEntry.readTokenRequest", () => {
  it("reads a TokenRequest's JSON to what TokenRequestJson decodes, and refuses what it refuses", () => {
    const status = { token: "t", expirationTimestamp: "2030-01-01T00:00:00+01:00" }
    const values: ReadonlyArray<unknown> = [
      { spec: {} },
      { spec: [] },
      { spec: null },
      {},
      [],
      null,
      1,
      { spec: {}, status },
      { spec: {}, status: null },
      { spec: {}, status: [] },
      { spec: {}, status: { ...status, token: "" } },
      { spec: {}, status: { ...status, token: 1 } },
      { spec: {}, status: { ...status, expirationTimestamp: "2030" } },
      { spec: {}, status: { ...status, extra: 1 } },
      { spec: {}, status: { token: "t" } },
      { spec: { audiences: [] } },
      { spec: { audiences: null } },
      { spec: { audiences: ["a", 1] } },
      { spec: { audiences: "a" } },
      { spec: { expirationSeconds: "1" } },
      { spec: { expirationSeconds: -1.5 } },
      { spec: { expirationSeconds: null, boundObjectRef: null } },
      { spec: { boundObjectRef: [] } },
      { spec: { boundObjectRef: { kind: null, name: "p", extra: 1 } } },
      { spec: { boundObjectRef: { uid: 7 } } },
      { metadata: [], spec: {} },
      { metadata: null, spec: {} },
      { metadata: { uid: "u", name: null, creationTimestamp: null }, spec: {} },
      { metadata: { uid: 1 }, spec: {} },
      { apiVersion: 1, spec: {} },
      { apiVersion: null, spec: {} },
      { kind: "TokenRequest", apiVersion: "authentication.k8s.io/v1", spec: {}, extra: 1 },
    ]
    for (const value of values) {
      const schema = Schema.decodeUnknownEither(TokenRequestJson)(value)
      const read = CacheEntry.readTokenRequest(value)
      assert.deepEqual(
        read === undefined ? "refused" : shown(read),
        Either.isLeft(schema) ? "refused" : shown(schema.right),
        JSON.stringify(value),
      )
      // Absent stays absent, not undefined: the two compare alike however they are inspected.
      if (read !== undefined && Either.isRight(schema)) {
        assert.deepEqual(Object.keys(read.spec), Object.keys(schema.right.spec))
      }
    }
  })
})

describe("CacheEntry.responseFor and namespaceFor", () => {
  it("give the content only for the key and cluster it was written for", () => {
    const response = { spec: {}, status: { token: MARKER, expirationTimestamp: "2030-01-01T01:00:00Z" } }
    const entry = JSON.stringify({ version: 1, key: "k", cluster: "c", fetchedAt: "2030-01-01T00:00:00Z", response })
    assert.equal(Redacted.value(CacheEntry.responseFor(entry, "k", "c")!.status!.token), MARKER)
    assert.equal(CacheEntry.responseFor(entry, "other", "c"), undefined)
    assert.equal(CacheEntry.responseFor(entry, "k", "other"), undefined)
    assert.equal(CacheEntry.responseFor("{", "k", "c"), undefined)
    const remembered = JSON.stringify({ version: 1, cluster: "c", namespace: "apps" })
    assert.equal(CacheEntry.namespaceFor(remembered, "c"), "apps")
    assert.equal(CacheEntry.namespaceFor(remembered, "other"), undefined)
    assert.equal(CacheEntry.namespaceFor(entry, "c"), undefined)
  })
})
