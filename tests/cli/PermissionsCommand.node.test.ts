/**
 * Least privilege under Node's permission model: the npm bin's `token`, `exec-credential` (with its cache) and `agent`
 * (unix and TCP endpoints, and `exec-credential` asking it by its config and, on the unix one, by its socket) run under
 * exactly the flags of `sa-token permissions --runtime node`, against the development API server (in this process).
 * Runs under Node only.
 */
import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import { describe, it } from "node:test"
import { runtime } from "../_support/runtime.ts"
import { suiteServer } from "../_support/devserver.ts"
import { root } from "../_support/agentProcess.ts"
import { binIn } from "../_support/clis.ts"
import {
  agentConfig,
  askAgent,
  assertCredential,
  cacheFiles,
  runNode,
  startAgent,
  waitFor,
} from "../_support/permissions.ts"

describe("least privilege under Node's permission model", { skip: runtime !== "node" }, () => {
  const fixture = suiteServer("perm-node-")

  /**
   * The bin as npm installs it, built once (or copied from the build `npm test` made): a bundle two levels below the
   * package's root, its dependencies in node_modules.
   */
  let built: Promise<string> | undefined
  const npmBin = () =>
    built ??= (() => {
      const installed = fs.mkdtempSync(nodePath.join(fixture.dir, "npm-"))
      fs.symlinkSync(nodePath.join(root, "node_modules"), nodePath.join(installed, "node_modules"))
      return binIn(nodePath.join(installed, "dist", "bin"))
    })()
  /** The flags `permissions --runtime node` prints for `args`: Node's permission model, file system and children only. */
  const nodeFlags = async (args: ReadonlyArray<string>) => {
    const printed = await runNode([await npmBin(), "permissions", ...args, "--runtime", "node"])
    assert.equal(printed.code, 0, printed.stderr)
    const flags = printed.stdout.trim().split(" ")
    assert.equal(flags[0], "--experimental-permission")
    assert.ok(flags.slice(1).every((f) => /^--allow-fs-(read|write)=/.test(f)), printed.stdout)
    return flags
  }

  it("the npm bin's token and exec-credential run under Node's permission model with the flags of --runtime node", {
    timeout: 300_000,
  }, async () => {
    const flags = await nodeFlags(["--kubeconfig", fixture.kubeconfig])
    assert.ok(flags.slice(1).every((f) => f.startsWith("--allow-fs-read=")), flags.join(" "))
    const args = [await npmBin(), "token", "default", "--kubeconfig", fixture.kubeconfig]
    const result = await runNode([...flags, ...args])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /^eyJ/)
    const denied = await runNode([...flags.filter((f) => !f.endsWith(fixture.kubeconfig)), ...args])
    assert.notEqual(denied.code, 0)
    // exec-credential and its cache, which it writes as a private file: a miss, then a hit.
    const cache = nodePath.join(fs.mkdtempSync(nodePath.join(fixture.dir, "node-cache-")), "cache")
    const cacheArgs = ["--kubeconfig", fixture.kubeconfig, "--cache-dir", cache]
    const execFlags = await nodeFlags([...cacheArgs, "--for", "exec-credential"])
    for (let i = 0; i < 2; i++) {
      const credential = await runNode([...execFlags, await npmBin(), "exec-credential", "default", ...cacheArgs])
      assert.equal(credential.code, 0, credential.stderr)
      assert.equal(JSON.parse(credential.stdout).kind, "ExecCredential")
    }
    // one entry, and the kubeconfig context's namespace, remembered for the next call
    assert.deepEqual(cacheFiles(cache), [".json", ".ns.json"])
  })

  it("the npm bin's agent, unix and TCP endpoint, and exec-credential asking it, run under Node's permission model", {
    timeout: 300_000,
  }, async () => {
    const bin = await npmBin()
    for (const endpoint of ["unix", "tcp"] as const) {
      const { dir, config } = await agentConfig(fixture.dir, fixture.kubeconfig, endpoint)
      const flags = await nodeFlags(["--config", config])
      const tokens = `${nodePath.join(dir, "tokens")}/*`
      const written = flags.filter((f) => f.startsWith("--allow-fs-write=")).map((f) => f.split("=")[1]!)
      assert.deepEqual(written, [endpoint === "unix" ? `${dir}/*` : tokens])
      const agent = startAgent(flags, config, ["/usr/bin/env", "node", ...flags, bin])
      const file = nodePath.join(dir, "tokens", "default")
      try {
        await waitFor(() => fs.existsSync(file) || agent.stderr().includes("error"), "the token file", agent.stderr)
        assert.ok(fs.existsSync(file), agent.stderr())
        assert.equal(fs.statSync(file).mode & 0o7777, 0o600)
        assert.match(fs.readFileSync(file, "utf8"), /^eyJ/)
        const execFlags = await nodeFlags(["--config", config, "--for", "exec-credential"])
        assertCredential(await runNode([...execFlags, bin, ...askAgent(config)]))
        if (endpoint === "unix") {
          // The socket answer: the socket is read (its owner checked), never written; nothing else of the agent's.
          const socket = nodePath.join(dir, "agent.sock")
          const socketArgs = ["exec-credential", "--name", "default", "--socket", socket]
          const socketFlags = await nodeFlags(socketArgs.slice(1))
          assert.ok(socketFlags.includes(`--allow-fs-read=${socket}`), socketFlags.join(" "))
          assert.ok(!socketFlags.some((f) => f.startsWith("--allow-fs-write=")), socketFlags.join(" "))
          assert.ok(!socketFlags.some((f) => f.includes(config)), socketFlags.join(" "))
          assertCredential(await runNode([...socketFlags, bin, ...socketArgs]))
          const denied = await runNode([...socketFlags.filter((f) => !f.endsWith(socket)), bin, ...socketArgs])
          assert.notEqual(denied.code, 0)
          assert.match(
            denied.stderr,
            new RegExp(`cannot check who owns the socket: cannot stat ${socket}: ERR_ACCESS_DENIED`),
          )
        }
      } finally {
        const code = await agent.stop()
        assert.equal(code, 0, agent.stderr())
      }
      assert.doesNotMatch(agent.stderr(), /error|ERR_ACCESS_DENIED/)
      assert.deepEqual(fs.readdirSync(nodePath.dirname(file)), ["default"])
    }
  })
})
