/**
 * Exec credential plugins run by the kube adapter itself: client-go's checks on what a plugin prints, its cache
 * (reused until `expirationTimestamp`, dropped after a 401, one run for concurrent callers), closed standard input,
 * a timeout driven by TestClock, a run that ends with the plugin process even when a child it left running holds its
 * output open, and errors that name the plugin but never quote the credential.
 */
import assert from "node:assert/strict"
import * as fs from "node:fs"
import { setImmediate } from "node:timers"
import * as os from "node:os"
import * as nodePath from "node:path"
import process from "node:process"
import { after, describe, it } from "node:test"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as ExecPlugin from "../../adapters/kube/ExecPlugin.ts"
import { minute, runTest } from "../_support/harness.ts"

const v1 = "client.authentication.k8s.io/v1"
const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "exec-plugin-"))
after(() => fs.rmSync(dir, { recursive: true, force: true }))

const credential = (status: unknown, apiVersion = v1) => JSON.stringify({ apiVersion, kind: "ExecCredential", status })

describe("ExecPlugin.parse", () => {
  const cases: ReadonlyArray<readonly [string, string, string]> = [
    ["not JSON", "hunter2", "decoding stdout: not a JSON ExecCredential"],
    ["another kind", JSON.stringify({ apiVersion: v1, kind: "Secret" }), "decoding stdout: not an ExecCredential"],
    [
      "another version",
      credential({ token: "hunter2" }, "client.authentication.k8s.io/v1beta1"),
      `exec plugin is configured to use API version ${v1}, plugin returned version client.authentication.k8s.io/v1beta1`,
    ],
    [
      "no status",
      JSON.stringify({ apiVersion: v1, kind: "ExecCredential" }),
      "exec plugin didn't return a status field",
    ],
    ["empty status", credential({ token: "" }), "exec plugin didn't return a token or cert/key pair"],
    [
      "a key without its certificate",
      credential({ clientKeyData: "hunter2" }),
      "exec plugin returned only certificate or key, not both",
    ],
    [
      "a bad expiry",
      credential({ token: "hunter2", expirationTimestamp: "soon" }),
      "exec plugin returned an invalid status.expirationTimestamp",
    ],
  ]
  for (const [name, stdout, message] of cases) {
    it(`refuses ${name} without quoting it`, () => {
      const result = ExecPlugin.parse(v1, stdout)
      assert.ok(Either.isLeft(result))
      assert.equal(result.left, message)
      assert.ok(!result.left.includes("hunter2"))
    })
  }

  it("reads a token, a certificate and key pair, and the expiry", () => {
    const result = ExecPlugin.parse(
      v1,
      credential({
        token: "t",
        clientCertificateData: "CERT",
        clientKeyData: "KEY",
        expirationTimestamp: "2030-01-01T00:00:00Z",
      }),
    )
    assert.ok(Either.isRight(result))
    const { token, certPem, keyPem, expiresAt } = result.right
    assert.equal(Option.getOrThrow(token).pipe(Redacted.value), "t")
    assert.equal(certPem, "CERT")
    assert.equal(keyPem && Redacted.value(keyPem), "KEY")
    assert.equal(expiresAt, Date.parse("2030-01-01T00:00:00Z"))
    assert.ok(!String(keyPem).includes("KEY"))
  })
})

/** A plugin that counts its runs in a file and prints `token-<n>`, expiring ten minutes after the Unix epoch. */
const counting = (name: string, body = "") => {
  const counter = nodePath.join(dir, `${name}.count`)
  const command = nodePath.join(dir, `${name}.sh`)
  fs.writeFileSync(
    command,
    `#!/bin/sh\n${body}\nn=$(cat '${counter}' 2>/dev/null || echo 0)\nn=$((n+1))\necho $n > '${counter}'\n` +
      `printf '{"apiVersion":"${v1}","kind":"ExecCredential","status":{"token":"token-%s","expirationTimestamp":"1970-01-01T00:10:00Z"}}' $n\n`,
    { mode: 0o755 },
  )
  return { command, runs: () => Number(fs.readFileSync(counter, "utf8")) }
}

const exec = (command: string) => ({ apiVersion: v1, command, env: [{ name: "KUBERNETES_EXEC_INFO", value: "{}" }] })

const token = (c: ExecPlugin.Credential) => Redacted.value(Option.getOrThrow(c.token))

/** Waits until a file exists, yielding to the event loop between looks (no timer, so the TestClock rules time). */
const untilExists = (file: string): Effect.Effect<void> =>
  Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve))).pipe(
    Effect.repeat({ until: () => fs.existsSync(file) }),
    Effect.asVoid,
  )

