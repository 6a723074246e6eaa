import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as fs from "node:fs"
import * as fsp from "node:fs/promises"
import * as nodePath from "node:path"
import process from "node:process"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import type * as TestServices from "effect/TestServices"
import * as Adopt from "../../adapters/agent/Adopt.ts"
import type { FileSinkSpec } from "../../adapters/agent/Config.ts"
import * as FileSink from "../../adapters/agent/FileSink.ts"
import * as Scheduler from "../../adapters/agent/Scheduler.ts"
import * as TokenFetcher from "../../core/TokenFetcher.ts"
import * as TokenManager from "../../core/TokenManager.ts"
import { minute, runTest, setTime } from "../_support/harness.ts"
import { epoch, issuer, jwt, spec, tempDir, until } from "../_support/agent.ts"
import type { Issuer } from "../_support/agent.ts"
import { platform } from "../_support/platform.ts"
import type { Platform } from "../_support/platform.ts"

const far = Date.UTC(2100, 0, 1)
const run = <A, E>(effect: Effect.Effect<A, E, Platform>): Promise<A> =>
  Effect.runPromise(Effect.provide(effect, platform))
const sink = (dir: string, name = "token", mode = 0o600): FileSinkSpec => ({ path: nodePath.join(dir, name), mode })
const modeOf = (path: string) => fs.statSync(path).mode & 0o777
const umaskWorks = (() => {
  try {
    const old = process.umask(0o022)
    process.umask(old)
    return true
  } catch {
    return false
  }
})()

