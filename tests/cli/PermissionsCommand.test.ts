/**
 * Least privilege on Deno: `token`, `agent` (unix and TCP endpoints) and `exec-credential` run by Deno under exactly the
 * flags `sa-token permissions` prints, with no `-A`, against the development API server (in this process); each flag
 * left out gives its one-line message and exit code 77. Runs under Node only (it spawns Deno itself).
 */
import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import { describe, it } from "node:test"
import * as Option from "effect/Option"
import * as Permissions from "../../adapters/cli/Permissions.ts"
import type * as PermissionsCommand from "../../adapters/cli/PermissionsCommand.ts"
import { permissionExitCode } from "../../adapters/cli/MissingPermission.ts"
import { runtime } from "../_support/runtime.ts"
import { suiteServer } from "../_support/devserver.ts"
import { main } from "../_support/agentProcess.ts"
import { withSocketBehindTwoLinks } from "../_support/links.ts"
import {
  agentConfig,
  askAgent,
  assertCredential,
  cacheFiles,
  flagsFor,
  runDeno,
  startAgent,
  waitFor,
} from "../_support/permissions.ts"

describe("least privilege on Deno", { skip: runtime !== "node" }, () => {
  const fixture = suiteServer("perm-cli-")
  const server = () => Permissions.hostPort(fixture.server.kubeconfig.match(/server: (\S+)/)![1]!)!

  it("an owner or group given by name adds the account database to what the agent reads", async () => {
    const { dir, config } = await agentConfig(fixture.dir, fixture.kubeconfig, "tcp")
    const read = async () =>
      (await flagsFor({ config: Option.some(config) })).find((f) => f.startsWith("--allow-read="))!
    assert.doesNotMatch(await read(), /\/etc\/passwd/)
    fs.writeFileSync(
      config,
      fs.readFileSync(config, "utf8").replace(
        "file: { path: tokens/default }",
        "file: { path: tokens/default, group: root }",
      ),
    )
    assert.equal(
      await read(),
      `--allow-read=${fixture.kubeconfig},${config},/etc/passwd,/etc/group,${nodePath.join(dir, "tokens")}`,
    )
  })

  it("refuses a config whose token directory lies below a directory other users can write", async () => {
    // Under the printed flags the agent may not look above its own directories; permissions makes that check for it.
    const open = fs.mkdtempSync(nodePath.join(fixture.dir, "open-"))
    fs.chmodSync(open, 0o777)
    const { config } = await agentConfig(open, fixture.kubeconfig, "tcp")
    await assert.rejects(flagsFor({ config: Option.some(config) }), (error: Error) => {
      assert.match(error.message, new RegExp(`${open} is writable by every user`))
      return true
    })
    fs.chmodSync(open, 0o755)
    assert.ok((await flagsFor({ config: Option.some(config) })).length > 0)
  })

  it("token runs under exactly the printed flags; each flag left out is named on one line, exit 77", {
    timeout: 300_000,
  }, async () => {
    const flags = await flagsFor({ kubeconfig: Option.some(fixture.kubeconfig) })
    assert.deepEqual(flags, [
      `--allow-read=${fixture.kubeconfig}`,
      `--allow-net=${server()}`,
      `--allow-env=${[...Permissions.environmentVariables, ...Permissions.yamlVariables].join(",")}`,
    ])
    const args = [main, "token", "default", "--kubeconfig", fixture.kubeconfig]
    const ok = await runDeno(["run", ...flags, ...args])
    assert.equal(ok.code, 0, ok.stderr)
    assert.match(ok.stdout, /^eyJ/)
    assert.equal(ok.stderr, "")
    const printed = await runDeno(["run", "-A", main, "permissions", "--kubeconfig", fixture.kubeconfig])
    assert.equal(printed.stdout, `${flags.join(" ")}\n`)
    const expected: Record<string, RegExp> = {
      "--allow-read": new RegExp(`^missing Deno permission: --allow-read=${fixture.kubeconfig}\n$`),
      "--allow-net": new RegExp(`^missing Deno permission: --allow-net=${server()}\n$`),
      "--allow-env": /^missing Deno permission: --allow-env=\w+\n$/,
    }
    for (const flag of flags) {
      const name = flag.split("=")[0]!
      const missing = await runDeno(["run", ...flags.filter((f) => f !== flag), ...args])
      assert.equal(missing.code, permissionExitCode, missing.stderr)
      assert.match(missing.stderr, expected[name]!)
    }
  })

  it("the agent on a unix and on a TCP endpoint, and exec-credential asking it, run under their printed flags", {
    timeout: 300_000,
  }, async () => {
    for (const endpoint of ["unix", "tcp"] as const) {
      const { dir, config } = await agentConfig(fixture.dir, fixture.kubeconfig, endpoint)
      const flags = await flagsFor({ config: Option.some(config) })
      assert.ok(flags.includes("--allow-sys=uid,getegid"), flags.join(" "))
      assert.ok(!flags.some((f) => f.startsWith("--allow-run")), flags.join(" "))
      const agent = startAgent(flags, config)
      try {
        const file = nodePath.join(dir, "tokens", "default")
        await waitFor(() => fs.existsSync(file) || agent.stderr().includes("error"), "the token file")
        assert.ok(fs.existsSync(file), agent.stderr())
        await waitFor(() => agent.stderr().includes("token refreshed"), "the log line")
        const execFlags = await flagsFor({ config: Option.some(config), for: "exec-credential" })
        assertCredential(await runDeno(["run", ...execFlags, main, ...askAgent(config)]))
      } finally {
        const code = await agent.stop()
        assert.equal(code, 0, agent.stderr())
      }
      assert.doesNotMatch(agent.stderr(), /missing Deno permission|error/)
      /** The agent run with every printed flag but the `--allow-…` ones named `flag`. */
      const without = (flag: string) =>
        runDeno(["run", ...flags.filter((f) => !f.startsWith(flag)), main, "agent", "--config", config])
      // Without the config's read permission: the missing flag, not a bad config (exit 2).
      const noRead = await without("--allow-read")
      assert.equal(noRead.code, permissionExitCode, noRead.stderr)
      assert.match(noRead.stderr, /^missing Deno permission: --allow-read=\S+\n$/m)
      // Without net: the endpoint cannot listen (on Deno, thrown outside any effect), named the same way.
      const noNet = await without("--allow-net")
      assert.equal(noNet.code, permissionExitCode, noNet.stderr)
      assert.match(noNet.stderr, /^missing Deno permission: --allow-net=\S+\n$/m)
      // Without write: the token directory is named at the start, not logged on every refresh.
      const noWrite = await without("--allow-write")
      assert.equal(noWrite.code, permissionExitCode, noWrite.stderr)
      assert.equal(noWrite.stderr, `missing Deno permission: --allow-write=${nodePath.join(dir, "tokens")}\n`)
    }
  })

  it("exec-credential asking the agent's socket, as given and through a link, runs under its printed flags", {
    timeout: 300_000,
  }, async () => {
    const { dir, config } = await agentConfig(fixture.dir, fixture.kubeconfig, "unix")
    const agent = startAgent(await flagsFor({ config: Option.some(config) }), config)
    try {
      await waitFor(() => /token refreshed|error/.test(agent.stderr()), "the agent's first token", agent.stderr)
      const socket = nodePath.join(dir, "agent.sock")
      const link = nodePath.join(dir, "link.sock")
      fs.symlinkSync(socket, link)
      for (const path of [socket, link]) {
        const flags = await flagsFor({ name: Option.some("default"), socket: Option.some(path) })
        // No kubeconfig, no cache, no environment: the socket, every link on its way, and its owner's check.
        assert.deepEqual(flags, [
          `--allow-read=${path === link ? `${link},${socket}` : socket}`,
          `--allow-write=${socket}`,
          `--allow-net=unix:${socket}`,
          "--allow-sys=uid,getegid",
        ])
        const args = [main, "exec-credential", "--name", "default", "--socket", path]
        const ok = await runDeno(["run", "--no-prompt", ...flags, ...args])
        assertCredential(ok)
        assert.equal(ok.stderr, "")
        // Each path left out of the read permission is named: the check cannot tell who owns the socket.
        const reads = flags[0]!.slice("--allow-read=".length).split(",")
        for (const read of reads) {
          const rest = reads.filter((r) => r !== read)
          const missing = await runDeno([
            "run",
            "--no-prompt",
            ...(rest.length > 0 ? [`--allow-read=${rest.join(",")}`] : []),
            ...flags.slice(1),
            ...args,
          ])
          assert.equal(missing.code, permissionExitCode, missing.stderr)
          assert.equal(missing.stderr, `missing Deno permission: --allow-read=${read}\n`)
        }
        for (const flag of flags.filter((f) => /^--allow-(write|net)=/.test(f))) {
          const missing = await runDeno(["run", "--no-prompt", ...flags.filter((f) => f !== flag), ...args])
          assert.equal(missing.code, permissionExitCode, `${flag}: ${missing.stderr}`)
          assert.match(missing.stderr, /^missing Deno permission: --allow-\w+=\S+\n$/, flag)
        }
      }
      // A --socket-owner name is looked up in the account database; a uid needs no lookup.
      for (const [owner, read] of [["0", socket], ["root", `${socket},/etc/passwd,/etc/group`]] as const) {
        const owned = await flagsFor({
          name: Option.some("default"),
          socket: Option.some(socket),
          socketOwner: Option.some(owner),
        })
        assert.equal(owned[0], `--allow-read=${read}`)
        const asked = ["exec-credential", "--name", "default", "--socket", socket, "--socket-owner", owner]
        assertCredential(await runDeno(["run", "--no-prompt", ...owned, main, ...asked]))
      }
    } finally {
      const code = await agent.stop()
      assert.equal(code, 0, agent.stderr())
    }
  })

  it("refuses to print flags for a socket another user could have put there, or a command line exec-credential refuses", async () => {
    const socket = nodePath.join(fixture.dir, "absent.sock")
    const refused = (flags: Partial<PermissionsCommand.PermissionsFlags>, message: RegExp) =>
      assert.rejects(
        flagsFor({ name: Option.some("default"), socket: Option.some(socket), ...flags }),
        (error: Error) => {
          assert.match(error.message, message)
          return true
        },
      )
    await refused({ for: "agent" }, /--name, --socket and --socket-owner are flags of --for exec-credential/)
    await refused(
      { socketOwner: Option.some("no-such-user-here") },
      /--socket-owner: no user named "no-such-user-here"/,
    )
    // Nothing there yet (the agent is not started): the path as given is granted.
    assert.equal((await flagsFor({ socket: Option.some(socket) }))[0], `--allow-read=${socket}`)
    const open = fs.mkdtempSync(nodePath.join(fixture.dir, "open-socket-"))
    fs.chmodSync(open, 0o777)
    await withSocketBehindTwoLinks(open, async (link) => {
      await assert.rejects(
        flagsFor({ name: Option.some("default"), socket: Option.some(link) }),
        (error: Error) => {
          assert.match(error.message, new RegExp(`${open} is writable by every user`))
          return true
        },
      )
    })
  })

  it(
    "token with an exec plugin runs under its printed flags: the plugin is named, the environment it inherits granted",
    {
      timeout: 300_000,
    },
    async () => {
      const field = (name: string) => fixture.server.kubeconfig.match(new RegExp(`${name}: (\\S+)`))![1]!
      const pem = (name: string) => Buffer.from(field(name), "base64").toString("utf8")
      const dir = fs.mkdtempSync(nodePath.join(fixture.dir, "exec-"))
      // The plugin hands out the admin's client certificate, as a plugin of a real cluster would hand out a credential.
      const credential = nodePath.join(dir, "credential.json")
      fs.writeFileSync(
        credential,
        JSON.stringify({
          apiVersion: "client.authentication.k8s.io/v1",
          kind: "ExecCredential",
          status: { clientCertificateData: pem("client-certificate-data"), clientKeyData: pem("client-key-data") },
        }),
      )
      const plugin = nodePath.join(dir, "plugin.sh")
      fs.writeFileSync(plugin, `#!/bin/sh\ncat ${credential}\n`, { mode: 0o755 })
      const kubeconfig = nodePath.join(dir, "kubeconfig")
      fs.writeFileSync(
        kubeconfig,
        [
          "apiVersion: v1",
          "kind: Config",
          `clusters: [{ name: dev, cluster: { server: "${field("server")}", certificate-authority-data: ${
            field("certificate-authority-data")
          } } }]`,
          "users: [{ name: plugin, user: { exec: { apiVersion: client.authentication.k8s.io/v1, command: ./plugin.sh, " +
          "interactiveMode: Never } } }]",
          "contexts: [{ name: dev, context: { cluster: dev, user: plugin } }]",
          "current-context: dev",
        ].join("\n"),
      )
      const flags = await flagsFor({ kubeconfig: Option.some(kubeconfig) })
      assert.deepEqual(flags, [
        `--allow-read=${kubeconfig}`,
        `--allow-net=${server()}`,
        "--allow-env",
        `--allow-run=${plugin}`,
      ])
      const args = [main, "token", "default", "--kubeconfig", kubeconfig]
      const ok = await runDeno(["run", ...flags, ...args])
      assert.equal(ok.code, 0, ok.stderr)
      assert.match(ok.stdout, /^eyJ/)
      const noRun = await runDeno(["run", ...flags.filter((f) => !f.startsWith("--allow-run")), ...args])
      assert.equal(noRun.code, permissionExitCode, noRun.stderr)
      assert.match(noRun.stderr, /^missing Deno permission: --allow-run=\S*plugin\.sh\n$/)
    },
  )

  it("exec-credential with a kubeconfig and its cache runs under its printed flags, twice (miss, then hit)", {
    timeout: 300_000,
  }, async () => {
    const cache = nodePath.join(fixture.dir, "cache")
    const flags = await flagsFor({
      kubeconfig: Option.some(fixture.kubeconfig),
      cacheDir: Option.some(cache),
      for: "exec-credential",
    })
    assert.ok(flags.includes(`--allow-write=${cache}`), flags.join(" "))
    const args = [main, "exec-credential", "default", "--kubeconfig", fixture.kubeconfig, "--cache-dir", cache]
    for (let i = 0; i < 2; i++) {
      const result = await runDeno(["run", ...flags, ...args])
      assert.equal(result.code, 0, result.stderr)
      assert.equal(JSON.parse(result.stdout).kind, "ExecCredential")
    }
    // one entry, and the kubeconfig context's namespace, remembered for the next call
    assert.deepEqual(cacheFiles(cache), [".json", ".ns.json"])
  })
})
