import assert from "node:assert/strict"
import * as nodePath from "node:path"
import { describe, it } from "node:test"
import * as Path from "@effect/platform/Path"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as KubeconfigFiles from "../../adapters/kube/KubeconfigFiles.ts"
import * as KubeconfigSources from "../../adapters/kube/KubeconfigSources.ts"
import * as PosixPath from "../../adapters/platform/PosixPath.ts"

const cwd = process.cwd()

/** The full command's locate, with this environment. */
const fullLocate = (options: KubeconfigSources.Sources, env: Record<string, string>) =>
  KubeconfigFiles.locate(options).pipe(
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
    Effect.provide(Path.layer),
    Effect.runPromise,
  )

describe("KubeconfigSources.locate", () => {
  it("finds kubectl's files: --kubeconfig, else each KUBECONFIG entry, else ~/.kube/config, as the full command does", async () => {
    const cases: ReadonlyArray<readonly [KubeconfigSources.Sources, Record<string, string>, unknown]> = [
      [{ kubeconfig: "k/../conf" }, { KUBECONFIG: "/a", HOME: "/h" }, [[nodePath.resolve("conf"), true]]],
      [{}, { KUBECONFIG: "/a::b//c/:", HOME: "/h" }, [["/a", false], [nodePath.resolve("b/c"), false]]],
      [{}, { KUBECONFIG: "", HOME: "/h/" }, [["/h/.kube/config", false]]],
      [{}, { KUBECONFIG: ":", HOME: "rel" }, [["rel/.kube/config", false]]],
      [{}, { HOME: "" }, []],
      [{}, {}, []],
    ]
    for (const [options, env, expected] of cases) {
      const lean = KubeconfigSources.locate(options, (name) => env[name], PosixPath.rules(cwd))
      assert.deepEqual(lean, expected, JSON.stringify([options, env]))
      assert.deepEqual(await fullLocate(options, env), lean, JSON.stringify([options, env]))
    }
  })
})

describe("KubeconfigSources.texts and identity", () => {
  it("reads the files in order, skips the absent and unreadable ones, and hashes paths, texts and the context", async () => {
    const files = [["/a", false], ["/b", false], ["/c", false], ["/d", false]] as const
    const contents: Record<string, Uint8Array> = { "/a": new TextEncoder().encode("a: ü"), "/d": new Uint8Array([100]) }
    const read = (path: string) => path === "/c" ? Promise.reject(new Error("EACCES")) : Promise.resolve(contents[path])
    const texts = await KubeconfigSources.texts(files, read)
    assert.deepEqual(texts, [["/a", "a: ü"], ["/d", "d"]])
    const identity = await KubeconfigSources.identity(texts, undefined)
    assert.match(identity, /^kubeconfig [0-9a-f]{64}$/)
    assert.notEqual(await KubeconfigSources.identity(texts, "dev"), identity)
    assert.notEqual(await KubeconfigSources.identity([["/a", "a: ü"], ["/e", "d"]], undefined), identity)
    assert.notEqual(await KubeconfigSources.identity([["/a", "a: u"], ["/d", "d"]], undefined), identity)
    // The full command's identity is the same function.
    assert.equal(await Effect.runPromise(KubeconfigFiles.identity(texts, undefined)), identity)
    const fullTexts = await KubeconfigFiles.texts(
      { kubeconfig: "/a" },
      (path) => Effect.succeed(Option.fromNullable(contents[path])),
    ).pipe(Effect.provide(Path.layer), Effect.runPromise)
    assert.deepEqual(fullTexts, [["/a", "a: ü"]])
  })
})
