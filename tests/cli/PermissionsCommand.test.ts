/**
 * `sa-token permissions` and least privilege on Deno: the flags it prints (pure rendering), then `token`, `agent`
 * (unix and TCP endpoints) and `exec-credential` run by Deno under exactly those flags, with no `-A`, against the
 * development API server (in this process); each flag left out gives its one-line message and exit code 77. The
 * spawning part runs under Node only (it spawns Deno itself).
 */
import assert from "node:assert/strict"
import { execFile, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as nodePath from "node:path"
import process from "node:process"
import { describe, it } from "node:test"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Permissions from "../../adapters/cli/Permissions.ts"
import * as PermissionsCommand from "../../adapters/cli/PermissionsCommand.ts"
import { permissionExitCode } from "../../adapters/cli/MissingPermission.ts"
import { runtime } from "../_support/runtime.ts"
import { suiteServer } from "../_support/devserver.ts"
import { main, root } from "../_support/agentProcess.ts"

describe("permission flags", () => {
  it("renders Deno's and Node's flags, nothing broader than the needs", () => {
    const needs: Permissions.Needs = {
      ...Permissions.none,
      read: ["/c/agent.yaml", "/c/tokens"],
      write: ["/c/tokens"],
      net: ["127.0.0.1:6443"],
      env: ["HOME"],
      run: ["kubelogin"],
      sys: ["uid", "getegid"],
    }
    assert.deepEqual(Permissions.render(needs, "deno"), [
      "--allow-read=/c/agent.yaml,/c/tokens",
      "--allow-write=/c/tokens",
      "--allow-net=127.0.0.1:6443",
      "--allow-env=HOME",
      "--allow-sys=uid,getegid",
      "--allow-run=kubelogin",
    ])
    assert.deepEqual(Permissions.render(needs, "node"), [
      "--experimental-permission",
      "--allow-fs-read=/c/agent.yaml",
      "--allow-fs-read=/c/tokens/*",
      "--allow-fs-write=/c/tokens/*",
      "--allow-child-process",
    ])
    // Node 20 refuses a granted directory itself when a directory inside it is granted too: only the outer one is named.
    const nested: Permissions.Needs = {
      ...Permissions.none,
      read: ["/c/agent.yaml", "/c/kubeconfig", "/etc/ca.crt", "/d"],
      write: ["/c/tokens", "/c", "/d/"],
    }
    assert.deepEqual(Permissions.render(nested, "node", "/pkg"), [
      "--experimental-permission",
      "--allow-fs-read=/pkg/*",
      "--allow-fs-read=/etc/ca.crt",
      "--allow-fs-read=/c/*",
      "--allow-fs-read=/d/*",
      "--allow-fs-write=/c/*",
      "--allow-fs-write=/d/*",
    ])
    assert.deepEqual(Permissions.render(Permissions.none, "deno"), [])
    assert.equal(Permissions.hostPort("https://10.0.0.1"), "10.0.0.1:443")
    assert.equal(Permissions.hostPort("https://[::1]:6443/"), "[::1]:6443")
  })

  it("names the flag a Deno permission error asks for", () => {
    const cases: ReadonlyArray<readonly [string, string | undefined]> = [
      ['Requires net access to "127.0.0.1:6443", run again with the --allow-net flag', "--allow-net=127.0.0.1:6443"],
      [
        'cannot parse YAML: Requires env access to "LOG_TOKENS", run again with the --allow-env flag',
        "--allow-env=LOG_TOKENS",
      ],
      ["Requires env access, run again with the --allow-env flag", "--allow-env"],
      ['Requires read access to "/a b/c", run again with the --allow-read flag', "--allow-read=/a b/c"],
      ["no such file or directory", undefined],
    ]
    for (const [message, flag] of cases) assert.equal(Permissions.missingFlag(message), flag)
  })
})

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const deno = nodePath.join(root, "node_modules", ".bin", "deno")
const run = (args: ReadonlyArray<string>, cwd = root): Promise<Run> =>
  new Promise((resolve) =>
    execFile(
      deno,
      [...args],
      { cwd, maxBuffer: 1 << 28 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    )
  )

const flagsFor = (flags: Partial<PermissionsCommand.PermissionsFlags>): Promise<ReadonlyArray<string>> =>
  PermissionsCommand.compute({
    config: Option.none(),
    kubeconfig: Option.none(),
    context: Option.none(),
    cacheDir: Option.none(),
    for: "auto",
    runtime: "deno",
    ...flags,
  }).pipe(Effect.provide(NodeContext.layer), Effect.runPromise)

const waitFor = async (condition: () => boolean, what: string, output: () => string = () => "") => {
  for (let i = 0; i < 6000; i++) {
    if (condition()) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`timed out waiting for ${what}\n${output()}`)
}

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

/** The agent under Deno with `flags` (or `command` and its arguments); resolves its exit once `stop` was called. */
const startAgent = (
  flags: ReadonlyArray<string>,
  config: string,
  command: ReadonlyArray<string> = [deno, "run", ...flags, main],
) => {
  const child = spawn(command[0]!, [...command.slice(1), "agent", "--config", config], {
    stdio: ["ignore", "pipe", "pipe"],
  })
  let stderr = ""
  child.stderr!.on("data", (chunk) => (stderr += String(chunk)))
  child.stdout!.resume()
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  return {
    stderr: () => stderr,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM")
      return exited
    },
  }
}

describe("least privilege on Deno", { skip: runtime !== "node" }, () => {
  const fixture = suiteServer("perm-cli-")
  const server = () => Permissions.hostPort(fixture.server.kubeconfig.match(/server: (\S+)/)![1]!)!

  /** A directory holding an agent config: one token file under `tokens/`, a unix or TCP endpoint. */
  const agentConfig = async (endpoint: "unix" | "tcp") => {
    const dir = fs.mkdtempSync(nodePath.join(fixture.dir, `agent-${endpoint}-`))
    const config = nodePath.join(dir, "agent.yaml")
    const address = endpoint === "unix"
      ? `{ unix: { path: ${nodePath.join(dir, "agent.sock")} } }`
      : `{ tcp: { address: "127.0.0.1:${await freePort()}", bearerToken: "${"0123456789abcdef".repeat(2)}" } }`
    fs.writeFileSync(
      config,
      [
        `cluster: { kubeconfig: ${fixture.kubeconfig} }`,
        "tokens:",
        "  - { name: default, namespace: default, serviceAccount: default, file: { path: tokens/default } }",
        `endpoint: ${address}`,
      ].join("\n"),
      { mode: 0o600 },
    )
    return { dir, config }
  }

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
    const ok = await run(["run", ...flags, ...args])
    assert.equal(ok.code, 0, ok.stderr)
    assert.match(ok.stdout, /^eyJ/)
    assert.equal(ok.stderr, "")
    const printed = await run(["run", "-A", main, "permissions", "--kubeconfig", fixture.kubeconfig])
    assert.equal(printed.stdout, `${flags.join(" ")}\n`)
    const expected: Record<string, RegExp> = {
      "--allow-read": new RegExp(`^missing Deno permission: --allow-read=${fixture.kubeconfig}\n$`),
      "--allow-net": new RegExp(`^missing Deno permission: --allow-net=${server()}\n$`),
      "--allow-env": /^missing Deno permission: --allow-env=\w+\n$/,
    }
    for (const flag of flags) {
      const name = flag.split("=")[0]!
      const missing = await run(["run", ...flags.filter((f) => f !== flag), ...args])
      assert.equal(missing.code, permissionExitCode, missing.stderr)
      assert.match(missing.stderr, expected[name]!)
    }
  })

  it("the agent on a unix and on a TCP endpoint, and exec-credential asking it, run under their printed flags", {
    timeout: 300_000,
  }, async () => {
    for (const endpoint of ["unix", "tcp"] as const) {
      const { dir, config } = await agentConfig(endpoint)
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
        const credential = await run([
          "run",
          ...execFlags,
          main,
          "exec-credential",
          "--config",
          config,
          "--name",
          "default",
        ])
        assert.equal(credential.code, 0, credential.stderr)
        assert.equal(JSON.parse(credential.stdout).kind, "ExecCredential")
      } finally {
        const code = await agent.stop()
        assert.equal(code, 0, agent.stderr())
      }
      assert.doesNotMatch(agent.stderr(), /missing Deno permission|error/)
      // Without the config's read permission: the missing flag, not a bad config (exit 2).
      const noRead = await run([
        "run",
        ...flags.filter((f) => !f.startsWith("--allow-read")),
        main,
        "agent",
        "--config",
        config,
      ])
      assert.equal(noRead.code, permissionExitCode, noRead.stderr)
      assert.match(noRead.stderr, /^missing Deno permission: --allow-read=\S+\n$/m)
      // Without net: the endpoint cannot listen (on Deno, thrown outside any effect), named the same way.
      const noNet = await run([
        "run",
        ...flags.filter((f) => !f.startsWith("--allow-net")),
        main,
        "agent",
        "--config",
        config,
      ])
      assert.equal(noNet.code, permissionExitCode, noNet.stderr)
      assert.match(noNet.stderr, /^missing Deno permission: --allow-net=\S+\n$/m)
      // Without write: the token directory is named at the start, not logged on every refresh.
      const noWrite = await run([
        "run",
        ...flags.filter((f) => !f.startsWith("--allow-write")),
        main,
        "agent",
        "--config",
        config,
      ])
      assert.equal(noWrite.code, permissionExitCode, noWrite.stderr)
      assert.equal(noWrite.stderr, `missing Deno permission: --allow-write=${nodePath.join(dir, "tokens")}\n`)
    }
  })

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
      const result = await run(["run", ...flags, ...args])
      assert.equal(result.code, 0, result.stderr)
      assert.equal(JSON.parse(result.stdout).kind, "ExecCredential")
    }
    assert.equal(fs.readdirSync(cache).length, 1)
  })

  /** The bin as npm installs it, built once: a bundle two levels below the package's root, its dependencies in node_modules. */
  let built: Promise<string> | undefined
  const npmBin = () =>
    built ??= (async () => {
      const installed = fs.mkdtempSync(nodePath.join(fixture.dir, "npm-"))
      fs.symlinkSync(nodePath.join(root, "node_modules"), nodePath.join(installed, "node_modules"))
      const bin = nodePath.join(installed, "dist", "bin")
      await new Promise<void>((resolve, reject) =>
        execFile(
          "bash",
          [nodePath.join(root, "scripts", "build-bin.sh"), bin],
          { cwd: root },
          (error) => error ? reject(error) : resolve(),
        )
      )
      return nodePath.join(bin, "sa-token.js")
    })()
  const node = (args: ReadonlyArray<string>) =>
    new Promise<Run>((resolve) =>
      execFile(
        "/usr/bin/env",
        ["node", ...args],
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      )
    )
  /** The flags `permissions --runtime node` prints for `args`: Node's permission model, file system and children only. */
  const nodeFlags = async (args: ReadonlyArray<string>) => {
    const printed = await node([await npmBin(), "permissions", ...args, "--runtime", "node"])
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
    const result = await node([...flags, ...args])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /^eyJ/)
    const denied = await node([...flags.filter((f) => !f.endsWith(fixture.kubeconfig)), ...args])
    assert.notEqual(denied.code, 0)
    // exec-credential and its cache, which it writes as a private file: a miss, then a hit.
    const cache = nodePath.join(fs.mkdtempSync(nodePath.join(fixture.dir, "node-cache-")), "cache")
    const cacheArgs = ["--kubeconfig", fixture.kubeconfig, "--cache-dir", cache]
    const execFlags = await nodeFlags([...cacheArgs, "--for", "exec-credential"])
    for (let i = 0; i < 2; i++) {
      const credential = await node([...execFlags, await npmBin(), "exec-credential", "default", ...cacheArgs])
      assert.equal(credential.code, 0, credential.stderr)
      assert.equal(JSON.parse(credential.stdout).kind, "ExecCredential")
    }
    assert.equal(fs.readdirSync(cache).length, 1)
  })

  it("the npm bin's agent, unix and TCP endpoint, and exec-credential asking it, run under Node's permission model", {
    timeout: 300_000,
  }, async () => {
    const bin = await npmBin()
    for (const endpoint of ["unix", "tcp"] as const) {
      const { dir, config } = await agentConfig(endpoint)
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
        const credential = await node([...execFlags, bin, "exec-credential", "--config", config, "--name", "default"])
        assert.equal(credential.code, 0, credential.stderr)
        assert.equal(JSON.parse(credential.stdout).kind, "ExecCredential")
      } finally {
        const code = await agent.stop()
        assert.equal(code, 0, agent.stderr())
      }
      assert.doesNotMatch(agent.stderr(), /error|ERR_ACCESS_DENIED/)
      assert.deepEqual(fs.readdirSync(nodePath.dirname(file)), ["default"])
    }
  })

  /**
   * The package as JSR serves it, in a local directory: the files `deno publish` would upload, with each bare specifier
   * rewritten as publishing rewrites it (its debug log names each one), and no configuration: Deno applies none of a
   * remote package's, and fetches its npm dependencies into its own cache.
   */
  let mirrored: Promise<{ readonly mirror: string; readonly entry: string }> | undefined
  const jsrMirror = () =>
    mirrored ??= (async () => {
      const dry = await run(["publish", "--dry-run", "--allow-dirty", "--log-level=debug"])
      assert.equal(dry.code, 0, dry.stderr)
      const output = `${dry.stdout}\n${dry.stderr}`
      const files = [...output.matchAll(/file:\/\/(\S+) \(/g)].map((m) => m[1]!)
      const entry = JSON.parse(fs.readFileSync(nodePath.join(root, "deno.json"), "utf8")).exports["./cli"]
      assert.ok(files.includes(nodePath.join(root, entry)), `${entry} is published`)
      const rewrites = new Map<string, Array<readonly [string, string]>>()
      for (
        const [, specifier, referrer, target] of output.matchAll(
          /Unfurled specifier: (\S+) from file:\/\/(\S+) -> (\S+)/g,
        )
      ) {
        rewrites.set(referrer!, [...(rewrites.get(referrer!) ?? []), [specifier!, target!]])
      }
      assert.ok(rewrites.has(nodePath.join(root, "adapters", "cli", "Cli.ts")), "publishing rewrites bare specifiers")
      const mirror = fs.mkdtempSync(nodePath.join(fixture.dir, "jsr-"))
      for (const file of files) {
        if (nodePath.basename(file) === "deno.json") continue
        const target = nodePath.join(mirror, nodePath.relative(root, file))
        fs.mkdirSync(nodePath.dirname(target), { recursive: true })
        let text = fs.readFileSync(file, "utf8")
        for (const [specifier, unfurled] of rewrites.get(file) ?? []) {
          const quoted = JSON.stringify(specifier).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")
          text = text.replace(
            new RegExp(`((?:from|import)\\s*\\(?\\s*)${quoted}`, "g"),
            `$1${JSON.stringify(unfurled)}`,
          )
        }
        fs.writeFileSync(target, text)
      }
      return { mirror, entry }
    })()

  it(
    "the ./cli export, as JSR serves it, is the runnable CLI under the printed flags",
    { timeout: 300_000 },
    async () => {
      const { mirror, entry } = await jsrMirror()
      assert.doesNotMatch(
        fs.readFileSync(nodePath.join(mirror, "adapters", "cli", "Cli.ts"), "utf8"),
        /^import .* from "effect\//m,
      )
      const flags = await flagsFor({ kubeconfig: Option.some(fixture.kubeconfig) })
      const result = await run(["run", ...flags, entry, "token", "default", "--kubeconfig", fixture.kubeconfig], mirror)
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, /^eyJ/)
    },
  )

  it("deno install -g of the ./cli export installs sa-token with the printed flags, and it runs", {
    timeout: 300_000,
  }, async () => {
    const { mirror, entry } = await jsrMirror()
    const flags = await flagsFor({ kubeconfig: Option.some(fixture.kubeconfig) })
    const installRoot = fs.mkdtempSync(nodePath.join(fixture.dir, "install-"))
    const installed = await run(
      ["install", "-g", "--quiet", "--root", installRoot, "-n", "sa-token", ...flags, nodePath.join(mirror, entry)],
      fixture.dir,
    )
    assert.equal(installed.code, 0, installed.stderr)
    const script = nodePath.join(installRoot, "bin", "sa-token")
    const text = fs.readFileSync(script, "utf8")
    assert.doesNotMatch(text, /(^|\s)-A(\s|$)|--allow-all/)
    for (const flag of flags) assert.ok(text.includes(flag), `${flag} in ${text}`)
    // The installed script runs the `deno` found in PATH.
    const sa = (args: ReadonlyArray<string>) =>
      new Promise<Run>((resolve) =>
        execFile(
          script,
          [...args],
          { cwd: fixture.dir, env: { ...process.env, PATH: `${nodePath.dirname(deno)}:${process.env.PATH ?? ""}` } },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        )
      )
    const token = await sa(["token", "default", "--kubeconfig", fixture.kubeconfig])
    assert.equal(token.code, 0, token.stderr)
    assert.match(token.stdout, /^eyJ/)
    const printed = await sa(["permissions", "--kubeconfig", fixture.kubeconfig])
    assert.equal(printed.code, 0, printed.stderr)
    assert.equal(printed.stdout, `${flags.join(" ")}\n`)
  })
})
