/**
 * The feature folders (`core/`, `adapters/kube`, `adapters/agent`, `adapters/cli`) use no runtime API: no `node:`
 * module (nor a bare Node built-in), no `Deno.`, `Bun.` or `process`, and no import of a runtime folder
 * (`adapters/deno|node|bun`). They reach the machine through the ports of `adapters/platform/`. The bin entry
 * `adapters/cli/main.ts`, which picks the runtime layer, is the one exception. The runtime folders load nothing of
 * ours but `core/` and `adapters/platform/`, and no import cycle runs through the sources. Each source file is compiled with esbuild
 * first, so that comments and type-only imports (which never load) are not counted.
 */
import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import { describe, it } from "node:test"
import { fileURLToPath } from "node:url"
import * as esbuild from "esbuild"

const root = nodePath.resolve(nodePath.dirname(fileURLToPath(import.meta.url)), "..", "..")

const featureFolders = ["core", "adapters/kube", "adapters/agent", "adapters/cli"]

const exceptions = new Set(["adapters/cli/main.ts"])

const builtins = [
  "assert",
  "buffer",
  "child_process",
  "cluster",
  "crypto",
  "dgram",
  "dns",
  "events",
  "fs",
  "fs/promises",
  "http",
  "http2",
  "https",
  "net",
  "os",
  "path",
  "process",
  "readline",
  "stream",
  "tls",
  "tty",
  "url",
  "util",
  "v8",
  "vm",
  "worker_threads",
  "zlib",
]

/** What is forbidden, each with the pattern that finds it in compiled JavaScript. */
const rules: ReadonlyArray<{ readonly what: string; readonly pattern: RegExp }> = [
  { what: "a node: module", pattern: /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)["']node:/ },
  {
    what: "a Node built-in module",
    pattern: new RegExp(`(?:\\bfrom\\s*|\\bimport\\s*\\(\\s*|\\brequire\\s*\\(\\s*)["'](?:${builtins.join("|")})["']`),
  },
  { what: "the Deno global", pattern: /(?<![\w$.])Deno\s*\.|["']Deno["']\s+in\s+globalThis|globalThis\s*\.\s*Deno\b/ },
  { what: "the Bun global", pattern: /(?<![\w$.])Bun\s*\.|["']Bun["']\s+in\s+globalThis|globalThis\s*\.\s*Bun\b/ },
  { what: "the process global", pattern: /(?<![\w$.])process\s*(?:\.|\[)|globalThis\s*\.\s*process\b/ },
  { what: "a runtime folder", pattern: /["'](?:\.\.\/)+(?:adapters\/)?(?:deno|node|bun)\/[\w./-]*["']/ },
]

/** A TypeScript source as the JavaScript that runs: no comments, no type-only imports. */
const compile = (source: string): string =>
  esbuild.transformSync(source, {
    loader: "ts",
    format: "esm",
    target: "esnext",
    legalComments: "none",
    // every import but `import type` is kept, as Deno runs it: an unused import still loads its module
    tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
  }).code

/** The forbidden uses in one TypeScript source, as `what: line`. */
const violations = (source: string): ReadonlyArray<string> => {
  const code = compile(source)
  return code.split("\n").flatMap((line) =>
    rules.filter((rule) => rule.pattern.test(line)).map((rule) => `${rule.what}: ${line.trim()}`)
  )
}

const allSources = (folder: string): ReadonlyArray<string> =>
  fs.readdirSync(nodePath.join(root, folder), { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts"))
    .map((name) => nodePath.posix.join(folder, name.split(nodePath.sep).join("/")))
    .sort()

const sources = (folder: string): ReadonlyArray<string> => allSources(folder).filter((file) => !exceptions.has(file))

/** The files of this repository that `file` loads (relative imports that run, static or dynamic). */
const imports = (file: string): ReadonlyArray<string> =>
  Array.from(
    compile(fs.readFileSync(nodePath.join(root, file), "utf8")).matchAll(
      /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s*)["'](\.{1,2}\/[^"']+)["']/gm,
    ),
    (match) => nodePath.posix.normalize(nodePath.posix.join(nodePath.posix.dirname(file), match[1]!)),
  )

/** The import cycles among `files`, each as the files around it. */
const cycles = (files: ReadonlyArray<string>): ReadonlyArray<ReadonlyArray<string>> => {
  const graph = new Map(files.map((file) => [file, imports(file)]))
  const state = new Map<string, "open" | "done">()
  const found: Array<ReadonlyArray<string>> = []
  const visit = (file: string, path: Array<string>): void => {
    state.set(file, "open")
    path.push(file)
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === "open") found.push([...path.slice(path.indexOf(next)), next])
      else if (state.get(next) === undefined && graph.has(next)) visit(next, path)
    }
    path.pop()
    state.set(file, "done")
  }
  for (const file of graph.keys()) if (state.get(file) === undefined) visit(file, [])
  return found
}

describe("the boundaries of the source tree", () => {
  it("finds each kind of forbidden use, and nothing in comments, strings or type-only imports", () => {
    const bad = [
      `import * as fs from "node:fs"`,
      `const os = await import("node:os")`,
      `import { join } from "path"`,
      `export const home = Deno.env.get("HOME")`,
      `export const deno = "Deno" in globalThis`,
      `export const file = Bun.file("x")`,
      `export const argv = process.argv`,
      `export const env = globalThis.process`,
      `import * as Runtime from "../node/mod.ts"`,
      `import * as Runtime from "../../adapters/bun/mod.ts"`,
    ]
    for (const source of bad) assert.equal(violations(source).length, 1, source)
    const fine = [
      `// process.exit(1) and Deno.exit() in a comment\nexport const a = 1`,
      `/** import fs from "node:fs" */\nexport const b = 2`,
      `import type * as http from "node:http"\nexport type S = http.Server`,
      `export const child = { process: 1 }.process`,
      `import * as Node from "../platform/NodeLocalHttp.ts"\nexport const n = Node`,
    ]
    for (const source of fine) assert.deepEqual(violations(source), [], source)
  })

  it("the runtime folders load nothing of ours but core/ and adapters/platform/", () => {
    for (const runtime of ["adapters/deno", "adapters/node", "adapters/bun"]) {
      for (const file of allSources(runtime)) {
        const foreign = imports(file).filter((target) =>
          !target.startsWith("core/") && !target.startsWith("adapters/platform/") && !target.startsWith(`${runtime}/`)
        )
        assert.deepEqual(foreign, [], file)
      }
    }
  })

  it("no module loads itself through a cycle of imports", () => {
    const files = ["mod.ts", ...allSources("core"), ...allSources("adapters")]
    assert.ok(files.length > 50)
    assert.ok(imports("adapters/agent/Endpoint.ts").includes("adapters/platform/LocalHttp.ts"), "imports are found")
    assert.deepEqual(cycles(files), [])
  })

  for (const folder of featureFolders) {
    it(`${folder} reaches the machine only through the platform ports`, () => {
      const files = sources(folder)
      assert.ok(files.length > 0, `no sources under ${folder}`)
      const found = files.flatMap((file) =>
        violations(fs.readFileSync(nodePath.join(root, file), "utf8")).map((v) => `${file}: ${v}`)
      )
      assert.deepEqual(found, [])
    })
  }
})
