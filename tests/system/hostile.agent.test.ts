/**
 * Hostile configs through the agent process: a config the decoder refuses makes `agent --config` exit with code 2 and
 * name the field on stderr, before any TokenRequest, without repeating the value (a 50 MB one gives a short line); so
 * does a token file path that is an existing directory.
 */
import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import { tempDir } from "../_support/agent.ts"
import { runtime, spawnsNodeAgent } from "../_support/runtime.ts"
import { runAgent, withDevServer } from "../_support/agentProcess.ts"

describe(`hostile configs through the agent process (${runtime})`, () => {
  it(
    "exits 2 naming the field for each hostile config, before any TokenRequest",
    { timeout: 600_000, skip: spawnsNodeAgent },
    () =>
      withDevServer("hostile-agent", {}, (dir, server) =>
        Effect.gen(function* () {
          const token = "{ name: a, namespace: default, serviceAccount: a"
          const cases: ReadonlyArray<readonly [string, string]> = [
            [`tokens:\n  - ${token}, file: { path: t, mode: 777 } }\n`, "tokens[0].file.mode"],
            [`tokens:\n  - ${token}, file: { path: ../../etc/x } }\n`, "tokens[0].file.path"],
            [`tokens:\n  - ${token}, expirationSeconds: 1.5 }\n`, "tokens[0].expirationSeconds"],
            [`tokens:\n  - ${token}, expirationSeconds: 4294967297 }\n`, "tokens[0].expirationSeconds"],
            [`tokens:\n  - { name: a, namespace: "a/b", serviceAccount: a }\n`, "tokens[0].namespace"],
            [`tokens:\n  - { name: a, namespace: default, serviceAccount: "..%2F" }\n`, "tokens[0].serviceAccount"],
            [`tokens:\n  - ${token}, audiences: [""] }\n`, "tokens[0].audiences[0]"],
            [`tokens:\n  - ${token}, colour: red }\n`, "tokens[0].colour"],
            [`tokens: 7\n`, "tokens"],
            [`tokens:\n  - ${token} }\nbudget: { qps: -1 }\n`, "budget.qps"],
            [`tokens:\n  - ${token} }\nendpoint: { tcp: { address: "127.0.0.1:0" } }\n`, "endpoint.tcp.bearerToken"],
          ]
          // Two agents at a time: each is a `node --import tsx` start-up, and eleven at once on a busy 2-core machine
          // can take longer than any fixed bound.
          yield* Effect.forEach(cases, ([yaml, field], i) =>
            Effect.promise(async () => {
              const config = nodePath.join(dir, `agent-${i}.yaml`)
              fs.writeFileSync(config, `cluster: { kubeconfig: kubeconfig }\n${yaml}`)
              const { code, stderr } = await runAgent(config, 120_000)
              assert.equal(code, 2, `${field}: exit ${code}: ${stderr}`)
              assert.ok(stderr.includes(field), `${field} not named: ${stderr}`)
              assert.ok(!/\n\s+at /.test(stderr), `a stack trace for ${field}: ${stderr}`)
            }), { concurrency: 2, discard: true })
          assert.equal(server.stats.tokensIssued, 0)
          assert.equal(server.stats.requests, 0)
        })),
  )

  it("a 50 MB value in an enum field gets a short message that does not repeat it", {
    skip: spawnsNodeAgent,
    timeout: 180_000,
  }, async () => {
    const dir = tempDir("hostile-agent")
    const config = nodePath.join(dir, "agent.yaml")
    const huge = `MARKER${"x".repeat(50 * 1024 * 1024)}`
    fs.writeFileSync(
      config,
      `tokens:\n  - { name: a, namespace: default, serviceAccount: a }\nlog:\n  format: ${huge}\n`,
    )
    const { code, stderr } = await runAgent(config, 120_000)
    fs.rmSync(dir, { recursive: true, force: true })
    assert.equal(code, 2, stderr.slice(0, 300))
    assert.match(stderr, /log\.format: must be json or text/)
    assert.ok(stderr.length < 1000, `${stderr.length} bytes of stderr`)
    assert.ok(!stderr.includes("MARKER"))
  })

  it("refuses a token file path that is an existing directory", {
    skip: spawnsNodeAgent,
    timeout: 180_000,
  }, () =>
    withDevServer("hostile-agent", {}, (dir, server) =>
      Effect.gen(function* () {
        server.state.upsertServiceAccount("default", "a")
        fs.mkdirSync(nodePath.join(dir, "t"))
        const config = nodePath.join(dir, "agent.yaml")
        fs.writeFileSync(
          config,
          "cluster: { kubeconfig: kubeconfig }\ntokens:\n  - { name: a, namespace: default, serviceAccount: a, file: { path: t } }\n",
        )
        const { code, stderr, killed } = yield* Effect.promise(() => runAgent(config, 60_000))
        assert.ok(!killed, `still running after 60 s: ${stderr.slice(-600)}`)
        assert.equal(code, 2)
        assert.match(stderr, /tokens\[0\]\.file\.path/)
      })))
})
