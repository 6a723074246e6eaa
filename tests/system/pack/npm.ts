/**
 * The npm package for the pack test: build into a staging copy (the repo's dist/ is left alone), `npm pack`, install
 * into fresh projects, measure a node_modules, and read the README's install table.
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { binIn } from "../../_support/clis.ts"

interface Manifest {
  readonly exports: Record<string, unknown>
  readonly devDependencies: Record<string, string>
  readonly peerDependenciesMeta: Record<string, { readonly optional?: boolean }>
}

const run = promisify(execFile)

/** The repository's root. */
export const repo: string = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..")
/** A tool of the repository's node_modules/.bin. */
export const bin = (name: string): string => path.join(repo, "node_modules", ".bin", name)
const env = { ...process.env, NO_COLOR: "1", npm_config_update_notifier: "false", npm_config_fund: "false" }

/** Runs a command to its end: exit status and output, whatever the status. */
export const attempt = (file: string, args: ReadonlyArray<string>, cwd: string, timeout = 60_000) =>
  run(file, [...args], { cwd, env, timeout, maxBuffer: 16 * 1024 * 1024 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code?: number | string; stdout?: string; stderr?: string }) => ({
      code: e.code ?? -1,
      stdout: e.stdout ?? "",
      stderr: e.stderr ?? "",
    }),
  )

/** Runs a command, failing with its output when it exits non-zero. */
export const sh = async (file: string, args: ReadonlyArray<string>, cwd: string, timeout = 60_000): Promise<string> => {
  try {
    const { stdout } = await run(file, [...args], { cwd, env, timeout, maxBuffer: 16 * 1024 * 1024 })
    return stdout
  } catch (e) {
    const error = e as { message: string; stdout?: string; stderr?: string }
    throw new Error(`${file} ${args.join(" ")} failed: ${error.message}\n${error.stdout ?? ""}\n${error.stderr ?? ""}`)
  }
}

/** Bytes of the files under a directory (symbolic links not followed) and the packages in it (nested ones too). */
export const measure = (dir: string): { bytes: number; packages: number } => {
  let bytes = 0
  let packages = 0
  const walk = (at: string, inNodeModules: boolean): void => {
    for (const entry of fs.readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name)
      if (entry.isFile()) bytes += fs.statSync(full).size
      if (!entry.isDirectory()) continue
      if (inNodeModules && entry.name.startsWith("@")) {
        walk(full, true)
        continue
      }
      if (inNodeModules && fs.existsSync(path.join(full, "package.json"))) packages++
      walk(full, entry.name === "node_modules")
    }
  }
  walk(dir, true)
  return { bytes, packages }
}

/** The README's install table: subpath to the command that installs what it needs. */
export const installTable = (): ReadonlyMap<string, string> =>
  new Map(
    [
      ...fs.readFileSync(path.join(repo, "README.md"), "utf8").matchAll(
        /^\| `(sa-token-manager\/\w+)` +\| `(npm install [^`]+)` +\|$/gm,
      ),
    ]
      .map((m) => [m[1]!, m[2]!]),
  )

export const manifest: Manifest = JSON.parse(fs.readFileSync(path.join(repo, "package.json"), "utf8"))
/** `name@version` as this repository pins it. */
const pinned = (name: string): string => `${name}@${manifest.devDependencies[name]}`
/** `effect` and `@effect/platform`, the required peers. */
export const effects: ReadonlyArray<string> = [pinned("effect"), pinned("@effect/platform")]
/** Every optional peer. */
export const optionalPeers: ReadonlyArray<string> = Object.keys(manifest.peerDependenciesMeta).map(pinned)

/** A TokenManager program using only the package's "." export and its peer `effect`. */
export const program = `
import { TokenFetcher, TokenManager } from "sa-token-manager"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

let calls = 0
const fetcher = TokenFetcher.layer((_namespace, _name, request) =>
  Effect.sync(() => ({
    ...request,
    status: { token: Redacted.make("token-" + ++calls), expirationTimestamp: new Date(Date.now() + 3600_000) },
  }))
)
const tokens = Effect.gen(function* () {
  const manager = yield* TokenManager.TokenManager
  const request = { spec: { audiences: ["vault"], expirationSeconds: 3600 } }
  const first = yield* manager.getServiceAccountToken("default", "builder", request)
  const second = yield* manager.getServiceAccountToken("default", "builder", request)
  return [Redacted.value(first.status.token), Redacted.value(second.status.token), yield* manager.size]
})
const result = await Effect.runPromise(Effect.scoped(tokens.pipe(Effect.provide(TokenManager.layer.pipe(Layer.provide(fetcher))))))
console.log(JSON.stringify({ result, calls }))
`

/**
 * Builds the package into `work/staging` (a fresh build, package.json, README, LICENSE; the bin copied from the bundle
 * `npm test` made, when `SA_TOKEN_TEST_BIN` names it) and packs it into `work`.
 */
export const pack = async (work: string): Promise<{ readonly staging: string; readonly tarball: string }> => {
  const staging = path.join(work, "staging")
  fs.mkdirSync(staging)
  for (const file of ["package.json", "README.md", "LICENSE"]) {
    fs.copyFileSync(path.join(repo, file), path.join(staging, file))
  }
  await sh(bin("tsc"), ["-p", "tsconfig.json", "--outDir", path.join(staging, "dist")], repo)
  await sh(process.execPath, ["--import", "tsx", "scripts/build-entries.ts", path.join(staging, "dist")], repo)
  await binIn(path.join(staging, "dist", "bin"))
  const packed = await sh("npm", ["pack", "--json", "--pack-destination", work, staging], work)
  return { staging, tarball: path.join(work, (JSON.parse(packed) as Array<{ filename: string }>)[0]!.filename) }
}

/**
 * Installs packages into a new plain project `work/name` (no overrides, so what installs is what a user on this Node
 * gets; packages from the npm cache that `npm ci` filled, the registry only for what is missing).
 */
export const install = async (work: string, name: string, packages: ReadonlyArray<string>): Promise<string> => {
  const dir = path.join(work, name)
  fs.mkdirSync(dir)
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name, private: true, type: "module" }))
  const flags = ["--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]
  await sh("npm", ["install", ...flags, ...packages], dir, 180_000)
  return dir
}
