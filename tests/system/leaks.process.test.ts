/**
 * No token leaks from a real agent process: the Node main runs `agent --config` against the development API server in
 * this process (tokens capped to 2 s so that they rotate, 30 % of TokenRequests faulted with 500, 503, 429 and dropped
 * connections), at each log level (debug, info, warning, error; JSON and text). The markers are the real tokens: every
 * token read from the token files and from the endpoint's token route. Everything else the process produces is scanned
 * for them (and for their claims and signature parts): stdout and stderr including the shutdown output after SIGTERM,
 * `/metrics`, `/healthz`, `/readyz` and the endpoint's error answers.
 */
import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as DevServer from "../../adapters/devserver/mod.ts"
import { request } from "../_support/agentFakes.ts"
import { tempDir } from "../_support/agent.ts"
import { runtime, spawnsNodeAgent } from "../_support/runtime.ts"
import { startAgent } from "../_support/agentProcess.ts"

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

describe(`no token leaks from the agent process (${runtime})`, () => {
  const levels = [["debug", "json"], ["info", "text"], ["warning", "json"], ["error", "text"]] as const
  const play = (level: string, format: string) =>
    Effect.runPromise(Effect.scoped(Effect.gen(function* () {
      const dir = tempDir("leaks")
      const kubeconfig = nodePath.join(dir, "kubeconfig")
      const server = yield* DevServer.start({ maxTokenExpirationSeconds: 2, kubeconfigOut: kubeconfig })
      server.state.upsertServiceAccount("default", "a")
      server.state.upsertServiceAccount("default", "b")
      for (const fault of [{ status: 500 }, { status: 503 }, { status: 429, retryAfterSeconds: 1 }, { drop: true }]) {
        server.faults.inject({ ...fault, fraction: 0.1, pathPrefix: "/api/v1/namespaces/" })
      }
      const socket = nodePath.join(dir, "agent.sock")
      const config = nodePath.join(dir, "agent.yaml")
      fs.writeFileSync(
        config,
        [
          "cluster: { kubeconfig: kubeconfig }",
          `log: { level: ${level}, format: ${format} }`,
          "endpoint: { unix: { path: agent.sock } }",
          "tokens:",
          "  - { name: a, namespace: default, serviceAccount: a, expirationSeconds: 600, file: { path: out/a } }",
          "  - { name: b, namespace: default, serviceAccount: b, expirationSeconds: 600, file: { path: out/b } }",
          "",
        ].join("\n"),
      )
      const { child, exited, output } = startAgent(config)
      const tokens = new Set<string>()
      const scanned: Array<string> = []
      try {
        const files = ["a", "b"].map((name) => nodePath.join(dir, "out", name))
        yield* Effect.promise(async () => {
          for (let i = 0; i < 3000 && (tokens.size < 4 || server.stats.faultsInjected < 2); i++) {
            for (const file of files) {
              if (fs.existsSync(file)) tokens.add(fs.readFileSync(file, "utf8"))
            }
            if (fs.existsSync(socket) && i % 50 === 0) {
              const token = await request({ socketPath: socket }, "/v1/tokens/a").catch(() => undefined)
              if (token?.status === 200) tokens.add(token.body.trim())
              const json = await request({ socketPath: socket }, "/v1/tokens/b?format=json").catch(() => undefined)
              if (json?.status === 200) tokens.add(JSON.parse(json.body).token)
              // dot segments are resolved as in any URL: this is the token route of b
              const dotted = await request({ socketPath: socket }, "/v1/tokens/a/../b").catch(() => undefined)
              if (dotted?.status === 200) tokens.add(dotted.body.trim())
              for (const path of ["/metrics", "/healthz", "/readyz", "/v1/tokens/nope", "/v1/tokens/%2e%2e"]) {
                const reply = await request({ socketPath: socket }, path).catch(() => undefined)
                if (reply !== undefined) {
                  scanned.push(`${path} ${reply.status} ${JSON.stringify(reply.headers)}\n${reply.body}`)
                }
              }
              const post = await request({ socketPath: socket }, "/v1/tokens/a", { method: "POST" }).catch(() =>
                undefined
              )
              if (post !== undefined) scanned.push(`POST ${post.status}\n${post.body}`)
            }
            await pause(10)
          }
        })
      } finally {
        child.kill("SIGTERM")
        const killer = setTimeout(() => child.kill("SIGKILL"), 15_000)
        yield* Effect.promise(() => exited)
        clearTimeout(killer)
      }
      assert.ok(tokens.size >= 4, `only ${tokens.size} tokens: ${output().slice(-2000)}`)
      assert.ok(server.stats.faultsInjected >= 2, `${server.stats.faultsInjected} faults`)
      assert.ok(scanned.some((s) => s.startsWith("/metrics 200")), "no metrics were read")
      scanned.push(output())
      const everything = scanned.join("\n")
      const leaks: Array<string> = []
      for (const token of tokens) {
        const [, claims, signature] = token.split(".")
        for (const piece of [token, claims!, signature!]) {
          const at = everything.indexOf(piece)
          if (at >= 0) leaks.push(everything.slice(Math.max(0, at - 200), at + 40))
        }
      }
      assert.deepEqual(leaks, [])
      if (level === "debug") assert.ok(output().length > 0, "the agent logged nothing at debug")
      fs.rmSync(dir, { recursive: true, force: true })
    })))
  // the four agents run side by side: each needs a few seconds of wall time for its tokens to rotate
  it("at log levels debug, info, warning and error, under faults, through SIGTERM", {
    timeout: 90_000,
    skip: spawnsNodeAgent,
  }, async () => {
    await Promise.all(levels.map(([level, format]) => play(level, format)))
  })
})
