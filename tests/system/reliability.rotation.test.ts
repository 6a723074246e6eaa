/**
 * Files across many rotations and a crash, with a real agent process: the Node main runs `agent --config` against the
 * development API server started in this process, which caps every token to a few seconds so that files rotate
 * quickly. A reader loop in this process reads every token file continuously and checks that each read is a whole
 * signed JWT (never empty, never torn). Halfway through, the agent is killed with SIGKILL in the middle of its writes,
 * a leftover temporary file is planted next to a token file (as a crash between create and rename leaves one), and a
 * new agent starts on the same config: it removes the leftover and the rotations go on. The issue asks for 1,000
 * rotations; this file runs about 200 (scaled down to stay within ~25 s of wall time per runtime).
 */
import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as DevServer from "../../adapters/devserver/mod.ts"
import { tempDir } from "../_support/agent.ts"
import { runtime, spawnsNodeAgent } from "../_support/runtime.ts"
import { startAgent } from "../_support/agentProcess.ts"

const tokens = 24
const target = 200

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** A whole ES256 JWT: three base64url parts, JSON header and claims, a 64-byte signature. */
const whole = (text: string): boolean => {
  const parts = text.split(".")
  if (parts.length !== 3) return false
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, "base64url").toString("utf8"))
    const claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8"))
    return header.alg === "ES256" && typeof claims.exp === "number" &&
      Buffer.from(parts[2]!, "base64url").length === 64
  } catch {
    return false
  }
}

describe(`token files across rotations and a kill -9 (${runtime})`, () => {
  it(`${target}+ rotations of ${tokens} files, never a partial read; leftovers removed on restart`, {
    timeout: 90_000,
    skip: spawnsNodeAgent,
  }, () =>
    Effect.runPromise(Effect.scoped(Effect.gen(function* () {
      const dir = tempDir("rotation")
      const kubeconfig = nodePath.join(dir, "kubeconfig")
      const server = yield* DevServer.start({ maxTokenExpirationSeconds: 3, kubeconfigOut: kubeconfig })
      const lines = Array.from(
        { length: tokens },
        (_, i) =>
          `  - { name: t${i}, namespace: default, serviceAccount: sa${i}, expirationSeconds: 600, file: { path: out/t${i} } }`,
      )
      for (let i = 0; i < tokens; i++) server.state.upsertServiceAccount("default", `sa${i}`)
      const config = nodePath.join(dir, "agent.yaml")
      fs.writeFileSync(
        config,
        `cluster: { kubeconfig: kubeconfig }\nbudget: { qps: 100, burst: 100 }\nlog: { level: error }\ntokens:\n${
          lines.join("\n")
        }\n`,
      )
      const out = nodePath.join(dir, "out")
      const files = Array.from({ length: tokens }, (_, i) => nodePath.join(out, `t${i}`))
      const seen = new Set<string>()
      const torn: Array<string> = []
      let reads = 0
      const readAll = () => {
        for (const file of files) {
          let text: string
          try {
            text = fs.readFileSync(file, "utf8")
          } catch {
            continue // not written yet
          }
          reads++
          if (!whole(text)) torn.push(`${file}: ${JSON.stringify(text.slice(0, 40))} (${text.length} bytes)`)
          else seen.add(text)
        }
      }
      const readUntil = async (condition: () => boolean, limitMs: number) => {
        const start = Date.now()
        while (!condition() && Date.now() - start < limitMs) {
          readAll()
          await pause(3)
        }
      }
      let agent = startAgent(config)
      try {
        // first half of the rotations
        yield* Effect.promise(() => readUntil(() => seen.size >= target / 2, 40_000))
        assert.ok(seen.size >= target / 2, `only ${seen.size} tokens seen: ${agent.stderr()}`)
        // kill -9 while the agent is writing (writes happen several times a second), keep reading
        agent.child.kill("SIGKILL")
        yield* Effect.promise(() => agent.exited)
        readAll()
        const leftover = nodePath.join(out, ".t0.crashed.tmp")
        fs.writeFileSync(leftover, "half a tok", { mode: 0o600 })
        const before = seen.size
        agent = startAgent(config)
        yield* Effect.promise(() => readUntil(() => seen.size >= before + target / 2, 40_000))
        assert.ok(seen.size >= target, `only ${seen.size} tokens seen: ${agent.stderr()}`)
        assert.ok(!fs.existsSync(leftover), "the leftover temporary file is still there")
        assert.deepEqual(torn, [])
        assert.ok(reads > seen.size, `${reads} reads`)
      } finally {
        agent.child.kill("SIGTERM")
        yield* Effect.promise(() => agent.exited)
      }
      // once stopped, only the token files remain
      assert.deepEqual(fs.readdirSync(out).sort(), files.map((f) => nodePath.basename(f)).sort())
      console.log(`rotation figures: ${JSON.stringify({ runtime, tokens, rotations: seen.size, reads })}`)
      fs.rmSync(dir, { recursive: true, force: true })
    }))))
})
