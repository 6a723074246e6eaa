/**
 * A hostile local user against the agent's files, as root would run the agent: a symlink swapped over the temporary
 * token file, directories other users can write, a planted token for the agent to adopt, planted exec-credential
 * cache entries, token paths that name the config file or another token's file, unknown owners, full and read-only
 * file systems. Each test performs the attack and checks what the agent does about it. Tests that need root (chown to
 * another user, mounts) or a second local user (created as `satk-fs-*` and removed) are skipped otherwise.
 */
import assert from "node:assert/strict"
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import process from "node:process"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as Adopt from "../../adapters/agent/Adopt.ts"
import * as Config from "../../adapters/agent/Config.ts"
import type { FileSinkSpec } from "../../adapters/agent/Config.ts"
import * as ExecCredential from "../../adapters/agent/ExecCredential.ts"
import * as FileSink from "../../adapters/agent/FileSink.ts"
import type { SinkError } from "../../adapters/agent/FileSink.ts"
import * as Scheduler from "../../adapters/agent/Scheduler.ts"
import * as NodePrivateFile from "../../adapters/platform/NodePrivateFile.ts"
import * as PrivateFile from "../../adapters/platform/PrivateFile.ts"
import * as TokenFetcher from "../../core/TokenFetcher.ts"
import * as TokenManager from "../../core/TokenManager.ts"
import { cacheKey } from "../../core/TokenRequest.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import { fakeFetcher, issued, minute, runTest, setTime, tokenOf } from "../_support/harness.ts"
import { epoch, issuer, jwt, spec, tempDir, until } from "../_support/agent.ts"
import { race, snapshot, victimFile } from "../_support/attacks.ts"
import { type Platform, platform } from "../_support/platform.ts"
import { spawnsNodeAgent } from "../_support/runtime.ts"
import { needsRoot, needsSecondUser, withUser } from "../_support/users.ts"
import { nodeMain } from "../_support/agentProcess.ts"

const isRoot = process.getuid?.() === 0
/** A uid with no account: root can chown to it, and no process of the test runs as it. */
const stranger = 4242
const far = Date.UTC(2100, 0, 1)

const isSymlink = (path: string): boolean => {
  try {
    return fs.lstatSync(path).isSymbolicLink()
  } catch {
    return false
  }
}
const removeAll = (...paths: ReadonlyArray<string>) => {
  for (const path of paths) fs.rmSync(path, { recursive: true, force: true })
}
const sinkErrorOf = <A>(exit: Exit.Exit<A, SinkError>): SinkError => {
  assert.ok(Exit.isFailure(exit), "expected the write to fail")
  assert.equal(exit.cause._tag, "Fail", String(exit.cause))
  return (exit.cause as { readonly error: SinkError }).error
}

interface Line {
  readonly level: string
  readonly message: string
  readonly annotations: Record<string, unknown>
}
/** A logger that keeps every line. */
const capture = () => {
  const lines: Array<Line> = []
  const layer = Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ logLevel, message, annotations }) => {
      lines.push({
        level: logLevel.label,
        message: String(message),
        annotations: Object.fromEntries(HashMap.toEntries(annotations)),
      })
    }),
  )
  return { lines, layer }
}

/** A manager over `fetcher` and a scheduler applying `specs`, in the test's scope. */
const startAgent = (fetcher: TokenFetcher.TokenFetcher, specs: ReadonlyArray<ReturnType<typeof spec>>) =>
  Effect.gen(function* () {
    const store = yield* Adopt.store(Effect.succeed(specs))
    const manager = yield* TokenManager.make({ gc: false, store }).pipe(
      Effect.provide(Layer.succeed(TokenFetcher.TokenFetcher, fetcher)),
    )
    const scheduler = yield* Scheduler.make().pipe(Effect.provideService(TokenManager.TokenManager, manager))
    yield* scheduler.apply(specs)
    return scheduler
  })

const writeConfig = (dir: string, text: string): string => {
  const file = nodePath.join(dir, "agent.yaml")
  fs.writeFileSync(file, text)
  return file
}
const load = (file: string, options?: Config.LoadOptions) =>
  Effect.runPromise(Config.load(file, options).pipe(Effect.either, Effect.provide(platform)))
const tokenLine = (name: string, file: string) =>
  `  - { name: ${name}, namespace: default, serviceAccount: ${name}, file: { ${file} } }\n`

