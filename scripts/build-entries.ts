/**
 * Puts a dependency check in front of each npm subpath that needs optional peer dependencies, in the build given
 * (default dist): `node --import tsx scripts/build-entries.ts dist`.
 *
 * Only `effect` and `@effect/platform` are required peers; the packages the adapters use (client-node, the Effect
 * runtimes, undici, jose, ...) are optional peers, so a core-only install stays the size of Effect. A subpath needs
 * every optional peer its modules import, statically or lazily (`import("@kubernetes/client-node")`); modules it loads
 * only on demand (the CLI's main) do not count. The list comes from the build's own import graph, read by esbuild.
 *
 * A missing package cannot be reported by a module imported first: an ES module graph is resolved whole before any of
 * it runs, so a missing package fails with the runtime's stack trace before the check runs. So `mod.js` becomes
 * `mod.impl.js`, and a new `mod.js` checks the packages, then loads `mod.impl.js` with a dynamic import (a top-level
 * await) and exports its names. A package is present when `import.meta.resolve` finds it, or else when importing it
 * succeeds (in a bundle the packages are inlined and nothing resolves). When one is missing, the entry writes one line
 * to stderr, naming the packages and the command that installs them, and exits with status 1. It does not throw: Node
 * prints an uncaught error with its internal frame and Bun with a source excerpt, many lines around the one that
 * matters, and no caller can repair a missing package at run time.
 */
import * as esbuild from "esbuild"
import * as fs from "node:fs"
import * as path from "node:path"

interface Manifest {
  readonly name: string
  readonly exports: Record<string, string | { readonly import: string }>
  readonly peerDependencies: Record<string, string>
  readonly peerDependenciesMeta: Record<string, { readonly optional?: boolean }>
}

/** The package a bare specifier names: `@scope/name` or `name`. */
const packageOf = (specifier: string): string => /^(@[^/]+\/[^/]+|[^/]+)/.exec(specifier)![1]!

/**
 * The optional peers the entry's modules import (each with the first specifier that imports it, which is what the
 * check resolves), following static imports and lazy imports of packages.
 */
const needs = async (entry: string, optional: ReadonlySet<string>) => {
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    splitting: true,
    format: "esm",
    platform: "node",
    packages: "external",
    outdir: "/entries",
    logLevel: "silent",
  })
  const { inputs, outputs } = result.metafile
  const found = new Map<string, string>()
  const seen = new Set<string>()
  const walk = (file: string): void => {
    if (seen.has(file)) return
    seen.add(file)
    for (const imported of inputs[file]!.imports) {
      if (imported.external) {
        const name = packageOf(imported.path)
        if (optional.has(name) && !found.has(name)) found.set(name, imported.path)
      } else if (imported.kind !== "dynamic-import") walk(imported.path)
    }
  }
  const input = path.relative(process.cwd(), entry)
  walk(input)
  // The entry's own output: with splitting, every module it imports dynamically is an entry point of its own too.
  const output = Object.values(outputs).find((o) => o.entryPoint === input)!
  return { packages: [...found].sort(([a], [b]) => a.localeCompare(b)), exports: output.exports }
}

/** The new entry: checks the packages, then loads the module and re-exports its names. */
const render = (
  subpath: string,
  packages: ReadonlyArray<readonly [name: string, specifier: string, range: string]>,
  exports: ReadonlyArray<string>,
) =>
  `// The dependency check of ${subpath} (scripts/build-entries.ts): it needs ${packages.map(([n]) => n).join(", ")}.
const present = async (specifier, load) => {
  try {
    import.meta.resolve(specifier)
    return true
  } catch {
    return load().then(() => true, () => false)
  }
}
const packages = [
${
    packages.map(([name, specifier, range]) =>
      `  [${JSON.stringify(name)}, ${JSON.stringify(specifier)}, ${JSON.stringify(range)}, () => import(${
        JSON.stringify(specifier)
      })],`
    ).join("\n")
  }
]
const missing = []
for (const [name, specifier, range, load] of packages) if (!(await present(specifier, load))) missing.push([name, range])
if (missing.length > 0) {
  const message = ${JSON.stringify(subpath)} + " needs " + missing.map(([name]) => name).join(", ") +
    ", not installed: npm install " + missing.map(([name, range]) => name + "@" + range).join(" ")
  if (typeof globalThis.process?.exit !== "function") throw new Error(message)
  globalThis.console.error(message)
  globalThis.process.exit(1)
}
export const { ${exports.join(", ")} } = await import("./mod.impl.js")
`

const dist = path.resolve(process.argv[2] ?? "dist")
const manifest = JSON.parse(fs.readFileSync("package.json", "utf8")) as Manifest
const optional = new Set(
  Object.keys(manifest.peerDependenciesMeta).filter((n) => manifest.peerDependenciesMeta[n]!.optional),
)
for (const [subpath, target] of Object.entries(manifest.exports)) {
  if (typeof target === "string" || !target.import.endsWith("/mod.js")) continue
  const entry = path.join(dist, path.relative("dist", target.import))
  const { packages, exports } = await needs(entry, optional)
  if (packages.length === 0) continue
  const name = path.posix.join(manifest.name, subpath)
  fs.renameSync(entry, entry.replace(/mod\.js$/, "mod.impl.js"))
  const rows = packages.map(([p, specifier]) => [p, specifier, manifest.peerDependencies[p]!] as const)
  fs.writeFileSync(entry, render(name, rows, exports))
  console.log(`${name}: ${packages.map(([p]) => p).join(" ")}`)
}