describe("ExecPlugin.cached", () => {
  it("reuses the credential until it expires and after a 401 runs the plugin again", async () => {
    const plugin = counting("expiry")
    const tokens = await runTest(
      Effect.gen(function* () {
        const cached = yield* ExecPlugin.cached("test", exec(plugin.command))
        const seen = [yield* cached.get, yield* cached.get]
        yield* TestClock.adjust(10 * minute - 1)
        seen.push(yield* cached.get)
        yield* TestClock.adjust(1)
        seen.push(yield* cached.get)
        yield* cached.invalidate
        seen.push(yield* cached.get)
        return seen.map(token)
      }).pipe(Effect.provide(NodeContext.layer)),
    )
    assert.deepEqual(tokens, ["token-1", "token-1", "token-1", "token-2", "token-3"])
    assert.equal(plugin.runs(), 3)
  })

  it("runs the plugin once for concurrent callers, with standard input closed", async () => {
    // `cat` reads standard input to its end: it would hang if the plugin were given an open pipe. The plugin then
    // says it started and waits for a gate file, which the test creates once every caller is waiting.
    const started = nodePath.join(dir, "shared.started")
    const gate = nodePath.join(dir, "shared.gate")
    const plugin = counting("shared", `cat >/dev/null\n: > '${started}'\nwhile [ ! -e '${gate}' ]; do sleep 0.01; done`)
    const tokens = await runTest(
      Effect.gen(function* () {
        const cached = yield* ExecPlugin.cached("test", exec(plugin.command))
        const callers = yield* Effect.fork(
          Effect.all(Array.from({ length: 5 }, () => cached.get), { concurrency: "unbounded" }),
        )
        yield* untilExists(started)
        fs.writeFileSync(gate, "")
        return yield* Fiber.join(callers)
      }).pipe(Effect.provide(NodeContext.layer)),
    )
    assert.deepEqual(tokens.map(token), Array(5).fill("token-1"))
    assert.equal(plugin.runs(), 1)
  })
})

describe("ExecPlugin.run", () => {
  const failure = (command: string, drive: Effect.Effect<void> = Effect.void) =>
    runTest(
      Effect.gen(function* () {
        const fiber = yield* Effect.fork(Effect.flip(ExecPlugin.run('kubeconfig context "dev"', exec(command))))
        yield* drive
        return yield* Fiber.join(fiber)
      }).pipe(Effect.provide(NodeContext.layer)),
    )

  it("names a missing executable", async () => {
    const error = await failure(nodePath.join(dir, "absent"))
    assert.equal(error.reason, "Credentials")
    assert.equal(error.message, `kubeconfig context "dev": exec: executable ${nodePath.join(dir, "absent")} not found`)
  })

  it("reports the exit code and the last line of standard error", async () => {
    const command = nodePath.join(dir, "fails.sh")
    fs.writeFileSync(command, "#!/bin/sh\necho starting >&2\necho 'please log in again' >&2\nexit 3\n", { mode: 0o755 })
    const error = await failure(command)
    assert.equal(error.detail, `exec: executable ${command} failed with exit code 3: please log in again`)
  })

  it("reads a flood of output to its end and refuses it", async () => {
    const command = nodePath.join(dir, "floods.sh")
    fs.writeFileSync(command, "#!/bin/sh\nhead -c 3000000 /dev/zero | tr '\\0' a\n", { mode: 0o755 })
    const error = await failure(command)
    assert.equal(error.detail, `exec plugin printed more than ${ExecPlugin.maxOutputBytes} bytes`)
  })

  it("finishes when the plugin exits, though a child it left running holds its output open", {
    timeout: 30_000,
  }, async () => {
    const cases = [["stderr", "sleep 300 >/dev/null &"], ["stdout-and-stderr", "sleep 300 &"]] as const
    for (const [held, background] of cases) {
      const command = nodePath.join(dir, `leaves-${held}.sh`)
      const pidFile = nodePath.join(dir, `leaves-${held}.pid`)
      fs.writeFileSync(
        command,
        `#!/bin/sh\n${background}\necho $! > '${pidFile}'\n` +
          `printf '{"apiVersion":"${v1}","kind":"ExecCredential","status":{"token":"held-${held}"}}'\n`,
        { mode: 0o755 },
      )
      try {
        // The live clock: the plugin's one-minute timeout must not be what ends the run.
        const credential = await Effect.runPromise(
          ExecPlugin.run("test", exec(command)).pipe(Effect.provide(NodeContext.layer)),
        )
        assert.equal(token(credential), `held-${held}`)
        const child = Number(fs.readFileSync(pidFile, "utf8"))
        assert.doesNotThrow(() => process.kill(child, 0), `the background child holding ${held} had exited already`)
      } finally {
        const child = Number(fs.readFileSync(pidFile, "utf8"))
        if (child > 0) {
          try {
            process.kill(child, "SIGKILL")
          } catch {
            // already gone
          }
        }
      }
    }
  })

  it("gives up on a plugin that runs longer than a minute (TestClock)", async () => {
    const command = nodePath.join(dir, "hangs.sh")
    const started = nodePath.join(dir, "hangs.started")
    fs.writeFileSync(command, `#!/bin/sh\n: > '${started}'\nsleep 30\n`, { mode: 0o755 })
    const error = await failure(
      command,
      // Once the process runs, move the test clock past the timeout.
      untilExists(started).pipe(Effect.zipRight(TestClock.adjust(minute))),
    )
    assert.equal(error.detail, `exec: executable ${command} timed out`)
  })
})
