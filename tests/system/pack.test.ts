/**
 * The npm package as a user gets it: build into a staging copy (the repo's dist/ is left alone), `npm pack`, install
 * the tarball into a fresh project (dependencies from the npm cache that `npm ci` filled, the registry only for what
 * is missing; no overrides, so Node 20 gets what a user gets), then import "." on Node, Bun and Deno and run the
 * `sa-token` bin (`--help`, and `token` against the development API server started here in-process, through npx,
 * bunx, `bunx --bun` and Deno); publint and attw check the package. Runs under Node only; it
 * starts Bun and Deno itself.
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

    before(async () => {
      work = fs.mkdtempSync(path.join(os.tmpdir(), "sa-token-pack-"))
      // A staging copy holds what `npm pack` reads: package.json, README, LICENSE and a fresh build.
      staging = path.join(work, "staging")
      fs.mkdirSync(staging)
      for (const file of ["package.json", "README.md", "LICENSE"]) {
        fs.copyFileSync(path.join(repo, file), path.join(staging, file))
      }
      await sh(bin("tsc"), ["-p", "tsconfig.json", "--outDir", path.join(staging, "dist")], repo)
      await sh("bash", ["scripts/build-bin.sh", path.join(staging, "dist", "bin")], repo)
      const packed = await sh("npm", ["pack", "--json", "--pack-destination", work, staging], work)
      tarball = path.join(work, (JSON.parse(packed) as Array<{ filename: string }>)[0]!.filename)
      project = path.join(work, "project")
      fs.mkdirSync(project)
      // A plain project: no overrides, so what installs is what a user on this Node gets.
      fs.writeFileSync(
        path.join(project, "package.json"),
        JSON.stringify({ name: "consumer", private: true, type: "module" }),
      )
      await sh(
        "npm",
        ["install", "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error", tarball],
        project,
        120_000,
      )
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

    it("says what is missing when the bin runs without its dependencies (a copy of dist/bin alone)", async () => {
      const lonely = path.join(work, "lonely")
      fs.cpSync(path.join(staging, "dist", "bin"), lonely, { recursive: true })
      const failed = await sh(process.execPath, [
        path.join(lonely, "sa-token.js"),
        "token",
        "default",
        "--kubeconfig",
        kubeconfig,
      ], work)
        .then(() => "", (error: Error) => error.message)
      assert.match(failed, /error: kubeconfig: cannot load @kubernetes\/client-node/)
    })

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