describe("item 1: a swapped symlink and directories that other users can write", () => {
  for (const at of ["open", "rename"] as const) {
    it(
      `FileSink.write: a symlink renamed over the temporary file ${
        at === "open" ? "after its creation" : "before its rename"
      } redirects no chmod or chown, and no symlink is left at the token path`,
      async () => {
        const dir = tempDir("hostile-sink")
        const victim = victimFile()
        try {
          const target = nodePath.join(dir, "token")
          fs.writeFileSync(target, "old-token", { mode: 0o640 })
          const before = snapshot(victim)
          const attack = race(victim, at)
          // As root, the file goes to another user: the old writer's chown would then have handed the victim to it.
          const sink: FileSinkSpec = { path: target, mode: 0o640, ...(isRoot ? { owner: stranger } : {}) }
          const exit = await Effect.runPromiseExit(
            FileSink.write(sink, Redacted.make("new-token"), far).pipe(Effect.provide(attack.layer)),
          )
          assert.equal(attack.fired(), 1, "the attacker's move did not run")
          assert.deepEqual(snapshot(victim), before, "the symlink's target was changed")
          assert.ok(!isSymlink(target), "the token path is a symlink")
          const error = sinkErrorOf(exit)
          assert.equal(error.operation, "verify")
          assert.match(error.message, /symbolic link/)
          if (at === "open") assert.equal(fs.readFileSync(target, "utf8"), "old-token")
          assert.deepEqual(fs.readdirSync(dir).filter((name) => name !== "token"), [])
        } finally {
          removeAll(dir, nodePath.dirname(victim))
        }
      },
    )
  }

  it("the agent never logs 'token refreshed' for an attacked write, and records the failure", () => {
    const dir = tempDir("hostile-agent")
    const victim = victimFile()
    const before = snapshot(victim)
    const attack = race(victim, "open", Infinity)
    const logs = capture()
    return runTest(
      Effect.gen(function* () {
        yield* setTime(epoch)
        const target = nodePath.join(dir, "token")
        const fake = issuer()
        const scheduler = yield* startAgent(fake.fetcher, [spec("app", { file: { path: target, mode: 0o640 } })])
        yield* until(Effect.map(scheduler.list, (list) => list[0]!.phase !== "pending"), "the first write")
        assert.ok(attack.fired() >= 1)
        assert.deepEqual(snapshot(victim), before)
        assert.ok(!isSymlink(target))
        const status = (yield* scheduler.list)[0]!
        assert.equal(status.phase, "failed")
        assert.match(status.lastError ?? "", /\(verify\)/)
        assert.ok(!logs.lines.some((line) => line.message === "token refreshed"), JSON.stringify(logs.lines))
        assert.ok(logs.lines.some((line) => line.message === "token refresh failed"))
      }).pipe(
        Effect.provide(attack.layer),
        Effect.provide(logs.layer),
        Logger.withMinimumLogLevel(LogLevel.Info),
      ),
    ).finally(() => removeAll(dir, nodePath.dirname(victim)))
  })

  it(
    "a real attacker process, as the token file's owner, racing 300 writes, never reaches a root-only file",
    { skip: needsSecondUser, timeout: 120_000 },
    () =>
      withUser("race", async (user) => {
        const dir = tempDir("hostile-race")
        const victim = victimFile()
        fs.chownSync(dir, user.uid, user.gid)
        const before = snapshot(victim)
        const target = nodePath.join(dir, "token")
        // The attacker lists the directory in a loop and renames a symlink to the victim over every temporary file
        // it sees, until told to stop (or after a bounded number of rounds).
        const attacker = `
          const fs = require("node:fs")
          const [dir, victim] = process.argv.slice(1)
          let swaps = 0
          for (let i = 0; i < 400000 && !fs.existsSync(dir + "/stop"); i++) {
            for (const name of fs.readdirSync(dir)) {
              if (!name.startsWith(".token.") || !name.endsWith(".tmp")) continue
              try { fs.symlinkSync(victim, dir + "/.evil"); fs.renameSync(dir + "/.evil", dir + "/" + name); swaps++ } catch {}
              try { fs.unlinkSync(dir + "/.evil") } catch {}
            }
            if (i === 0) process.stdout.write("ready\\n")
          }
          process.stdout.write("swaps " + swaps + "\\n")
        `
        const child = spawn(user.asUser[0]!, [...user.asUser.slice(1), "/usr/bin/node", "-e", attacker, dir, victim], {
          stdio: ["ignore", "pipe", "pipe"],
        })
        let out = ""
        const ready = new Promise<void>((resolve) =>
          child.stdout.on("data", (chunk) => {
            out += String(chunk)
            if (out.includes("ready")) resolve()
          })
        )
        const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()))
        try {
          await ready
          const sink: FileSinkSpec = { path: target, mode: 0o640, owner: user.uid }
          let failed = 0
          for (let i = 0; i < 300; i++) {
            const exit = await Effect.runPromiseExit(
              FileSink.write(sink, Redacted.make(`token-${i}`), far).pipe(Effect.provide(platform)),
            )
            if (Exit.isFailure(exit)) {
              failed++
              assert.equal(sinkErrorOf(exit).operation, "verify", String(exit.cause))
            } else {
              assert.equal(fs.readFileSync(target, "utf8"), `token-${i}`)
              assert.equal(fs.lstatSync(target).uid, user.uid)
            }
            assert.ok(!isSymlink(target), `the token path became a symlink at write ${i}`)
          }
          fs.writeFileSync(nodePath.join(dir, "stop"), "")
          await exited
          assert.deepEqual(snapshot(victim), before, `the victim changed (${out.trim()}, ${failed} writes refused)`)
        } finally {
          child.kill()
          removeAll(dir, nodePath.dirname(victim))
        }
      }),
  )

  it("FileSink.write refuses a directory that became writable by every user, and a sticky one for another owner", async () => {
    const dir = tempDir("hostile-dir")
    try {
      const sink: FileSinkSpec = { path: nodePath.join(dir, "token"), mode: 0o600 }
      const write = (spec: FileSinkSpec) =>
        Effect.runPromiseExit(FileSink.write(spec, Redacted.make("t"), far).pipe(Effect.provide(platform)))
      fs.chmodSync(dir, 0o777)
      const error = sinkErrorOf(await write(sink))
      assert.equal(error.operation, "directory")
      assert.match(error.message, new RegExp(`${dir} is writable by every user \\(mode 0777\\)`))
      assert.ok(!fs.existsSync(sink.path))
      // Sticky (as /tmp): nobody can rename or remove the agent's own file, so that is accepted.
      fs.chmodSync(dir, 0o1777)
      assert.ok(Exit.isSuccess(await write(sink)))
      if (isRoot) {
        // But a file owned by another user could be renamed away by that user: refused.
        assert.match(sinkErrorOf(await write({ ...sink, owner: stranger })).message, /sticky directory/)
      }
    } finally {
      removeAll(dir)
    }
  })

  it("Config.load refuses a token directory that other users can write, naming it and who can", async () => {
    const dir = tempDir("hostile-config")
    try {
      fs.mkdirSync(nodePath.join(dir, "open"), { mode: 0o777 })
      fs.chmodSync(nodePath.join(dir, "open"), 0o777)
      const file = writeConfig(dir, "tokens:\n" + tokenLine("a", "path: open/a"))
      const refused = await load(file)
      assert.ok(Either.isLeft(refused) && refused.left.reason === "Invalid", String(refused))
      assert.match(
        refused.left.message,
        new RegExp(`tokens\\[0\\]\\.file\\.path: ${dir}/open is writable by every user \\(mode 0777\\)`),
      )
      // exec-credential --config only reads the declarations.
      assert.ok(Either.isRight(await load(file, { writer: false })))
      if (isRoot) {
        fs.chmodSync(nodePath.join(dir, "open"), 0o700)
        fs.chownSync(nodePath.join(dir, "open"), stranger, stranger)
        const foreign = await load(file)
        assert.ok(Either.isLeft(foreign))
        assert.match(foreign.left.message, /open is owned by uid 4242, who can write it/)
        // The token file's own owner may own its directory.
        writeConfig(dir, "tokens:\n" + tokenLine("a", `path: open/a, owner: ${stranger}`))
        assert.ok(Either.isRight(await load(file)))
      }
    } finally {
      removeAll(dir)
    }
  })

  it("Config.load refuses a socket whose directory, or one above it, other users can write", async () => {
    const dir = tempDir("hostile-socket-dir")
    try {
      const open = nodePath.join(dir, "open")
      fs.mkdirSync(open)
      fs.chmodSync(open, 0o777)
      const config = (socket: string) =>
        writeConfig(dir, `endpoint: { unix: { path: ${socket} } }\ntokens:\n` + tokenLine("a", "path: t/a"))
      for (const socket of ["open/agent.sock", "open/run/agent.sock"]) {
        const refused = await load(config(socket))
        assert.ok(Either.isLeft(refused) && refused.left.reason === "Invalid", `${socket}: ${String(refused)}`)
        assert.match(
          refused.left.message,
          new RegExp(`endpoint\\.unix\\.path: ${open} is writable by every user \\(mode 0777\\).*agent's socket`),
        )
        // exec-credential --config only reads the declarations.
        assert.ok(Either.isRight(await load(config(socket), { writer: false })))
      }
      // A sticky directory, as /tmp: only the socket's owner can remove or rename the socket there.
      fs.chmodSync(open, 0o1777)
      for (const socket of ["open/agent.sock", "open/run/agent.sock"]) {
        const accepted = await load(config(socket))
        assert.ok(Either.isRight(accepted), `${socket}: ${String(Either.isLeft(accepted) && accepted.left.message)}`)
      }
    } finally {
      removeAll(dir)
    }
  })

  it(
    "Config.load refuses a group-writable directory whose group has another member",
    { skip: needsSecondUser },
    () =>
      withUser("group", async (user) => {
        const dir = tempDir("hostile-group")
        try {
          const tokens = nodePath.join(dir, "tokens")
          fs.mkdirSync(tokens)
          fs.chownSync(tokens, 0, user.gid)
          fs.chmodSync(tokens, 0o770)
          const file = writeConfig(dir, "tokens:\n" + tokenLine("a", "path: tokens/a"))
          const refused = await load(file)
          assert.ok(Either.isLeft(refused))
          assert.match(
            refused.left.message,
            new RegExp(`writable by group ${user.gid} .*members include uid ${user.uid}`),
          )
          writeConfig(dir, "tokens:\n" + tokenLine("a", `path: tokens/a, owner: ${user.name}`))
          const accepted = await load(file)
          assert.ok(Either.isRight(accepted), String(Either.isLeft(accepted) && accepted.left.message))
          assert.equal(accepted.right.tokens[0]!.file!.owner, user.uid)
        } finally {
          removeAll(dir)
        }
      }),
  )

  it("the agent exits with code 2 on a token directory that every user can write", {
    skip: spawnsNodeAgent,
    timeout: 60_000,
  }, () => {
    const dir = tempDir("hostile-cli")
    try {
      fs.mkdirSync(nodePath.join(dir, "open"))
      fs.chmodSync(nodePath.join(dir, "open"), 0o777)
      const file = writeConfig(dir, "tokens:\n" + tokenLine("a", "path: open/a"))
      // through env: Deno's child_process would run a bare "node" as Deno itself
      const result = spawnSync("/usr/bin/env", [...nodeMain, "agent", "--config", file], {
        encoding: "utf8",
        timeout: 60_000,
      })
      assert.equal(result.status, 2, result.stderr)
      assert.match(result.stderr, /tokens\[0\]\.file\.path: .*open is writable by every user/)
      assert.ok(!fs.existsSync(nodePath.join(dir, "open", "a")))
    } finally {
      removeAll(dir)
    }
  })
})

