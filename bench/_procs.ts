/**
 * Child processes for the benchmarks: spawned in their own process group, every one stopped at exit (even on failure),
 * and the /proc readings (RSS, CPU ticks) the agent benchmarks report.
 */
import { spawn, spawnSync } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import process from "node:process"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { sleep } from "./_util.ts"

export const root: string = nodePath.resolve(
  import.meta.dirname ?? nodePath.dirname(new URL(import.meta.url).pathname),
  "..",
)
export const bin = (name: string): string => nodePath.join(root, "node_modules", ".bin", name)

/** How each runtime runs the CLI the way a user would (from the repository root). */
export const cliCommand = (runtime: string): ReadonlyArray<string> =>
  runtime === "deno"
    ? [bin("deno"), "run", "-A", "adapters/cli/main.ts"]
    : runtime === "bun"
    ? [bin("bun"), "adapters/cli/main.ts"]
    : runtime === "node-dist"
    ? [process.execPath, "dist/bin/sa-token.js"]
    : [process.execPath, "--import", "tsx", "adapters/cli/main.ts"]

const live = new Set<ChildProcess>()

const killGroup = (child: ChildProcess, signal: NodeJS.Signals): void => {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    try {
      child.kill(signal)
    } catch {
      // already gone
    }
  }
}

process.on("exit", () => {
  for (const child of live) killGroup(child, "SIGKILL")
})
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    for (const child of live) killGroup(child, "SIGKILL")
    process.exit(130)
  })
}

export interface Running {
  readonly child: ChildProcess
  readonly pid: number
  readonly stderr: () => string
  readonly stdout: () => string
  readonly exited: Promise<number | null>
  /** SIGTERM to the group, then SIGKILL after `graceMillis`. */
  readonly stop: (graceMillis?: number) => Promise<void>
}

/** Starts a process in its own group, keeping the last 64 KB of its output. */
export const start = (argv: ReadonlyArray<string>, env: Record<string, string> = {}): Running => {
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  })
  live.add(child)
  let out = ""
  let err = ""
  child.stdout!.on("data", (d: Buffer) => {
    out = (out + d.toString()).slice(-65536)
  })
  child.stderr!.on("data", (d: Buffer) => {
    err = (err + d.toString()).slice(-65536)
  })
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code) => {
      live.delete(child)
      resolve(code)
    })
    child.on("error", () => {
      live.delete(child)
      resolve(-1)
    })
  })
  const stop = async (graceMillis = 10_000) => {
    killGroup(child, "SIGTERM")
    const done = await Promise.race([exited.then(() => true), sleep(graceMillis).then(() => false)])
    if (!done) {
      killGroup(child, "SIGKILL")
      await Promise.race([exited, sleep(2000)])
    }
  }
  return { child, pid: child.pid ?? -1, stderr: () => err, stdout: () => out, exited, stop }
}

/**
 * Runs a command to completion (bounded), returning its wall time in ms, exit code and output. The spawn is synchronous:
 * nothing else runs in this process meanwhile, so what is timed is the child's life plus about a millisecond of
 * spawning (an asynchronous spawn, awaited through the event loop, added about four, which made every start-up ratio
 * look better than it is). A command that needs this process to answer it (a server running here) must not be timed
 * with it.
 */
export const runOnce = (
  argv: ReadonlyArray<string>,
  env: Record<string, string> = {},
  timeoutMillis = 60_000,
): { millis: number; code: number | null; stdout: string; stderr: string } => {
  const started = performance.now()
  const run = spawnSync(argv[0]!, argv.slice(1), {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    timeout: timeoutMillis,
    killSignal: "SIGKILL",
    maxBuffer: 16 << 20,
  })
  const millis = performance.now() - started
  const stderr = run.stderr?.toString() ?? ""
  return {
    millis,
    code: run.error !== undefined || run.signal !== null ? null : run.status,
    stdout: run.stdout?.toString() ?? "",
    stderr: run.signal !== null ? `ended by ${run.signal}\n${stderr}` : stderr,
  }
}

/** The deepest descendant of `pid` (a runtime that re-executes itself), or `pid`. */
export const leafPid = (pid: number): number => {
  for (let depth = 0; depth < 5; depth++) {
    const children: Array<number> = []
    for (const entry of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8")
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
        if (Number(fields[1]) === pid) children.push(Number(entry))
      } catch {
        // gone
      }
    }
    if (children.length !== 1) return pid
    pid = children[0]!
  }
  return pid
}

/** VmRSS and VmHWM of a process, in KiB. */
export const memory = (pid: number): { rssKiB: number; hwmKiB: number } => {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8")
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? NaN)
  return { rssKiB: field("VmRSS"), hwmKiB: field("VmHWM") }
}

/** utime + stime of a process, in clock ticks (100 per second on Linux). */
export const cpuTicks = (pid: number): number => {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  // after the command: state(0) ppid(1) ... utime is field 14 overall (index 11 here), stime 15 (index 12)
  return Number(fields[11]) + Number(fields[12])
}
export const ticksPerSecond = 100

/**
 * Ends a bench: closes its scope, if it has one (the development API server waits for open connections when it
 * closes: bounded at 5 s), removes its directory and exits with `process.exitCode`.
 */
export const closeAndExit = async (dir: string, scope?: Scope.CloseableScope): Promise<never> => {
  const closed = scope === undefined || await Promise.race([
    Effect.runPromise(Scope.close(scope, Exit.void)).then(() => true),
    sleep(5000).then(() => false),
  ])
  if (!closed) console.log("(the development API server did not close within 5 s; exiting anyway)")
  fs.rmSync(dir, { recursive: true, force: true })
  return process.exit(process.exitCode ?? 0)
}
