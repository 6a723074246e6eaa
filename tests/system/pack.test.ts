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
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { after, before, describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as DevServer from "../../adapters/devserver/mod.ts"
import {
  attempt,
  bin,
  effects,
  install,
  installTable,
  manifest,
  measure,
  optionalPeers,
  pack,
  program,
  repo,
  sh,
} from "./pack/npm.ts"

const isNode = !("Deno" in globalThis) && process.versions.bun === undefined

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
      ;({ staging, tarball } = await pack(work))
      ;[project, baseline, full] = await Promise.all([
        install(work, "project", [tarball, ...effects]),
        install(work, "baseline", effects),
        install(work, "full", [tarball, ...effects, ...optionalPeers]),
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

    /** Runs `file args… token default` in `cwd` for the `vault` audience: the server issues one token, printed. */
    const issuesToken = async (file: string, args: ReadonlyArray<string>, cwd: string) => {
      const before = server!.stats.tokensIssued
      const flags = ["--kubeconfig", kubeconfig, "-n", "default", "--audience", "vault", "-o", "json"]
      const out = await sh(file, [...args, "token", "default", ...flags], cwd)
      const response = JSON.parse(out) as { spec: { audiences: Array<string> }; status: { token: string } }
      assert.deepEqual(response.spec.audiences, ["vault"])
      assert.equal(response.status.token.split(".").length, 3)
      assert.equal(server!.stats.tokensIssued, before + 1)
    }

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
      const specifiers = Object.keys(manifest.exports).filter((s) => s !== "./package.json" && s !== "./bun")
        .map((subpath) => path.posix.join("sa-token-manager", subpath))
      // One Node process imports every subpath in turn, each by its own specifier, and prints each one's names.
      const script = `const names = {}
for (const specifier of ${JSON.stringify(specifiers)}) names[specifier] = Object.keys(await import(specifier)).sort()
console.log(JSON.stringify(names))`
      const installed = JSON.parse(await sh(process.execPath, ["--input-type=module", "-e", script], full))
      assert.deepEqual(Object.keys(installed), specifiers)
      for (const specifier of specifiers) {
        const subpath = specifier.slice("sa-token-manager".length)
        const source = subpath === "" ? "mod.ts" : `adapters${subpath}/mod.ts`
        const expected = Object.keys(await import(path.join(repo, source))).sort()
        assert.deepEqual(installed[specifier], expected, specifier)
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
        const [file, args] = launcher()
        await issuesToken(file, [...args, path.join(lonely, "sa-token.js")], lonely)
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
        const [file, args] = launcher()
        await issuesToken(file, args, project)
      })
    }
  },
)