describe("item 3: adoption of a planted token file", () => {
  it("a planted alg:none token without sub, valid until 2036, is replaced by a fresh TokenRequest", () => {
    const dir = tempDir("hostile-adopt")
    const target = nodePath.join(dir, "token")
    const logs = capture()
    return runTest(
      Effect.gen(function* () {
        yield* setTime(epoch)
        const iat = epoch / 1000 - 60
        const planted = jwt({
          iss: "attacker",
          aud: ["https://kubernetes.default.svc"],
          iat,
          exp: Date.UTC(2036, 0, 1) / 1000,
        }, "none")
        fs.writeFileSync(target, planted, { mode: 0o600 })
        if (isRoot) fs.chownSync(target, stranger, stranger)
        const fake = issuer()
        const scheduler = yield* startAgent(fake.fetcher, [spec("app", { file: { path: target, mode: 0o600 } })])
        yield* until(Effect.map(scheduler.list, (list) => list[0]!.phase === "valid"), "a valid token")
        assert.equal(fake.calls, 1, "the planted token was adopted instead of requesting one")
        const served = yield* scheduler.token("app")
        assert.ok(Option.isSome(served))
        assert.equal(tokenOf(served.value.response), fake.issuedTokens[0])
        assert.equal(fs.readFileSync(target, "utf8"), fake.issuedTokens[0])
        assert.equal(fs.statSync(target).uid, process.geteuid!())
        const warning = logs.lines.find((line) => line.message === "token file not adopted; requesting a new token")
        assert.ok(warning !== undefined && warning.level === "WARN", JSON.stringify(logs.lines))
        assert.equal(
          warning.annotations.reason,
          isRoot
            ? `owned by uid ${stranger}, not by the agent's user or the configured owner`
            : "an unsigned JWT (alg none)",
        )
      }).pipe(Effect.provide(platform), Effect.provide(logs.layer), Logger.withMinimumLogLevel(LogLevel.Info)),
    ).finally(() => removeAll(dir))
  })

  it("adopts only a signed JWT of the declared account, audiences and lifetime", () => {
    const s = spec("app", { audiences: ["vault"], expirationSeconds: 3600 })
    const iat = epoch / 1000 - 60
    const claims = { sub: "system:serviceaccount:default:app", aud: ["vault"], iat, exp: iat + 3600 }
    assert.ok(Either.isRight(Adopt.check(s, jwt(claims), epoch)))
    const reasons: Array<[string, string]> = [
      [jwt(claims, "none"), "an unsigned JWT (alg none)"],
      [jwt(claims, "NONE"), "an unsigned JWT (alg none)"],
      [jwt({ ...claims, sub: undefined }), "no sub claim"],
      [jwt({ ...claims, sub: "system:serviceaccount:default:admin" }), "the sub claim of another service account"],
      [jwt({ ...claims, aud: ["other"] }), "other audiences"],
      [jwt({ ...claims, exp: iat + 3601 }), "a lifetime of 3601 s, longer than the 3600 s requested"],
      [
        jwt({ ...claims, exp: Date.UTC(2036, 0, 1) / 1000 }),
        `a lifetime of ${Date.UTC(2036, 0, 1) / 1000 - iat} s, longer than the 3600 s requested`,
      ],
      [jwt({ ...claims, exp: epoch / 1000 - 1, iat: epoch / 1000 - 600 }), "expired"],
      ["not-a-jwt", "not a JWT"],
    ]
    for (const [token, reason] of reasons) assert.deepEqual(Adopt.check(s, token, epoch), Either.left(reason))
  })

  it("adopts a pod-bound token the API server extended, by its kubernetes.io.warnafter, and no other long token", () => {
    // kube-apiserver turns a 3607 s pod-bound request into a one-year JWT with the 3607 s kept in `warnafter`
    const s = spec("app", { expirationSeconds: 3607 })
    const iat = epoch / 1000 - 60
    const year = 365 * 24 * 3600
    const pod = { name: "p", uid: "u" }
    const claims = {
      sub: "system:serviceaccount:default:app",
      aud: ["https://kubernetes.default.svc.cluster.local"],
      iat,
      exp: iat + year,
      "kubernetes.io": { namespace: "default", pod, warnafter: iat + 3607 },
    }
    const adopted = Adopt.check(s, jwt(claims), epoch)
    assert.ok(Either.isRight(adopted), JSON.stringify(adopted))
    assert.equal(adopted.right.spec.expirationSeconds, 3607)
    assert.equal(adopted.right.status?.expirationTimestamp.getTime(), (iat + 3607) * 1000)
    const reasons: Array<[Record<string, unknown>, string]> = [
      [{ ...claims, "kubernetes.io": { pod } }, `a lifetime of ${year} s, longer than the 3607 s requested`],
      [
        { ...claims, "kubernetes.io": { warnafter: iat + 3608 } },
        "a lifetime of 3608 s, longer than the 3607 s requested",
      ],
      [{ ...claims, "kubernetes.io": { warnafter: iat + year + 1 } }, "an invalid kubernetes.io.warnafter claim"],
      [{ ...claims, "kubernetes.io": { warnafter: iat } }, "an invalid kubernetes.io.warnafter claim"],
      [{ ...claims, "kubernetes.io": { warnafter: "soon" } }, "an invalid kubernetes.io.warnafter claim"],
      [{ ...claims, "kubernetes.io": { warnafter: epoch / 1000 - 1 } }, "expired"],
    ]
    for (const [bad, reason] of reasons) assert.deepEqual(Adopt.check(s, jwt(bad), epoch), Either.left(reason))
  })

  it("adopts only a regular file of the agent's user that nobody else can write, with one link", () => {
    const dir = tempDir("hostile-adopt-file")
    const logs = capture()
    return runTest(
      Effect.gen(function* () {
        const target = nodePath.join(dir, "token")
        const s = spec("app", { file: { path: target, mode: 0o600 } })
        const iat = epoch / 1000 - 60
        const good = jwt({ sub: "system:serviceaccount:default:app", aud: ["x"], iat, exp: iat + 3600 })
        const adopt = Adopt.fromFile(s, epoch)
        const reasonOf = () => logs.lines.at(-1)?.annotations.reason
        fs.writeFileSync(target, good, { mode: 0o600 })
        assert.ok(Option.isSome(yield* adopt))
        fs.chmodSync(target, 0o620)
        assert.ok(Option.isNone(yield* adopt))
        assert.equal(reasonOf(), "writable by other users (mode 0620)")
        fs.chmodSync(target, 0o600)
        fs.linkSync(target, nodePath.join(dir, "elsewhere"))
        assert.ok(Option.isNone(yield* adopt))
        assert.equal(reasonOf(), "a file with 2 hard links")
        fs.unlinkSync(nodePath.join(dir, "elsewhere"))
        if (isRoot) {
          fs.chownSync(target, stranger, stranger)
          assert.ok(Option.isNone(yield* adopt))
          assert.match(String(reasonOf()), /owned by uid 4242/)
          // A file the configured owner owns is the agent's own doing.
          assert.ok(
            Option.isSome(
              yield* Adopt.fromFile(spec("app", { file: { path: target, mode: 0o600, owner: stranger } }), epoch),
            ),
          )
        }
        fs.rmSync(target)
        fs.symlinkSync(nodePath.join(dir, "elsewhere"), target)
        fs.writeFileSync(nodePath.join(dir, "elsewhere"), good, { mode: 0o600 })
        assert.ok(Option.isNone(yield* adopt))
        assert.equal(reasonOf(), "a symbolic link")
        fs.rmSync(target)
        if (spawnSync("mkfifo", [target]).status === 0) {
          // Opened without blocking: a FIFO nobody writes to cannot hang the agent's start.
          assert.ok(Option.isNone(yield* adopt))
          assert.equal(reasonOf(), "not a regular file")
        }
      }).pipe(Effect.provide(platform), Effect.provide(logs.layer), Logger.withMinimumLogLevel(LogLevel.Info)),
    ).finally(() => removeAll(dir))
  })
})

