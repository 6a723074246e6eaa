import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { spawn } from "node:child_process"
import * as http from "node:http"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import type * as TestServices from "effect/TestServices"
import * as Agent from "../../adapters/agent/Agent.ts"
import * as Config from "../../adapters/agent/Config.ts"
import * as Signals from "../../adapters/platform/Signals.ts"
import { TokenFetchError } from "../../core/TokenError.ts"
import { hour, minute, runTest, second, setTime } from "../_support/harness.ts"
import { epoch, issuer, tempDir, until } from "../_support/agent.ts"
import { platform } from "../_support/platform.ts"
import type { Platform } from "../_support/platform.ts"

type Env = Platform | TestServices.TestServices | Scope.Scope
const run = <A, E>(effect: Effect.Effect<A, E, Env>) => runTest(effect.pipe(Effect.provide(platform)))

const yamlConfig = (tokens: ReadonlyArray<string>, extra = "") =>
  `log: { format: json, level: error }\n${extra}tokens:\n` +
  tokens.map((name) =>
    `  - { name: ${name}, namespace: default, serviceAccount: ${name}, expirationSeconds: 3600, file: { path: tokens/${name} } }\n`
  ).join("")

const exists = (path: string) => Effect.sync(() => fs.existsSync(path))

describe("agent lifecycle", () => {
  it("SIGHUP reload: added tokens start, removed stop, unchanged are neither re-fetched nor rewritten; stop is clean", () =>
    run(Effect.gen(function* () {
      const dir = tempDir("lifecycle")
      const file = nodePath.join(dir, "agent.yaml")
      fs.writeFileSync(file, yamlConfig(["a", "b"]))
      yield* setTime(epoch)
      const fake = issuer()
      const signals = yield* Signals.manual
      const fiber = yield* Agent.runWith(file, () => Effect.succeed(fake.fetcher)).pipe(
        Effect.provideService(Signals.Signals, signals),
        Effect.fork,
      )
      const token = (name: string) => nodePath.join(dir, "tokens", name)
      yield* until(Effect.map(Effect.all([exists(token("a")), exists(token("b"))]), (e) => e.every(Boolean)), "files")
      assert.equal(fs.statSync(nodePath.join(dir, "tokens")).mode & 0o777, 0o700)
      assert.equal(fs.statSync(token("a")).mode & 0o777, 0o600)
      const inode = fs.statSync(token("a")).ino
      const content = fs.readFileSync(token("a"), "utf8")
      fs.writeFileSync(file, yamlConfig(["c", "a"]))
      yield* signals.hangup
      yield* until(exists(token("c")), "the added token's file")
      assert.deepEqual([...fake.perAccount.entries()].sort(), [["a", 1], ["b", 1], ["c", 1]])
      assert.equal(fs.statSync(token("a")).ino, inode)
      assert.equal(fs.readFileSync(token("a"), "utf8"), content)
      // a broken config on reload keeps the running one
      fs.writeFileSync(file, "tokens: [ {")
      yield* signals.hangup
      // an hour later a and c were refreshed, b (removed) was not
      yield* TestClock.adjust(hour)
      yield* until(Effect.sync(() => fs.readFileSync(token("a"), "utf8") !== content), "a's rotation")
      yield* until(Effect.sync(() => (fake.perAccount.get("c") ?? 0) === 2), "c's rotation")
      assert.equal(fake.perAccount.get("b"), 1)
      const exit = yield* Fiber.interrupt(fiber)
      assert.ok(Exit.isInterrupted(exit))
      const leftovers = fs.readdirSync(nodePath.join(dir, "tokens")).filter((n) => n.endsWith(".tmp"))
      assert.deepEqual(leftovers, [])
      fs.rmSync(dir, { recursive: true, force: true })
    })))

  it("serves the configured unix-socket endpoint from the scheduler's state", () =>
    run(Effect.gen(function* () {
      const dir = tempDir("endpoint")
      fs.chmodSync(dir, 0o700)
      const file = nodePath.join(dir, "agent.yaml")
      fs.writeFileSync(file, yamlConfig(["a"], "endpoint: { unix: { path: agent.sock } }\n"))
      const fake = issuer()
      const config = yield* Config.load(file)
      const get = (path: string) =>
        Effect.async<{ status: number; body: string }>((resume) => {
          http.get({ socketPath: nodePath.join(dir, "agent.sock"), path }, (response) => {
            let body = ""
            response.on("data", (chunk) => (body += String(chunk)))
            response.on("end", () => resume(Effect.succeed({ status: response.statusCode ?? 0, body })))
          })
        })
      yield* Effect.scoped(Effect.gen(function* () {
        const agent = yield* Agent.start(config, fake.fetcher)
        yield* until(Effect.map(agent.scheduler.ready, (ready) => ready), "readiness")
        assert.equal(fs.statSync(nodePath.join(dir, "agent.sock")).mode & 0o777, 0o600)
        assert.equal((yield* get("/readyz")).status, 200)
        const token = yield* get("/v1/tokens/a")
        assert.equal(token.status, 200)
        assert.equal(token.body.trim(), fs.readFileSync(nodePath.join(dir, "tokens", "a"), "utf8"))
        assert.equal((yield* get("/v1/tokens/nope")).status, 404)
      })).pipe(Logger.withMinimumLogLevel(LogLevel.None))
      assert.ok(!fs.existsSync(nodePath.join(dir, "agent.sock")))
      fs.rmSync(dir, { recursive: true, force: true })
    })))

  it("a TCP endpoint answers only with its bearer token, and warns while the config holding it is readable by others", () =>
    run(Effect.gen(function* () {
      const dir = tempDir("tcp-endpoint")
      const file = nodePath.join(dir, "agent.yaml")
      const secret = "MARKER-bearer-7f3a9c"
      fs.writeFileSync(
        file,
        yamlConfig(["a"], `endpoint: { tcp: { address: "127.0.0.1:0", bearerToken: ${secret} } }\n`),
      )
      const fake = issuer()
      const get = (port: number, headers: Record<string, string>) =>
        Effect.async<number>((resume) => {
          http.get({ host: "127.0.0.1", port, path: "/v1/tokens/a", headers, agent: false }, (response) => {
            response.resume()
            response.on("end", () => resume(Effect.succeed(response.statusCode ?? 0)))
          })
        })
      const startAgent = (mode: number) =>
        Effect.gen(function* () {
          fs.chmodSync(file, mode)
          const warnings: Array<string> = []
          const capture = Logger.replace(
            Logger.defaultLogger,
            Logger.make(({ logLevel, message }) => {
              if (logLevel._tag === "Warning") warnings.push(String(message))
            }),
          )
          const statuses = yield* Effect.scoped(Effect.gen(function* () {
            const agent = yield* Agent.start(yield* Config.load(file), fake.fetcher)
            yield* until(Effect.map(agent.scheduler.ready, (ready) => ready), "readiness")
            const endpoint = agent.endpoint.pipe(Option.getOrThrow).address
            assert.ok(endpoint._tag === "Tcp")
            return [
              yield* get(endpoint.port, {}),
              yield* get(endpoint.port, { authorization: "Bearer MARKER-bearer" }),
              yield* get(endpoint.port, { authorization: `Bearer ${secret}` }),
            ]
          })).pipe(Effect.provide(capture), Logger.withMinimumLogLevel(LogLevel.Warning))
          assert.deepEqual(statuses, [401, 401, 200])
          assert.ok(warnings.every((w) => !w.includes(secret)))
          return warnings.filter((w) => w.includes("bearer token"))
        })
      assert.equal((yield* startAgent(0o644)).length, 1)
      assert.equal((yield* startAgent(0o640)).length, 1)
      assert.deepEqual(yield* startAgent(0o600), [])
      fs.rmSync(dir, { recursive: true, force: true })
    })))

  it("a bad config fails with a ConfigError naming the field", () =>
    run(Effect.gen(function* () {
      const dir = tempDir("lifecycle")
      const file = nodePath.join(dir, "agent.yaml")
      fs.writeFileSync(
        file,
        "tokens:\n  - { name: a, namespace: default, serviceAccount: a, file: { path: t, mode: 0600 } }\n",
      )
      const fake = issuer()
      const exit = yield* Effect.exit(Agent.runWith(file, () => Effect.succeed(fake.fetcher)))
      assert.ok(Exit.isFailure(exit))
      const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
      assert.ok(error instanceof Config.ConfigError)
      assert.match(error.message, /tokens\[0\]\.file\.mode/)
      assert.equal(fake.calls, 0)
      fs.rmSync(dir, { recursive: true, force: true })
    })))

  it("rotation hooks run a command and signal the process in a PID file", () =>
    run(Effect.gen(function* () {
      const dir = tempDir("hooks")
      const child = spawn("sleep", ["30"], { stdio: "ignore" })
      const exited = new Promise<string | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)))
      fs.writeFileSync(nodePath.join(dir, "app.pid"), `${child.pid}\n`)
      const file = nodePath.join(dir, "agent.yaml")
      fs.writeFileSync(
        file,
        `log: { level: error }\ntokens:\n  - name: a\n    namespace: default\n    serviceAccount: a\n` +
          `    file: { path: a.token }\n    hooks:\n` +
          `      command: [sh, -c, 'echo "$SA_TOKEN_NAME $SA_TOKEN_FINGERPRINT" >> hook.out']\n` +
          `      signal: { pidFile: app.pid, signal: SIGTERM }\n`,
      )
      const fake = issuer()
      const fiber = yield* Effect.fork(Agent.runWith(file, () => Effect.succeed(fake.fetcher)))
      const out = nodePath.join(dir, "hook.out")
      // the command runs in the config file's directory; the shell creates the file before it writes the line
      const line = Effect.sync(() => fs.existsSync(out) && fs.readFileSync(out, "utf8").endsWith("\n"))
      yield* until(line, "the command hook's line")
      assert.match(fs.readFileSync(out, "utf8"), /^a [0-9a-f]{12}\n$/)
      assert.equal(yield* Effect.promise(() => exited), "SIGTERM")
      yield* Fiber.interrupt(fiber)
      fs.rmSync(dir, { recursive: true, force: true })
    })))

  it("under faults, a marker present in every token appears in no log line, status, error or metric", () =>
    run(Effect.gen(function* () {
      const dir = tempDir("marker")
      const lines: Array<string> = []
      const capture = Logger.map(Logger.jsonLogger, (line) => lines.push(line))
      const marker = "MARK3R-5ecret"
      const fake = issuer(marker)
      const file = nodePath.join(dir, "agent.yaml")
      fs.writeFileSync(file, yamlConfig(["a", "b", "c"]))
      const config = yield* Config.load(file)
      let n = 0
      const faults = [
        () => new TokenFetchError({ reason: "ServerError", description: "internal error" }),
        () => new TokenFetchError({ reason: "TooManyRequests", description: "slow down", retryAfterSeconds: 5 }),
        () => new TokenFetchError({ reason: "Timeout", description: "timed out" }),
      ]
      yield* setTime(epoch)
      const statuses: Array<string> = []
      yield* Effect.scoped(Effect.gen(function* () {
        const agent = yield* Agent.start(config, fake.fetcher)
        yield* until(Effect.map(agent.scheduler.list, (l) => l.every((s) => s.phase === "valid")), "valid tokens")
        fake.failWith = () => Effect.fail(faults[n++ % faults.length]!())
        yield* TestClock.adjust(50 * minute)
        statuses.push(JSON.stringify(yield* agent.scheduler.list))
        fake.failWith = undefined
        yield* TestClock.adjust(2 * minute)
        yield* until(Effect.map(agent.scheduler.list, (l) => l.every((s) => s.phase === "valid")), "recovery")
        statuses.push(JSON.stringify(yield* agent.scheduler.list))
        const token = yield* agent.scheduler.token("a")
        statuses.push(JSON.stringify(token), String(token))
        yield* TestClock.adjust(30 * second)
      })).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
        Logger.withMinimumLogLevel(LogLevel.Debug),
      )
      const metrics = JSON.stringify(
        Metric.unsafeSnapshot().map((pair) => [String(pair.metricKey.name), pair.metricKey.tags, pair.metricState]),
      )
      const onDisk = fs.readFileSync(nodePath.join(dir, "tokens", "a"), "utf8")
      assert.ok(Buffer.from(onDisk.split(".")[1]!, "base64url").toString().includes(marker), "the marker is in tokens")
      assert.ok(lines.length > 5)
      assert.ok(
        lines.some((l) => l.includes("token refresh failed") && l.includes('"token":"a"') && l.includes("fingerprint")),
      )
      for (const text of [...lines, ...statuses, metrics]) {
        assert.ok(!text.includes(marker), `marker leaked: ${text.slice(0, 200)}`)
        for (const token of fake.issuedTokens) assert.ok(!text.includes(token.split(".")[1]!), "a token leaked")
      }
      fs.rmSync(dir, { recursive: true, force: true })
    })))
})
