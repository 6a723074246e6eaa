/**
 * The npm bin's tiers (`adapters/cli/main.ts`) as kubectl meets them: for each of Node, Bun and Deno, a copy of the
 * bundled bin with only the entry and that runtime's lean files (no full CLI, none of the other runtimes' lean files)
 * still answers `version`, `--help`, a cache hit (with and without `--namespace`) and an agent's socket, so those
 * answers load nothing else. The cache is filled by the complete bin, as kubectl's first call would fill it, and a miss
 * on a copy fails, which shows the copy cannot fall back. Bun's lean files carry Bun's bytecode: a copy whose bytecode
 * is damaged, as any Bun but the one that built it finds it, still answers. Runs under Node only (it starts Bun and
 * Deno itself).
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

/** The files each runtime's lean answers load, besides the entry `sa-token.js`. */
const leanFiles: Record<Runtime, ReadonlyArray<string>> = {
  node: ["ExecCredentialCacheHit.js", "ExecCredentialSocketHit.js", "NodeLeanHost.js"],
  deno: ["DenoLeanHost.js", "ExecCredentialCacheHit.js", "ExecCredentialSocketHit.js"],
  bun: ["BunLeanHost.js", "BunLeanHost.js.jsc", "LeanAnswers.js", "LeanAnswers.js.jsc"],
}

/** Flips a byte in every 512 of `file`. */
const damage = (file: string) => {
  const bytes = fs.readFileSync(file)
  for (let i = 64; i < bytes.length; i += 512) bytes[i] = bytes[i]! ^ 0x5a
  fs.writeFileSync(file, bytes)
}

describe(
  "the bin's lean tiers, from copies with only one runtime's lean files",
  { skip: runtime !== "node" && "runs under Node" },
  () => {
    const fixture = suiteServer("bin-lean-")
    let full = ""
    /** The entry of each copy: one per runtime, and Bun's with its bytecode damaged. */
    const copies = new Map<string, string>()
    /** Runs the copy of `on` (or Bun's damaged one) on `on`. */
    const runLean = (on: Runtime, args: ReadonlyArray<string>, copy: string = on) => {
      const [file, ...pre] = binCommand(on, copies.get(copy)!)
      return run(file!, [...pre, ...args], { cwd: fixture.dir })
    }
    /** Each runtime, and Bun again on the copy whose bytecode is damaged. */
    const cases: ReadonlyArray<readonly [Runtime, string]> = [...runtimes.map((on) => [on, on] as const), [
      "bun",
      "bun-damaged",
    ]]

    before(async () => {
      full = await binIn(nodePath.join(fixture.dir, "built"))
      const built = fs.readdirSync(nodePath.dirname(full))
      assert.ok(built.includes("FullCli.js"), `the full CLI in ${built}`)
      for (const [on, copy] of cases) {
        const dir = nodePath.join(fixture.dir, `lean-${copy}`)
        fs.mkdirSync(dir)
        for (const name of ["sa-token.js", ...leanFiles[on]]) {
          assert.ok(built.includes(name), `${name} in ${built}`)
          fs.copyFileSync(nodePath.join(nodePath.dirname(full), name), nodePath.join(dir, name))
        }
        if (copy === "bun-damaged") {
          for (const name of leanFiles.bun.filter((n) => n.endsWith(".jsc"))) damage(nodePath.join(dir, name))
        }
        copies.set(copy, nodePath.join(dir, "sa-token.js"))
      }
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
      for (const [on, copy] of cases) {
        for (const extra of [[], ["-n", "default"]]) {
          const hit = await runLean(on, [...args, ...extra], copy)
          assert.equal(hit.code, 0, `${copy} ${extra.join(" ")}: ${hit.stderr}`)
          assert.equal(JSON.parse(hit.stdout).status.token, token)
        }
        const miss = await runLean(on, [...args, "--audience", "other"], copy)
        assert.notEqual(miss.code, 0, `${copy}: a miss needs the full CLI, which this copy lacks`)
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
        for (const [on, copy] of cases) {
          const hit = await runLean(on, ["exec-credential", "--name", "app", "--socket", socket], copy)
          assert.equal(hit.code, 0, `${copy}: ${hit.stderr}`)
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