describe("item 4: exec-credential cache entries of other users", () => {
  const request: TokenRequest = { spec: { audiences: ["https://kubernetes.default.svc"], expirationSeconds: 3600 } }
  const options = (directory: string) => ({ directory, cluster: "https://127.0.0.1:6443 context dev" })
  const fetcherOf = (token: string) => {
    const fake = fakeFetcher((_namespace, _name, req) => Effect.succeed(issued(req, token, epoch + 3600_000)))
    return fake
  }
  /** A valid entry for the request, written by an "attacker" fetcher into `directory`: the name and key are derivable. */
  const plant = (directory: string) =>
    Effect.gen(function* () {
      const scratch = tempDir("hostile-scratch")
      yield* ExecCredential.get("default", "builder", request, options(scratch)).pipe(
        Effect.provide(fetcherOf("ATTACKER-TOKEN").layer),
      )
      const name = nodePath.basename(
        yield* ExecCredential.file(options(directory), cacheKey("builder", "default", request)),
      )
      fs.copyFileSync(nodePath.join(scratch, name), nodePath.join(directory, name))
      removeAll(scratch)
      return nodePath.join(directory, name)
    })

  /** `ExecCredential.get` of the request from the cache in `directory`, asking `fetcher` on a miss. */
  const getFrom = (directory: string, fetcher: ReturnType<typeof fetcherOf>) =>
    ExecCredential.get("default", "builder", request, options(directory)).pipe(Effect.provide(fetcher.layer))
  /** Runs `body` at the epoch, with captured logs, on a new cache directory holding a planted entry; removes it. */
  const withPlanted = <E>(
    body: (directory: string, entry: string, logs: ReturnType<typeof capture>) => Effect.Effect<void, E, Platform>,
  ) => {
    const directory = tempDir("hostile-cache")
    const logs = capture()
    return runTest(
      Effect.gen(function* () {
        yield* TestClock.setTime(epoch)
        yield* body(directory, yield* plant(directory), logs)
      }).pipe(Effect.provide(platform), Effect.provide(logs.layer)),
    ).finally(() => removeAll(directory))
  }

  it("a cache directory of another user, with a planted entry, is a miss: fetched, warned about, left alone", {
    skip: needsRoot,
  }, () =>
    withPlanted((directory, entry, logs) =>
      Effect.gen(function* () {
        fs.chmodSync(entry, 0o600)
        fs.chownSync(entry, stranger, stranger)
        fs.chmodSync(directory, 0o700)
        fs.chownSync(directory, stranger, stranger)
        const entryBefore = snapshot(entry)
        const mine = fetcherOf("MY-TOKEN")
        assert.equal(tokenOf(yield* getFrom(directory, mine)), "MY-TOKEN")
        assert.equal(mine.calls, 1)
        assert.ok(
          logs.lines.some((line) =>
            line.level === "WARN" &&
            line.message.includes(`the directory ${directory} belongs to uid ${stranger}, not to this user (uid 0)`)
          ),
          JSON.stringify(logs.lines),
        )
        assert.deepEqual(snapshot(entry), entryBefore, "the other user's entry was changed")
        assert.equal(fs.statSync(directory).uid, stranger)
        assert.equal(fs.statSync(directory).mode & 0o7777, 0o700)
        assert.deepEqual(fs.readdirSync(directory), [nodePath.basename(entry)])
      })
    ))

  it(
    "an entry of another user in the user's own cache directory is a miss, and is replaced",
    { skip: needsRoot },
    () =>
      withPlanted((directory, entry, logs) =>
        Effect.gen(function* () {
          fs.chownSync(entry, stranger, stranger)
          const mine = fetcherOf("MY-TOKEN")
          assert.equal(tokenOf(yield* getFrom(directory, mine)), "MY-TOKEN")
          assert.ok(logs.lines.some((line) => line.message.includes(`${entry} belongs to uid ${stranger}`)))
          assert.equal(fs.statSync(entry).uid, 0)
          yield* TestClock.adjust(minute)
          assert.equal(tokenOf(yield* getFrom(directory, mine)), "MY-TOKEN")
          assert.equal(mine.calls, 1, "the replaced entry is reused")
        })
      ),
  )

  it("the cache writer: a symlink renamed over its temporary file changes nothing it points to", () => {
    const directory = tempDir("hostile-cache")
    // World-readable: the old writer's chmod by path made such a file 0600.
    const victim = victimFile(0o644)
    const before = snapshot(victim)
    const attack = race(victim, "open")
    const logs = capture()
    return runTest(
      Effect.gen(function* () {
        yield* TestClock.setTime(epoch)
        const mine = fetcherOf("MY-TOKEN")
        assert.equal(tokenOf(yield* getFrom(directory, mine)), "MY-TOKEN", "the credential is still returned")
        assert.equal(attack.fired(), 1)
        assert.deepEqual(snapshot(victim), before)
        assert.ok(logs.lines.some((line) => line.message === "exec-credential: cannot write the token cache"))
        assert.ok(fs.readdirSync(directory).every((name) => !isSymlink(nodePath.join(directory, name))))
      }).pipe(Effect.provide(attack.layer), Effect.provide(logs.layer)),
    ).finally(() => removeAll(directory, nodePath.dirname(victim)))
  })
})