describe("agent file sink", () => {
  it("writes the token with the mode, whatever the umask, and leaves no temporary file", async () => {
    const dir = tempDir("sink")
    try {
      for (const umask of umaskWorks ? [0o000, 0o077] : [undefined]) {
        const old = umask === undefined ? undefined : process.umask(umask)
        try {
          for (const mode of [0o600, 0o640, 0o644, 0o400]) {
            const target = sink(dir, `t-${mode.toString(8)}-${umask}`, mode)
            await run(FileSink.write(target, Redacted.make(`tok-${mode}`), far))
            assert.equal(fs.readFileSync(target.path, "utf8"), `tok-${mode}`)
            assert.equal(modeOf(target.path), mode, `mode ${mode.toString(8)} under umask ${umask?.toString(8)}`)
          }
        } finally {
          if (old !== undefined) process.umask(old)
        }
      }
      assert.deepEqual(fs.readdirSync(dir).filter((n) => n.endsWith(".tmp")), [])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("applies the mode on every write and sets owner and group", async () => {
    const dir = tempDir("sink")
    try {
      const target = sink(dir)
      fs.writeFileSync(target.path, "old", { mode: 0o666 })
      fs.chmodSync(target.path, 0o666)
      const uid = process.getuid?.() ?? 0
      const gid = process.getgid?.() ?? 0
      await run(FileSink.write({ ...target, owner: uid, group: String(gid) }, Redacted.make("new"), far))
      assert.equal(modeOf(target.path), 0o600)
      assert.equal(fs.statSync(target.path).uid, uid)
      assert.equal(fs.statSync(target.path).gid, gid)
      const missing = await run(
        Effect.exit(FileSink.write({ ...target, owner: "no-such-user-xyz" }, Redacted.make("x"), far)),
      )
      assert.ok(Exit.isFailure(missing))
      assert.equal(fs.readFileSync(target.path, "utf8"), "new")
      assert.deepEqual(fs.readdirSync(dir), ["token"])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("replaces a symlink at the path instead of following it", async () => {
    const dir = tempDir("sink")
    try {
      const victim = nodePath.join(dir, "victim")
      fs.writeFileSync(victim, "precious")
      const target = sink(dir)
      fs.symlinkSync(victim, target.path)
      assert.ok(Option.isNone(await run(FileSink.read(target.path))))
      await run(FileSink.write(target, Redacted.make("token"), far))
      assert.ok(!fs.lstatSync(target.path).isSymbolicLink())
      assert.equal(fs.readFileSync(target.path, "utf8"), "token")
      assert.equal(fs.readFileSync(victim, "utf8"), "precious")
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("refuses to write an expired token", () =>
    runTest(
      Effect.gen(function* () {
        const dir = tempDir("sink")
        yield* setTime(epoch)
        const result = yield* Effect.exit(FileSink.write(sink(dir), Redacted.make("t"), epoch - 1))
        assert.ok(Exit.isFailure(result))
        assert.deepEqual(fs.readdirSync(dir), [])
        fs.rmSync(dir, { recursive: true, force: true })
      }).pipe(Effect.provide(platform)),
    ))

  // 150 fsynced writes of 20 to 35 KB: seconds on a loaded machine, past Bun's default 5 s timeout.
  it("a concurrent reader never sees a partial or empty file", { timeout: 60_000 }, async () => {
    const dir = tempDir("sink")
    try {
      const target = sink(dir)
      const tokens = Array.from(
        { length: 150 },
        (_, i) => `${String(i).padStart(4, "0")}:${"x".repeat(20_000 + i * 97)}`,
      )
      const valid = new Set(tokens)
      await run(FileSink.write(target, Redacted.make(tokens[0]!), far))
      let done = false
      let reads = 0
      const reader = (async () => {
        while (!done) {
          const content = await fsp.readFile(target.path, "utf8")
          reads++
          assert.ok(valid.has(content), `torn read of ${content.length} characters`)
        }
      })()
      await run(Effect.forEach(tokens.slice(1), (t) => FileSink.write(target, Redacted.make(t), far)))
      done = true
      await reader
      assert.ok(reads > 10, `only ${reads} reads`)
      assert.equal(fs.readFileSync(target.path, "utf8"), tokens.at(-1))
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("removes temporary files left by a crash, and only those", async () => {
    const dir = tempDir("sink")
    try {
      for (const name of [".token.abc.tmp", ".token.x1.tmp", "token", ".other.abc.tmp", ".token.tmp", "keep.tmp"]) {
        fs.writeFileSync(nodePath.join(dir, name), "x")
      }
      assert.equal(await run(FileSink.cleanup(nodePath.join(dir, "token"))), 2)
      assert.deepEqual(fs.readdirSync(dir).sort(), [".other.abc.tmp", ".token.tmp", "keep.tmp", "token"])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("adopts only valid tokens of the declared account and audiences", () => {
    const s = spec("app", { audiences: ["vault"], expirationSeconds: 3600 })
    const now = epoch
    const iat = now / 1000 - 60
    const good = jwt({ sub: "system:serviceaccount:default:app", aud: ["vault", "x"], iat, exp: iat + 600 })
    const adopted = Adopt.fromToken(s, good, now)
    assert.ok(Option.isSome(adopted))
    assert.equal(adopted.value.spec.expirationSeconds, 600)
    assert.equal(adopted.value.status!.expirationTimestamp.getTime(), (iat + 600) * 1000)
    assert.equal(Redacted.value(adopted.value.status!.token), good)
    const bad = [
      jwt({ sub: "system:serviceaccount:default:other", aud: ["vault"], iat, exp: iat + 600 }),
      jwt({ sub: "system:serviceaccount:default:app", aud: ["x"], iat, exp: iat + 600 }),
      jwt({ sub: "system:serviceaccount:default:app", aud: "vault", iat, exp: iat + 30 }),
      jwt({ sub: "system:serviceaccount:default:app", aud: "vault", exp: iat + 600 }),
      "not a jwt",
      "",
    ]
    for (const token of bad) assert.ok(Option.isNone(Adopt.fromToken(s, token, now)), token)
  })
})

type Env = Platform | TestServices.TestServices | Scope.Scope

const quiet = <A, E>(effect: Effect.Effect<A, E, Env>) =>
  runTest(Logger.withMinimumLogLevel(effect, LogLevel.None).pipe(Effect.provide(platform)))

/** One agent run: a fresh manager and scheduler over the issuer, in their own scope. */
const agentRun = (
  fake: Issuer,
  specs: ReadonlyArray<ReturnType<typeof spec>>,
  body: (s: Scheduler.Scheduler) => Effect.Effect<void, unknown, Env>,
) =>
  Effect.scoped(Effect.gen(function* () {
    const store = yield* Adopt.store(Effect.succeed(specs))
    const manager = yield* TokenManager.make({ gc: false, store }).pipe(
      Effect.provide(Layer.succeed(TokenFetcher.TokenFetcher, fake.fetcher)),
    )
    const scheduler = yield* Scheduler.make().pipe(Effect.provideService(TokenManager.TokenManager, manager))
    yield* scheduler.apply(specs)
    yield* until(Effect.map(scheduler.list, (l) => l.every((s) => s.phase === "valid")), "tokens to be valid")
    yield* body(scheduler)
  }))

describe("agent restart with token files", () => {
  it("a restart with valid files makes zero TokenRequests; files past their refresh point are refreshed", () =>
    quiet(Effect.gen(function* () {
      const dir = tempDir("restart")
      yield* setTime(epoch)
      const specs = Array.from({ length: 20 }, (_, i) => spec(`sa-${i}`, { file: sink(dir, `t${i}`) }))
      const fake = issuer()
      yield* agentRun(fake, specs, () => Effect.void)
      assert.equal(fake.calls, 20)
      const before = specs.map((s) => fs.readFileSync(s.file!.path, "utf8"))
      const inodes = specs.map((s) => fs.statSync(s.file!.path).ino)
      fs.writeFileSync(nodePath.join(dir, ".t0.crash.tmp"), "partial")
      yield* TestClock.adjust(10 * minute)
      yield* agentRun(fake, specs, (scheduler) =>
        Effect.gen(function* () {
          const list = yield* scheduler.list
          assert.ok(list.every((s) => s.refreshes === 0 && s.fingerprint !== undefined), JSON.stringify(list[0]))
          const t3 = yield* scheduler.token("sa-3")
          assert.ok(Option.isSome(t3), String(t3))
        }))
      assert.equal(fake.calls, 20, "a restart with valid files made TokenRequests")
      assert.deepEqual(specs.map((s) => fs.readFileSync(s.file!.path, "utf8")), before)
      assert.deepEqual(specs.map((s) => fs.statSync(s.file!.path).ino), inodes, "files were rewritten")
      assert.ok(!fs.existsSync(nodePath.join(dir, ".t0.crash.tmp")))
      // 50 minutes after issue every token is past its refresh point (48 min): a restart refreshes them all
      yield* TestClock.adjust(40 * minute)
      yield* agentRun(
        fake,
        specs,
        (scheduler) => until(Effect.map(scheduler.list, (l) => l.every((s) => s.refreshes === 1)), "refreshes"),
      )
      assert.equal(fake.calls, 40)
      assert.ok(specs.every((s, i) => fs.readFileSync(s.file!.path, "utf8") !== before[i]))
      fs.rmSync(dir, { recursive: true, force: true })
    })))
})
