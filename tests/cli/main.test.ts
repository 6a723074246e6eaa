/**
 * The npm bin's tiers (`adapters/cli/main.ts`) as kubectl meets them: a copy of the bundled bin without the full CLI
 * (`FullCli.js` and every chunk of its split build) still answers `version`, `--help`, a cache hit (with and without `--namespace`) and an agent's socket, on Node,
 * Bun and Deno, so those answers never load the full CLI. The cache is filled by the complete bin, as kubectl's first
 * call would fill it, and a miss on the copy fails, which shows the copy cannot fall back. Runs under Node only (it
 * starts Bun and Deno itself).
 */
import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import { before, describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as Endpoint from "../../adapters/agent/Endpoint.ts"
import { builtIn } from "../../adapters/cli/FastPath.ts"
import { fakeAgent, status } from "../_support/agentFakes.ts"
import { binCommand, binIn, run, type Runtime, runtimes } from "../_support/clis.ts"
import { suiteServer } from "../_support/devserver.ts"
import { platform } from "../_support/platform.ts"
import { runtime } from "../_support/runtime.ts"

const MARKER = "MARKER-binlean-7c2d"

describe(
  "the bin's lean tiers, from a copy without the full CLI",
  { skip: runtime !== "node" && "runs under Node" },
  () => {
    const fixture = suiteServer("bin-lean-")
    let full = ""
    let lean = ""
    /** Runs the lean copy on `on`. */
    const runLean = (on: Runtime, args: ReadonlyArray<string>) => {
      const [file, ...pre] = binCommand(on, lean)
      return run(file!, [...pre, ...args], { cwd: fixture.dir })
    }

    before(async () => {
      full = await binIn(nodePath.join(fixture.dir, "built"))
      const copy = nodePath.join(fixture.dir, "lean")
      fs.cpSync(nodePath.dirname(full), copy, { recursive: true })
      const fullTier = fs.readdirSync(copy).filter((name) =>
        /^(FullCli|NodeRuntime|BunRuntime|DenoRuntime)\.js$|^[\w]+-[A-Z0-9]{8}\.js$/.test(name)
      )
      assert.ok(fullTier.includes("FullCli.js"), `the full CLI in ${fs.readdirSync(copy)}`)
      for (const name of fullTier) fs.rmSync(nodePath.join(copy, name))
      assert.deepEqual(fs.readdirSync(copy).sort(), [
        "BunLeanHost.js",
        "DenoLeanHost.js",
        "ExecCredentialCacheHit.js",
        "ExecCredentialSocketHit.js",
        "NodeLeanHost.js",
        "sa-token.js",
      ])
      lean = nodePath.join(copy, "sa-token.js")
    })

    it("prints version and --help", async () => {
      for (const on of runtimes) {
        for (const arg of ["version", "--help"]) {
          const result = await runLean(on, [arg])
          assert.equal(result.code, 0, `${on} ${arg}: ${result.stderr}`)
          assert.equal(result.stdout, builtIn([arg]))
        }
      }
    })

    it("answers a cache hit the complete bin filled, with and without --namespace, and cannot answer a miss", async () => {
      const cache = nodePath.join(fixture.dir, "cache")
      const args = ["exec-credential", "default", "--kubeconfig", fixture.kubeconfig, "--cache-dir", cache]
      const filled = await run(process.execPath, [full, ...args], { cwd: fixture.dir })
      assert.equal(filled.code, 0, filled.stderr)
      const token = JSON.parse(filled.stdout).status.token
      const issued = fixture.server.stats.tokensIssued
      for (const on of runtimes) {
        for (const extra of [[], ["-n", "default"]]) {
          const hit = await runLean(on, [...args, ...extra])
          assert.equal(hit.code, 0, `${on} ${extra.join(" ")}: ${hit.stderr}`)
          assert.equal(JSON.parse(hit.stdout).status.token, token)
        }
        const miss = await runLean(on, [...args, "--audience", "other"])
        assert.notEqual(miss.code, 0, `${on}: a miss needs the full CLI, which this copy lacks`)
        assert.equal(miss.stdout, "")
      }
      assert.equal(fixture.server.stats.tokensIssued, issued)
    })

    it("answers from a running agent's socket", async () => {
      const socket = nodePath.join(fixture.dir, "agent.sock")
      const fake = fakeAgent([{ status: status("app", { expiresAt: new Date(Date.UTC(2100, 0, 1)) }), token: MARKER }])
      const scope = Effect.runSync(Scope.make())
      await Effect.runPromise(
        Scope.extend(Endpoint.make({ _tag: "Unix", path: socket }), scope).pipe(
          Effect.provide(fake.layer),
          Effect.provide(platform),
        ),
      )
      try {
        for (const on of runtimes) {
          const hit = await runLean(on, ["exec-credential", "--name", "app", "--socket", socket])
          assert.equal(hit.code, 0, `${on}: ${hit.stderr}`)
          assert.deepEqual(JSON.parse(hit.stdout), {
            apiVersion: "client.authentication.k8s.io/v1",
            kind: "ExecCredential",
            status: { token: MARKER, expirationTimestamp: "2100-01-01T00:00:00Z" },
          })
        }
      } finally {
        await Effect.runPromise(Scope.close(scope, Exit.void))
      }
    })
  },
)
