/**
 * Every benchmark of issue 7, one after the other, each in its own process so that one does not disturb the next:
 * core.bench (items 1–3), devserver-sign, agent-day (item 4), agent-real (item 5), cli-latency (item 6: the bin's
 * start-up on Node, Bun and Deno against each runtime's bare start, which exits 1 when a command misses its 2x
 * target). Every table goes to stdout as each benchmark prints it; a failing benchmark is reported and the others
 * still run (the exit code is then 1).
 *
 * Run: `node --import tsx bench/all.ts` (what `npm run bench` runs). Sizes come from the environment:
 * `AGENT_DAY_TOKENS`, `AGENT_DAY_TESTCLOCK_TOKENS`, `AGENT_DAY_RESTART_TOKENS`, `AGENT_REAL_TOKENS`,
 * `AGENT_REAL_IDLE_SECONDS`, `AGENT_REAL_RUNTIMES`, `CLI_RUNS`, `BENCH_SECONDS`; `BENCH_ONLY=agent-day,cli-latency`
 * runs a subset.
 */
import { spawn } from "node:child_process"
import process from "node:process"
import { bin, root } from "./_procs.ts"

const node = process.execPath
const benches: ReadonlyArray<{ readonly name: string; readonly argv: ReadonlyArray<string> }> = [
  { name: "core", argv: [node, "--expose-gc", "--import", "tsx", "bench/core.bench.ts"] },
  // The core's hit-path targets hold on Deno too: the same benchmark under Deno's V8.
  { name: "core-deno", argv: [bin("deno"), "run", "-A", "--v8-flags=--expose-gc", "bench/core.bench.ts"] },
  { name: "devserver-sign", argv: [node, "--import", "tsx", "bench/devserver-sign.ts"] },
  { name: "agent-day", argv: [node, "--import", "tsx", "bench/agent-day.bench.ts"] },
  { name: "agent-real", argv: [node, "--import", "tsx", "bench/agent-real.bench.ts"] },
  { name: "cli-latency", argv: [node, "--import", "tsx", "bench/cli-latency.bench.ts"] },
]
const only = process.env.BENCH_ONLY?.split(",").map((s) => s.trim())

const run = (argv: ReadonlyArray<string>): Promise<number | null> =>
  new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: root, stdio: "inherit" })
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal)
    const onInt = forward("SIGINT")
    const onTerm = forward("SIGTERM")
    process.on("SIGINT", onInt)
    process.on("SIGTERM", onTerm)
    child.on("exit", (code, signal) => {
      process.off("SIGINT", onInt)
      process.off("SIGTERM", onTerm)
      resolve(signal === null ? code : 128)
    })
    child.on("error", () => resolve(-1))
  })

const started = Date.now()
const failed: Array<string> = []
for (const bench of benches) {
  if (only !== undefined && !only.includes(bench.name)) continue
  console.log(`\n## ${bench.name}: ${bench.argv.slice(1).join(" ")}\n`)
  const t0 = Date.now()
  const code = await run(bench.argv)
  console.log(`\n(${bench.name}: ${((Date.now() - t0) / 1000).toFixed(0)} s${code === 0 ? "" : `, exit code ${code}`})`)
  if (code !== 0) failed.push(bench.name)
}
console.log(
  `\nall benchmarks: ${((Date.now() - started) / 1000).toFixed(0)} s${
    failed.length ? `; FAILED: ${failed.join(", ")}` : ""
  }`,
)
process.exitCode = failed.length > 0 ? 1 : 0
