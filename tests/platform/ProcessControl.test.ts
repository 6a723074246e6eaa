/**
 * The ProcessControl port over node:process, on the runtime running the suite: signals reach the process named by its
 * PID and fail with a typed reason otherwise, the deprecation mute is undone whatever the muted effect does, and `exit`
 * ends a program with the chosen code after what it wrote.
 */
import assert from "node:assert/strict"
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import process from "node:process"
import { describe, it } from "node:test"
import { fileURLToPath } from "node:url"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as NodeProcessControl from "../../adapters/platform/NodeProcessControl.ts"
import type { SignalError } from "../../adapters/platform/ProcessControl.ts"
import { runtime } from "../_support/runtime.ts"
import { failureOf } from "../_support/scratch.ts"

const control = NodeProcessControl.make()

const root = nodePath.resolve(nodePath.dirname(fileURLToPath(import.meta.url)), "..", "..")

const signalError = async (pid: number, signal: string): Promise<SignalError> =>
  failureOf(await Effect.runPromise(Effect.exit(control.kill(pid, signal))), "the signal should not be sent")

describe("ProcessControl over node:process", () => {
  it("sends a signal to a process by PID", async () => {
    const child = spawn("sleep", ["30"], { stdio: "ignore" })
    const ended = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once("exit", (_code, signal) => resolve(signal))
    )
    await Effect.runPromise(control.kill(child.pid!, "SIGTERM"))
    assert.equal(await ended, "SIGTERM")
  })

  it("names a missing process and an unknown signal, with the PID and the signal in the message", async () => {
    // A PID above the kernel's largest (2^22) never names a process.
    const missing = await signalError(2 ** 22 + 7, "SIGHUP")
    assert.equal(missing.reason, "NoSuchProcess")
    assert.match(missing.message, /^cannot send SIGHUP to 4194311: /)
    const unknown = await signalError(process.pid, "SIGNOPE")
    assert.equal(unknown.reason, "InvalidSignal")
  })

  it("mutes deprecation warnings only while the effect runs, and restores the setting after a failure", async () => {
    const previous = process.noDeprecation
    try {
      process.noDeprecation = false
      const seen = await Effect.runPromise(
        control.withoutDeprecationWarnings(Effect.sync(() => process.noDeprecation)),
      )
      assert.equal(seen, true)
      assert.equal(process.noDeprecation, false)
      const failed = await Effect.runPromise(Effect.exit(control.withoutDeprecationWarnings(Effect.fail("boom"))))
      assert.ok(Exit.isFailure(failed))
      assert.equal(process.noDeprecation, false)
    } finally {
      process.noDeprecation = previous === true
    }
  })

  it("exits with the chosen code after what was written, and tells that stdout is not a terminal", () => {
    const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "exit-"))
    try {
      const module = nodePath.join(root, "adapters/platform/NodeProcessControl.ts")
      const script = nodePath.join(dir, "main.ts")
      fs.writeFileSync(
        script,
        [
          `import * as Effect from ${JSON.stringify(import.meta.resolve("effect/Effect"))}`,
          `import * as NodeProcessControl from ${JSON.stringify(module)}`,
          `const control = NodeProcessControl.make()`,
          `Effect.runFork(Effect.gen(function* () {`,
          `  console.log(\`terminal: \${yield* control.stdoutIsTerminal}\`)`,
          `  yield* control.exit(3)`,
          `  console.log("after exit")`,
          `}))`,
        ].join("\n"),
      )
      const [command, ...args] = runtime === "deno"
        ? [process.execPath, "run", "-A", "--no-check", "--config", nodePath.join(root, "deno.json"), script]
        : runtime === "bun"
        ? [process.execPath, script]
        : [process.execPath, "--import", "tsx", script]
      const result = spawnSync(command!, args, { encoding: "utf8", cwd: process.cwd() })
      assert.equal(result.stdout, "terminal: false\n", result.stderr)
      assert.equal(result.status, 3)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