describe("item 8: token files that are the config file or another token's file", () => {
  it("refuses the config file, the kubeconfig, and one file named twice through a symlinked directory or a hard link", async () => {
    const dir = tempDir("hostile-same")
    try {
      fs.mkdirSync(nodePath.join(dir, "tokens"), { mode: 0o700 })
      fs.symlinkSync(nodePath.join(dir, "tokens"), nodePath.join(dir, "alias"))
      fs.symlinkSync(dir, nodePath.join(dir, "self"))
      fs.writeFileSync(nodePath.join(dir, "tokens", "a"), "x", { mode: 0o600 })
      fs.linkSync(nodePath.join(dir, "tokens", "a"), nodePath.join(dir, "tokens", "hard"))
      fs.writeFileSync(nodePath.join(dir, "kubeconfig"), "{}", { mode: 0o600 })
      const cases: Array<[string, string]> = [
        [tokenLine("a", "path: agent.yaml"), "tokens[0].file.path: is the config file itself"],
        [tokenLine("a", "path: self/agent.yaml"), "tokens[0].file.path: is the config file itself"],
        [tokenLine("a", "path: kubeconfig"), "tokens[0].file.path: is the kubeconfig"],
        [
          tokenLine("a", "path: tokens/b") + tokenLine("b", "path: alias/b"),
          "tokens[1].file.path: is also the file of a",
        ],
        [
          tokenLine("a", "path: tokens/a") + tokenLine("b", "path: tokens/hard"),
          "tokens[1].file.path: is also the file of a",
        ],
      ]
      for (const [tokens, message] of cases) {
        const file = writeConfig(dir, `cluster: { kubeconfig: kubeconfig }\ntokens:\n${tokens}`)
        const result = await load(file)
        assert.ok(Either.isLeft(result), `accepted: ${tokens}`)
        assert.ok(result.left.message.includes(message), result.left.message)
      }
      fs.linkSync(nodePath.join(dir, "agent.yaml"), nodePath.join(dir, "tokens", "config-link"))
      const linked = await load(writeConfig(dir, "tokens:\n" + tokenLine("a", "path: tokens/config-link")))
      assert.ok(Either.isLeft(linked) && linked.left.message.includes("is the config file itself"))
    } finally {
      removeAll(dir)
    }
  })
})

