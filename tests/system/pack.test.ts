/**
 * The npm package as a user gets it: build into a staging copy (the repo's dist/ is left alone), `npm pack`, and
 * install into fresh projects (packages from the npm cache that `npm ci` filled, the registry only for what is
 * missing; no overrides, so Node 20 gets what a user gets): the tarball with `effect` and `@effect/platform` (the
 * core-only install), those two alone (the baseline it is measured against, in the same run), and the tarball with
 * every optional peer. Then: the core-only install is at most 1.1 times the baseline's bytes and packages; "." works
 * on Node, Bun and Deno; each other subpath fails there with the one line the README's install table announces; with
 * the peers installed each subpath exports what its source does; the `sa-token` bin runs (`--help`, and `token`
 * against the development API server started here in-process, through npx, bunx, `bunx --bun` and Deno, and from a
 * copy of dist/bin with no node_modules on Node, Bun and Deno); publint and attw check the package. Runs under Node
 * only; it starts Bun and Deno itself.
 */
import assert from "node:assert/strict"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { after, before, describe, it } from "node:test"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as DevServer from "../../adapters/devserver/mod.ts"

const run = promisify(execFile)
const isNode = !("Deno" in globalThis) && process.versions.bun === undefined
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")
const bin = (name: string): string => path.join(repo, "node_modules", ".bin", name)
const env = { ...process.env, NO_COLOR: "1", npm_config_update_notifier: "false", npm_config_fund: "false" }

/** Runs a command to its end: exit status and output, whatever the status. */
const attempt = (file: string, args: ReadonlyArray<string>, cwd: string, timeout = 60_000) =>
  run(file, [...args], { cwd, env, timeout, maxBuffer: 16 * 1024 * 1024 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code?: number | string; stdout?: string; stderr?: string }) => ({
      code: e.code ?? -1,
      stdout: e.stdout ?? "",
      stderr: e.stderr ?? "",
    }),
  )

/** Runs a command, failing with its output when it exits non-zero. */
const sh = async (file: string, args: ReadonlyArray<string>, cwd: string, timeout = 60_000): Promise<string> => {
  try {
    const { stdout } = await run(file, [...args], { cwd, env, timeout, maxBuffer: 16 * 1024 * 1024 })
    return stdout
  } catch (e) {
    const error = e as { message: string; stdout?: string; stderr?: string }
    throw new Error(`${file} ${args.join(" ")} failed: ${error.message}\n${error.stdout ?? ""}\n${error.stderr ?? ""}`)
  }
}

