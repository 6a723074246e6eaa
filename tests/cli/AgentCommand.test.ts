/**
 * The `agent` command as a process (the Node main, whichever runtime runs the test): a bad config exits with code 2 naming the field; against the
 * development API server (in this process) it writes the token files, and SIGTERM stops it with code 0 and no
 * temporary files left.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import * as Effect from "effect/Effect"
import { withTempDir } from "../_support/scratch.ts"
import { spawnsNodeAgent } from "../_support/runtime.ts"
import { nodeMain, root, scopedAgent, startAgent, withDevServer } from "../_support/agentProcess.ts"

const agent = (config: string, command?: ReadonlyArray<string>) => startAgent(config, command)

const waitFor = async (condition: () => boolean, what: string, tries = 6000) => {
  for (let i = 0; i < tries; i++) {
    if (condition()) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`timed out waiting for ${what}`)
}

describe("agent command (process)", () => {
  it(
    "exits with code 2 on a bad config, naming the field",
    { timeout: 120_000, skip: spawnsNodeAgent },
    () =>
      withTempDir("cli", async (dir) => {
        const config = nodePath.join(dir, "agent.yaml")
        fs.writeFileSync(
          config,
          "tokens:\n  - { name: a, namespace: default, serviceAccount: a, file: { path: t, mode: 600 } }\n",
        )
        const run = agent(config)
        const { code } = await run.exited
        assert.equal(code, 2)
        assert.match(run.stderr(), /tokens\[0\]\.file\.mode/)
      }),
  )

  it(
    "writes token files from the development API server and stops cleanly on SIGTERM",
    { timeout: 120_000, skip: spawnsNodeAgent },
    () =>
      withDevServer("cli", { maxTokenExpirationSeconds: 60 }, (dir, server) =>
        Effect.gen(function* () {
          server.state.upsertServiceAccount("default", "builder")
          const config = nodePath.join(dir, "agent.yaml")
          fs.writeFileSync(
            config,
            `cluster: { kubeconfig: kubeconfig }\nlog: { format: json, level: info }\ntokens:\n` +
              `  - { name: b, namespace: default, serviceAccount: builder, expirationSeconds: 600, file: { path: out/b, mode: "0640" } }\n`,
          )
          const run = yield* scopedAgent(config)
          const file = nodePath.join(dir, "out", "b")
          yield* Effect.promise(() => waitFor(() => fs.existsSync(file), "the token file"))
          const token = fs.readFileSync(file, "utf8")
          assert.equal(token.split(".").length, 3)
          assert.equal(fs.statSync(file).mode & 0o777, 0o640)
          yield* Effect.promise(() => waitFor(() => run.stderr().includes("token refreshed"), "the log line"))
          run.child.kill("SIGTERM")
          const { code, signal } = yield* Effect.promise(() => run.exited)
          // Deno's child_process reports the signal it sent instead of the exit code of a child that handled it
          const deno = "Deno" in globalThis
          assert.ok(code === 0 || (deno && signal === "SIGTERM"), `exit ${code} ${signal}: ${run.stderr()}`)
          assert.match(run.stderr(), /"message":"agent stopped"/)
          assert.deepEqual(fs.readdirSync(nodePath.join(dir, "out")), ["b"])
          assert.ok(!run.stderr().includes(token), "the token is in the log")
          assert.match(run.stderr(), /"token":"b"/)
        })),
  )

  // Each runtime's main provides SIGHUP, so the reload runs once per runtime, driven from Node (the spawning runner
  // does not matter, and Deno's child_process cannot report the exit code of a child it signalled).
  const runtimes: ReadonlyArray<[string, ReadonlyArray<string>]> = [
    ["node", nodeMain],
    ["bun", [nodePath.join(root, "node_modules", ".bin", "bun"), nodePath.join(root, "adapters", "cli", "main.ts")]],
    ["deno", [
      nodePath.join(root, "node_modules", ".bin", "deno"),
      "run",
      "-A",
      nodePath.join(root, "adapters", "cli", "main.ts"),
    ]],
  ]
  for (const [runtime, command] of runtimes) {
    it(
      `reloads its token list on SIGHUP (${runtime} main)`,
      { timeout: 90_000, skip: spawnsNodeAgent },
      () =>
        withDevServer("cli", {}, (dir, server) =>
          Effect.gen(function* () {
            server.state.upsertServiceAccount("default", "builder")
            const config = nodePath.join(dir, "agent.yaml")
            const entry = (name: string) =>
              `  - { name: ${name}, namespace: default, serviceAccount: builder, file: { path: out/${name}, mode: "0600" } }\n`
            const header = `cluster: { kubeconfig: kubeconfig }\nlog: { format: json, level: info }\ntokens:\n`
            fs.writeFileSync(config, header + entry("b"))
            const run = agent(config, command)
            const b = nodePath.join(dir, "out", "b")
            const c = nodePath.join(dir, "out", "c")
            const wait = (file: string, what: string) =>
              Effect.promise(() =>
                waitFor(() => fs.existsSync(file), what, 6000).catch((error) => {
                  run.child.kill("SIGKILL")
                  throw new Error(`${error.message}; agent stderr: ${run.stderr()}`)
                })
              )
            yield* wait(b, "the first token file")
            const inode = fs.statSync(b).ino
            fs.writeFileSync(config, header + entry("b") + entry("c"))
            run.child.kill("SIGHUP")
            yield* wait(c, "the token file added by the reload")
            assert.equal(fs.statSync(b).ino, inode, "an unchanged token is not rewritten")
            run.child.kill("SIGTERM")
            const { code } = yield* Effect.promise(() => run.exited)
            assert.equal(code, 0, run.stderr())
          })),
    )
  }
})