describe("item 9: unknown owners, full and read-only file systems", () => {
  it("resolves owner and group names at load; an unknown one stops the agent (exit 2), naming the field", async () => {
    const dir = tempDir("hostile-owner")
    try {
      const file = writeConfig(
        dir,
        "tokens:\n" + tokenLine("a", "path: a, owner: satk-fs-no-such-user") +
          tokenLine("b", "path: b, group: satk-fs-no-such-group") + tokenLine("c", "path: c, owner: root, group: 0"),
      )
      const result = await load(file)
      assert.ok(Either.isLeft(result) && result.left.reason === "Invalid")
      assert.match(result.left.message, /tokens\[0\]\.file\.owner: is not a user of this system/)
      assert.match(result.left.message, /tokens\[1\]\.file\.group: is not a group of this system/)
      assert.ok(!result.left.message.includes("satk-fs-no-such"), "the message repeats a value")
      writeConfig(dir, "tokens:\n" + tokenLine("c", "path: c, owner: root, group: 0"))
      const loaded = await load(file)
      assert.ok(Either.isRight(loaded))
      assert.deepEqual([loaded.right.tokens[0]!.file!.owner, loaded.right.tokens[0]!.file!.group], [0, 0])
    } finally {
      removeAll(dir)
    }
  })

  it("a write that fails names the errno (ENOSPC injected through the port), and the old file stays", async () => {
    const dir = tempDir("hostile-errno")
    try {
      const target = nodePath.join(dir, "token")
      fs.writeFileSync(target, "old", { mode: 0o600 })
      const full = PrivateFile.layer(NodePrivateFile.make({
        ...NodePrivateFile.syscalls,
        write: () =>
          Promise.reject(Object.assign(new Error("No space left on device (os error 28)"), { code: "ENOSPC" })),
      }))
      const exit = await Effect.runPromiseExit(
        FileSink.write({ path: target, mode: 0o600 }, Redacted.make("new"), far).pipe(
          Effect.provide(Layer.merge(platform, full)),
        ),
      )
      assert.equal(
        sinkErrorOf(exit).message,
        `cannot write token file ${target} (write): ENOSPC: no space left on device`,
      )
      assert.equal(fs.readFileSync(target, "utf8"), "old")
      assert.deepEqual(fs.readdirSync(dir), ["token"])
    } finally {
      removeAll(dir)
    }
  })

  const mountable = !needsRoot && (() => {
    const point = tempDir("hostile-mount-probe")
    try {
      return spawnSync("mount", ["-t", "tmpfs", "-o", "size=16k", "tmpfs", point]).status === 0 &&
        spawnSync("umount", [point]).status === 0
    } finally {
      removeAll(point)
    }
  })()

  it(
    "a full tmpfs says ENOSPC and a read-only mount says EROFS, instead of Unknown",
    { skip: mountable ? false : "needs root and permission to mount a tmpfs" },
    async () => {
      const full = tempDir("hostile-full")
      const readOnly = tempDir("hostile-ro")
      const source = tempDir("hostile-ro-source")
      const mounted: Array<string> = []
      try {
        assert.equal(spawnSync("mount", ["-t", "tmpfs", "-o", "size=16k,mode=0700", "tmpfs", full]).status, 0)
        mounted.push(full)
        fs.writeFileSync(nodePath.join(source, "token"), "old", { mode: 0o600 })
        assert.equal(spawnSync("mount", ["--bind", source, readOnly]).status, 0)
        mounted.push(readOnly)
        assert.equal(spawnSync("mount", ["-o", "remount,bind,ro", readOnly]).status, 0)
        const write = (path: string, token: string) =>
          Effect.runPromiseExit(
            FileSink.write({ path, mode: 0o600 }, Redacted.make(token), far).pipe(Effect.provide(platform)),
          )
        const enospc = sinkErrorOf(await write(nodePath.join(full, "token"), "x".repeat(64 * 1024)))
        assert.match(enospc.detail, /^ENOSPC: no space left on device$/)
        assert.deepEqual(fs.readdirSync(full), [], "the partial temporary file was left")
        const erofs = sinkErrorOf(await write(nodePath.join(readOnly, "token"), "new"))
        assert.match(erofs.detail, /^EROFS: read-only file system$/)
        assert.equal(fs.readFileSync(nodePath.join(readOnly, "token"), "utf8"), "old")
        const mkdir = await Effect.runPromiseExit(
          FileSink.ensureDirectory(nodePath.join(readOnly, "sub", "token")).pipe(Effect.provide(platform)),
        )
        // An errno name, not "Unknown" (Node's recursive mkdir reports ENOENT on a read-only mount, Bun's EROFS).
        assert.match(sinkErrorOf(mkdir).detail, /^E[A-Z]+: /)
      } finally {
        for (const point of mounted.reverse()) spawnSync("umount", [point])
        removeAll(full, readOnly, source)
      }
    },
  )
})
