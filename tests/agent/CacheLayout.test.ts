import assert from "node:assert/strict"
import { posix } from "node:path"
import { describe, it } from "node:test"
import * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import * as CacheLayout from "../../adapters/agent/CacheLayout.ts"
import * as ExecCredential from "../../adapters/agent/ExecCredential.ts"
import * as PosixPath from "../../adapters/platform/PosixPath.ts"

describe("CacheLayout.directory", () => {
  it("resolves --cache-dir, else XDG_CACHE_HOME when absolute, else HOME", () => {
    const path = PosixPath.rules("/work/dir")
    assert.equal(CacheLayout.directory("../c/", { HOME: "/home/u" }, path), "/work/c")
    assert.equal(CacheLayout.directory("/abs//c", {}, path), "/abs/c")
    assert.equal(CacheLayout.directory(undefined, { XDG_CACHE_HOME: "/x//", HOME: "/home/u" }, path), "/x/sa-token")
    assert.equal(
      CacheLayout.directory(undefined, { XDG_CACHE_HOME: "x", HOME: "/home/u" }, path),
      "/home/u/.cache/sa-token",
    )
    assert.equal(
      CacheLayout.directory(undefined, { XDG_CACHE_HOME: "", HOME: "/home/u/" }, path),
      "/home/u/.cache/sa-token",
    )
    assert.equal(CacheLayout.directory(undefined, {}, path), ".cache/sa-token")
    // The same as with node's path rules.
    assert.equal(
      CacheLayout.defaultDirectory({ HOME: "/h/../u" }, path),
      CacheLayout.defaultDirectory({ HOME: "/h/../u" }, posix),
    )
  })
})

describe("CacheLayout file names", () => {
  it("names entries and remembered namespaces by a SHA-256 of their key, as the full command's store does", async () => {
    const path = PosixPath.rules("/")
    const entry = await CacheLayout.entryFile("/c", "k", "kubeconfig 00", path)
    assert.match(entry, /^\/c\/[0-9a-f]{64}\.json$/)
    // sha256('["k","kubeconfig 00"]')
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(["k", "kubeconfig 00"]))),
    )
    assert.equal(entry, `/c/${Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("")}.json`)
    const full = await Effect.runPromise(
      ExecCredential.file({ directory: "/c", cluster: "kubeconfig 00" }, "k").pipe(Effect.provide(Path.layer)),
    )
    assert.equal(entry, full)
    const remembered = await CacheLayout.namespaceFile("/c", "kubeconfig 00", path)
    assert.match(remembered, /^\/c\/[0-9a-f]{64}\.ns\.json$/)
    assert.notEqual(remembered.replace(".ns", ""), entry)
    assert.notEqual(await CacheLayout.entryFile("/c", "k", "kubeconfig 01", path), entry)
  })
})

describe("CacheLayout.distrust", () => {
  const me = 1000
  const directory = (uid: number, mode: number) => ({ path: "/c", info: { uid, mode } })
  const file = (uid: number, mode: number) => ({ path: "/c/e.json", info: { uid, mode } })

  it("trusts a private file of this user in a directory of this user that nobody else can write", () => {
    assert.equal(CacheLayout.distrust(me, directory(me, 0o700)), undefined)
    assert.equal(CacheLayout.distrust(me, directory(me, 0o755)), undefined)
    assert.equal(CacheLayout.distrust(me, directory(me, 0o700), file(me, 0o600)), undefined)
    assert.equal(CacheLayout.distrust(me, directory(me, 0o1755), file(me, 0o400)), undefined)
  })

  it("says why it distrusts anything else", () => {
    assert.match(CacheLayout.distrust(me, directory(0, 0o700))!, /belongs to uid 0, not to this user \(uid 1000\)/)
    assert.match(CacheLayout.distrust(me, directory(me, 0o720))!, /writable by other users \(mode 0720\)/)
    assert.match(CacheLayout.distrust(me, directory(me, 0o702))!, /writable by other users/)
    assert.match(CacheLayout.distrust(me, directory(me, 0o777), file(me, 0o600))!, /directory/)
    assert.match(CacheLayout.distrust(me, directory(me, 0o700), file(0, 0o600))!, /e\.json belongs to uid 0/)
    for (const mode of [0o640, 0o604, 0o610, 0o601, 0o660]) {
      assert.match(CacheLayout.distrust(me, directory(me, 0o700), file(me, mode))!, /open to other users/)
    }
  })
})