/** Bytes of the files under a directory (symbolic links not followed) and the packages in it (nested ones too). */
const measure = (dir: string): { bytes: number; packages: number } => {
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
const installTable = (): ReadonlyMap<string, string> =>
  new Map(
    [
      ...fs.readFileSync(path.join(repo, "README.md"), "utf8").matchAll(
        /^\| `(sa-token-manager\/\w+)` +\| `(npm install [^`]+)` +\|$/gm,
      ),
    ]
      .map((m) => [m[1]!, m[2]!]),
  )

const manifest = JSON.parse(fs.readFileSync(path.join(repo, "package.json"), "utf8")) as {
  readonly exports: Record<string, unknown>
  readonly devDependencies: Record<string, string>
  readonly peerDependenciesMeta: Record<string, { readonly optional?: boolean }>
}
/** `name@version` as this repository pins it. */
const pinned = (name: string): string => `${name}@${manifest.devDependencies[name]}`
const effects = [pinned("effect"), pinned("@effect/platform")]
const optionalPeers = Object.keys(manifest.peerDependenciesMeta).map(pinned)

/** A TokenManager program using only the package's "." export and its peer `effect`. */
const program = `
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

describe(
  "npm package (pack, install, run)",
  { skip: !isNode && "runs under Node only (it starts Bun and Deno)" },
  () => {
    let work = ""
    let project = ""
    let scope: Scope.CloseableScope | undefined
    let server: DevServer.DevServer | undefined
    let kubeconfig = ""
    let staging = ""
    let tarball = ""
    let baseline = ""
    let full = ""

    before(async () => {
      work = fs.mkdtempSync(path.join(os.tmpdir(), "sa-token-pack-"))
      // A staging copy holds what `npm pack` reads: package.json, README, LICENSE and a fresh build.
      staging = path.join(work, "staging")
      fs.mkdirSync(staging)
      for (const file of ["package.json", "README.md", "LICENSE"]) {
        fs.copyFileSync(path.join(repo, file), path.join(staging, file))
      }
      await sh(bin("tsc"), ["-p", "tsconfig.json", "--outDir", path.join(staging, "dist")], repo)
      await sh(process.execPath, ["--import", "tsx", "scripts/build-entries.ts", path.join(staging, "dist")], repo)
      await sh("bash", ["scripts/build-bin.sh", path.join(staging, "dist", "bin")], repo)
      const packed = await sh("npm", ["pack", "--json", "--pack-destination", work, staging], work)
      tarball = path.join(work, (JSON.parse(packed) as Array<{ filename: string }>)[0]!.filename)
      // Plain projects: no overrides, so what installs is what a user on this Node gets.
      const install = async (name: string, packages: ReadonlyArray<string>): Promise<string> => {
        const dir = path.join(work, name)
        fs.mkdirSync(dir)
        fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name, private: true, type: "module" }))
        const flags = ["--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]
        await sh("npm", ["install", ...flags, ...packages], dir, 180_000)
        return dir
      }
      ;[project, baseline, full] = await Promise.all([
        install("project", [tarball, ...effects]),
        install("baseline", effects),
        install("full", [tarball, ...effects, ...optionalPeers]),
      ])
      fs.writeFileSync(path.join(project, "program.mjs"), program)

      scope = Effect.runSync(Scope.make())
      kubeconfig = path.join(work, "kubeconfig")
      server = await Effect.runPromise(
        Scope.extend(DevServer.start({ kubeconfigOut: kubeconfig, maxTokenExpirationSeconds: 3600 }), scope),
      )
    })

    after(async () => {
      if (scope !== undefined) await Effect.runPromise(Scope.close(scope, Exit.void))
      if (work !== "") fs.rmSync(work, { recursive: true, force: true })
    })

    it("holds the build, README and LICENSE, and no sources, tests or lockfiles", () => {
      const root = path.join(project, "node_modules", "sa-token-manager")
      assert.deepEqual(fs.readdirSync(root).sort(), ["LICENSE", "README.md", "dist", "package.json"])
      assert.ok(fs.existsSync(path.join(root, "dist", "adapters", "agent", "mod.d.ts")))
      const main = fs.readFileSync(path.join(root, "dist", "bin", "sa-token.js"), "utf8")
      assert.ok(main.startsWith("#!/usr/bin/env node\n"))
    })

    it("installs core-only at most 1.1 times the bytes and packages of effect and @effect/platform alone", (t) => {
      const core = measure(path.join(project, "node_modules"))
      const alone = measure(path.join(baseline, "node_modules"))
      const ratio = { bytes: core.bytes / alone.bytes, packages: core.packages / alone.packages }
      t.diagnostic(`core-only ${JSON.stringify(core)}, effect + @effect/platform ${JSON.stringify(alone)}`)
      t.diagnostic(`ratio: bytes ${ratio.bytes.toFixed(3)}, packages ${ratio.packages.toFixed(3)}`)
      assert.ok(alone.packages >= 2 && alone.bytes > 0)
      assert.ok(ratio.bytes <= 1.1, `bytes ${ratio.bytes}`)
      assert.ok(ratio.packages <= 1.1, `packages ${ratio.packages}`)
    })

    it("lists every subpath but '.' and /platform in the README's install table", () => {
      const subpaths = Object.keys(manifest.exports)
        .filter((s) => ![".", "./platform", "./package.json"].includes(s))
        .map((s) => `sa-token-manager/${s.slice(2)}`)
      assert.deepEqual([...installTable().keys()].sort(), subpaths.sort())
    })

    for (const runtime of ["node", "bun", "deno"] as const) {
      it(`fails each subpath without its peers on ${runtime} with the README's one line, and loads /platform`, async () => {
        const command = (file: string): readonly [string, ReadonlyArray<string>] =>
          runtime === "node"
            ? [process.execPath, [file]]
            : runtime === "bun"
            ? [bin("bun"), [file]]
            : [bin("deno"), ["run", "-A", "--quiet", file]]
        const table = [...installTable()]
        const name = (spec: string): string => spec.slice(0, spec.lastIndexOf("@"))
        // Bun has its own undici and ws (built-in modules), so they are not missing there.
        const provided = runtime === "bun"
          ? JSON.parse(
            await sh(bin("bun"), [
              "-e",
              `import { builtinModules } from "node:module"; console.log(JSON.stringify(builtinModules))`,
            ], work),
          ) as ReadonlyArray<string>
          : []
        await Promise.all(table.map(async ([subpath, install]) => {
          const file = `import-${subpath.split("/")[1]}.mjs`
          fs.writeFileSync(path.join(project, file), `import "${subpath}"\nconsole.log("loaded")\n`)
          const specs = install.split(" ").slice(2).filter((spec) => !provided.includes(name(spec)))
          const [exe, args] = command(file)
          const result = await attempt(exe, args, project)
          const line = `${subpath} needs ${specs.map(name).join(", ")}, not installed: npm install ${specs.join(" ")}\n`
          assert.equal(result.stderr, line)
          assert.equal(result.code, 1)
          assert.equal(result.stdout, "")
        }))
        fs.writeFileSync(
          path.join(project, "import-platform.mjs"),
          `import "sa-token-manager/platform"\nconsole.log("loaded")\n`,
        )
        const [exe, args] = command("import-platform.mjs")
        assert.equal(await sh(exe, args, project), "loaded\n")
      })
    }

    it("exports each subpath's names once its peers are installed", async () => {
      for (const subpath of Object.keys(manifest.exports).filter((s) => s !== "./package.json" && s !== "./bun")) {
        const source = subpath === "." ? "mod.ts" : `adapters/${subpath.slice(2)}/mod.ts`
        const expected = Object.keys(await import(path.join(repo, source))).sort()
        const specifier = path.posix.join("sa-token-manager", subpath)
        const script = `console.log(JSON.stringify(Object.keys(await import("${specifier}")).sort()))`
        const out = await sh(process.execPath, ["--input-type=module", "-e", script], full)
        assert.deepEqual(JSON.parse(out), expected, specifier)
      }
      const bunScript = `const m = await import("sa-token-manager/bun"); console.log(typeof m.layer, typeof m.runMain)`
      assert.equal(await sh(bin("bun"), ["-e", bunScript], full), "object function\n")
    })

    // A copy of dist/bin alone, under a directory with no node_modules above it: the bin needs nothing installed.
    const lonelyLaunchers: ReadonlyArray<readonly [string, () => readonly [string, ReadonlyArray<string>]]> = [
      ["node", () => [process.execPath, []]],
      ["bun", () => [bin("bun"), []]],
      ["deno", () => [bin("deno"), ["run", "-A"]]],
    ]
    for (const [name, launcher] of lonelyLaunchers) {
      it(`runs a copy of dist/bin with no node_modules on ${name}: token default`, async () => {
        const lonely = path.join(work, "lonely")
        if (!fs.existsSync(lonely)) fs.cpSync(path.join(staging, "dist", "bin"), lonely, { recursive: true })
        for (let dir = lonely; dir !== path.dirname(dir); dir = path.dirname(dir)) {
          assert.ok(!fs.existsSync(path.join(dir, "node_modules")), `${dir} has node_modules`)
        }
        const before = server!.stats.tokensIssued
        const [file, args] = launcher()
        const out = await sh(file, [
          ...args,
          path.join(lonely, "sa-token.js"),
          "token",
          "default",
          "--kubeconfig",
          kubeconfig,
          "-n",
          "default",
          "--audience",
          "vault",
          "-o",
          "json",
        ], lonely)
        const response = JSON.parse(out) as { spec: { audiences: Array<string> }; status: { token: string } }
        assert.deepEqual(response.spec.audiences, ["vault"])
        assert.equal(response.status.token.split(".").length, 3)
        assert.equal(server!.stats.tokensIssued, before + 1)
      })
    }

    it("passes publint and attw (esm-only profile)", async () => {
      assert.match(await sh(bin("publint"), ["run", staging], work), /All good!/)
      await sh(bin("attw"), [tarball, "--profile", "esm-only", "--format", "table-flipped"], work)
    })

    const expected = { result: ["token-1", "token-1", 1], calls: 1 }

    it("imports '.' and runs a TokenManager program on Node", async () => {
      const out = await sh(process.execPath, ["program.mjs"], project)
      assert.deepEqual(JSON.parse(out), expected)
    })

    it("imports '.' and runs a TokenManager program on Bun", async () => {
      const out = await sh(bin("bun"), ["program.mjs"], project)
      assert.deepEqual(JSON.parse(out), expected)
    })

    it("imports '.' and runs a TokenManager program on Deno", async () => {
      const out = await sh(bin("deno"), ["run", "-A", "--quiet", "program.mjs"], project)
      assert.deepEqual(JSON.parse(out), expected)
    })

    it("runs the sa-token bin with plain node: --help", async () => {
      const out = await sh(path.join(project, "node_modules", ".bin", "sa-token"), ["--help"], project)
      for (const command of ["agent", "demo", "exec-credential", "dev-server", "token", "version"]) {
        assert.match(out, new RegExp(`\\b${command}\\b`))
      }
    })

    // The bin as npx runs it (Node), as bunx runs it by default (its shebang: Node) and with --bun (Bun), and as Deno
    // runs the installed package: each must reach the server through the kubeconfig's CA.
    const launchers: ReadonlyArray<readonly [string, () => readonly [string, ReadonlyArray<string>]]> = [
      ["npx", () => [path.join(project, "node_modules", ".bin", "sa-token"), []]],
      ["bunx", () => [bin("bun"), ["x", "sa-token"]]],
      ["bunx --bun", () => [bin("bun"), ["x", "--bun", "sa-token"]]],
      ["deno run", () => [bin("deno"), ["run", "-A", "node_modules/sa-token-manager/dist/bin/sa-token.js"]]],
    ]
    for (const [name, launcher] of launchers) {
      it(`runs the sa-token bin through ${name}: token default against the development API server`, async () => {
        const before = server!.stats.tokensIssued
        const [file, args] = launcher()
        const out = await sh(
          file,
          [
            ...args,
            "token",
            "default",
            "--kubeconfig",
            kubeconfig,
            "-n",
            "default",
            "--audience",
            "vault",
            "-o",
            "json",
          ],
          project,
        )
        const response = JSON.parse(out) as { spec: { audiences: Array<string> }; status: { token: string } }
        assert.deepEqual(response.spec.audiences, ["vault"])
        assert.equal(response.status.token.split(".").length, 3)
        assert.equal(server!.stats.tokensIssued, before + 1)
      })
    }
  },
)
