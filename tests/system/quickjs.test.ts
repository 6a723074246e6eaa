/**
 * The core runs inside a WebAssembly JavaScript engine: `mod.ts` bundled with esbuild into one IIFE and run in QuickJS
 * (quickjs-emscripten), where kubelet's upstream test tables are replayed under TestClock with a fetcher implemented
 * in the host (see tests/system/quickjs/). The shims QuickJS needs live in tests/system/quickjs/prelude.js, not in core/.
 */
import assert from "node:assert/strict"
import { test } from "node:test"
import { bundleCoreOnly, bundleLibrary, bundleScenario, runScenario } from "./quickjs/harness.ts"
import type { Outcome } from "./quickjs/harness.ts"
import { cachingCases } from "../_support/kubeletTables.ts"

let outcome: Promise<Outcome> | undefined
/** One VM run shared by the tests below. */
const scenario = (): Promise<Outcome> => (outcome ??= bundleScenario().then((bundle) => runScenario(bundle)))

const checksOf = async (table: string) => {
  const { checks, error } = await scenario()
  assert.equal(error, undefined, `the scenario failed inside QuickJS: ${error}`)
  const ofTable = checks.filter((c) => c.table === table)
  assert.ok(ofTable.length > 0, `no checks for ${table}`)
  for (const c of ofTable) assert.ok(c.ok, `${table}: ${c.name}: ${c.detail}`)
  return ofTable
}

test("mod.ts bundles into one IIFE for a bare JavaScript engine", { timeout: 120_000 }, async () => {
  const library = await bundleLibrary()
  const bundle = await bundleScenario()
  console.log(
    `QuickJS bundles (esbuild --minify, iife, es2020): mod.ts ${library.bytes} B, gzip ${library.gzipBytes} B; ` +
      `scenario ${bundle.bytes} B, gzip ${bundle.gzipBytes} B`,
  )
  assert.ok(library.bytes > 0 && library.gzipBytes < library.bytes)
  // The code of core/ itself uses no runtime API (Effect's own guarded probes are not counted).
  const core = (await bundleCoreOnly()).code
  for (
    const api of [
      /\bDeno\b/,
      /\bBun\b/,
      /\bprocess\b/,
      /\bDate\.now\b/,
      /\bMath\.random\b/,
      /\bset(Timeout|Interval)\b/,
    ]
  ) {
    assert.ok(!api.test(core), `core/ uses ${api.source}`)
  }
  assert.ok(!/(?<![.\w])fetch\(/.test(core), "core/ calls the global fetch")
  assert.ok(core.includes("Couldn't update token"), "the scan saw the code of core/")
})

test("QuickJS: caching and expiration (TestTokenCachingAndExpiration, service-account recreation)", {
  timeout: 120_000,
}, async () => {
  // Two checks for each case's first two gets, two for each step, and four for the recreation case.
  const expected = cachingCases.reduce((n, c) => n + 2 + 2 * c.steps.length, 0) + 4
  assert.equal((await checksOf("caching")).length, expected)
})

test(
  "QuickJS: requiresRefresh for every jitter and through the manager (TestRequiresRefresh)",
  { timeout: 120_000 },
  async () => {
    assert.equal((await checksOf("refresh")).length, 15)
  },
)

test("QuickJS: fallback to a valid token, kubelet's error texts, one fetch for concurrent callers", {
  timeout: 120_000,
}, async () => {
  assert.equal((await checksOf("fallback")).length, 3)
})

test("QuickJS: delete by pod (TestDeleteServiceAccountToken)", { timeout: 120_000 }, async () => {
  assert.equal((await checksOf("delete")).length, 10)
})

test("QuickJS: cleanup and the garbage-collection loop (TestCleanup)", { timeout: 120_000 }, async () => {
  assert.equal((await checksOf("cleanup")).length, 3)
})

test("QuickJS: cache key (TestKeyFunc)", { timeout: 120_000 }, async () => {
  assert.equal((await checksOf("key")).length, 7)
})

test("QuickJS: the host served the fetches and no token reached the VM's logs", { timeout: 120_000 }, async () => {
  const { checks, fetches, logs } = await scenario()
  assert.equal(checks.filter((c) => !c.ok).length, 0)
  assert.ok(fetches > 0)
  // "Couldn't update token" is logged for the failed refresh that fell back to the cached token.
  assert.ok(logs.some((line) => line.includes("Couldn't update token")), logs.join("\n"))
  for (const line of logs) assert.ok(!/token-\d|token-for-/.test(line), `a token was logged: ${line}`)
})
