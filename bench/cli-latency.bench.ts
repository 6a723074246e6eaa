/**
 * the cold start of `exec-credential` on each runtime, the cost kubectl pays on every invocation. The
 * whole process is timed (spawn to exit, the median of `CLI_RUNS` runs, default 10), run the way a user runs it from
 * this repository:
 *
 * - `deno run -A adapters/cli/main.ts`, `node --import tsx adapters/cli/main.ts`, `bun adapters/cli/main.ts`, and
 *   `node dist/bin/sa-token.js` (the npm bin, bundled by `npm run build`) when that build exists;
 * - served from a running agent's socket (`exec-credential --name t --socket PATH`), and from the on-disk cache
 *   (`exec-credential --name t --config FILE` for a configuration without an endpoint, after one warm-up call that
 *   fills the cache);
 * - against the same runtime starting a trivial script the same way (`bench/_trivial.ts`), so that the ratio is our
 *   overhead; plain `node -e` is also timed, to show what tsx costs.
 *
 * Run: `node --import tsx bench/cli-latency.bench.ts`. The development API server runs in this process; the agent
 * (Node) is a child process stopped at the end, even on failure.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import process from "node:process"
import * as Effect from "effect/Effect"
import * as Scope from "effect/Scope"
import * as DevServer from "../adapters/devserver/mod.ts"
import { bin, cliCommand, closeAndExit, root, runOnce, start } from "./_procs.ts"
import { fmt, median, printTable, runtimeName, sleep } from "./_util.ts"

const runs = Number(process.env.CLI_RUNS ?? 10)
const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "bench-cli-"))
const scope = Effect.runSync(Scope.make())
const ms = (x: number) => `${fmt(x, 0)} ms`

const trivial: Record<string, ReadonlyArray<string>> = {
  deno: [bin("deno"), "run", "-A", "bench/_trivial.ts"],
  node: [process.execPath, "--import", "tsx", "bench/_trivial.ts"],
  bun: [bin("bun"), "bench/_trivial.ts"],
  "node-dist": [process.execPath, "-e", "console.log('ok')"],
}

/** Median wall time of `runs` runs (after one unmeasured warm-up), and how many printed a token. */
const time = async (argv: ReadonlyArray<string>, env: Record<string, string>, expectToken: boolean) => {
  const samples: Array<number> = []
  let ok = 0
  let lastError = ""
  for (let i = 0; i <= runs; i++) {
    const r = await runOnce(argv, env, 60_000)
    const good = r.code === 0 && (!expectToken || /"token":\s*"[^"]+\.[^"]+\.[^"]*"/.test(r.stdout))
    if (!good) lastError = r.stderr.slice(-300)
    if (i > 0) {
      samples.push(r.millis)
      if (good) ok++
    }
  }
  return { median: median(samples), min: Math.min(...samples), ok, lastError }
}

let agent: ReturnType<typeof start> | undefined
try {
  console.log(`# cli-latency: exec-credential cold start, median of ${runs} runs (bench process ${runtimeName()})`)
  const kubeconfig = nodePath.join(dir, "kubeconfig")
  const server = await Effect.runPromise(Scope.extend(DevServer.start({ kubeconfigOut: kubeconfig }), scope))
  server.state.upsertServiceAccount("default", "builder")
  const socket = nodePath.join(dir, "run", "agent.sock")
  fs.mkdirSync(nodePath.dirname(socket), { mode: 0o700 })
  const token = `  - { name: t, namespace: default, serviceAccount: builder, file: { path: ${dir}/out/t } }`
  const withSocket = nodePath.join(dir, "agent.yaml")
  fs.writeFileSync(
    withSocket,
    `cluster: { kubeconfig: ${kubeconfig} }\nendpoint: { unix: { path: ${socket} } }\nlog: { level: warning }\ntokens:\n${token}\n`,
  )
  const cacheOnly = nodePath.join(dir, "cache.yaml")
  fs.writeFileSync(cacheOnly, `cluster: { kubeconfig: ${kubeconfig} }\nlog: { level: warning }\ntokens:\n${token}\n`)
  agent = start([...cliCommand("node"), "agent", "--config", withSocket])
  for (let i = 0; i < 600 && !(fs.existsSync(socket) && fs.existsSync(`${dir}/out/t`)); i++) await sleep(50)
  if (!fs.existsSync(socket)) throw new Error(`the agent did not open its socket: ${agent.stderr().slice(-1000)}`)
  const env = { XDG_CACHE_HOME: nodePath.join(dir, "cache") }
  const runtimes = [
    "deno",
    "node",
    "bun",
    ...(fs.existsSync(nodePath.join(root, "dist/bin/sa-token.js")) ? ["node-dist"] : []),
  ]
  const rows: Array<Array<string>> = []
  const failures: Array<string> = []
  for (const runtime of runtimes) {
    const base = await time(trivial[runtime]!, env, false)
    const viaSocket = await time(
      [...cliCommand(runtime), "exec-credential", "--name", "t", "--socket", socket],
      env,
      true,
    )
    const viaCache = await time(
      [...cliCommand(runtime), "exec-credential", "--name", "t", "--config", cacheOnly],
      env,
      true,
    )
    for (const [what, r] of [["socket", viaSocket], ["cache", viaCache]] as const) {
      if (r.ok < runs) failures.push(`${runtime} ${what}: ${runs - r.ok} of ${runs} runs failed: ${r.lastError}`)
    }
    rows.push([
      runtime === "node"
        ? "node --import tsx"
        : runtime === "node-dist"
        ? "node dist/bin (the npm bin, bundled)"
        : runtime,
      runtime === "node-dist" ? `${ms(base.median)} (node -e)` : ms(base.median),
      ms(viaSocket.median),
      `${fmt(viaSocket.median / base.median, 2)}x`,
      `+${ms(viaSocket.median - base.median)}`,
      ms(viaCache.median),
      `${fmt(viaCache.median / base.median, 2)}x`,
      `+${ms(viaCache.median - base.median)}`,
      `${viaSocket.ok + viaCache.ok}/${2 * runs}`,
    ])
  }
  const plainNode = await time([process.execPath, "-e", "console.log('ok')"], env, false)
  console.log()
  printTable(
    [
      "Runtime",
      "Trivial script",
      "From socket",
      "Ratio",
      "Overhead",
      "From cache",
      "Ratio",
      "Overhead",
      "Tokens printed",
    ],
    rows,
  )
  console.log()
  console.log(
    `plain \`node -e\`: ${ms(plainNode.median)}; \`node --import tsx\` of a trivial script costs ` +
      `${
        ms(median(rows.length > 1 ? [Number(rows[1]![1]!.replace(/[^\d.]/g, ""))] : [NaN]) - plainNode.median)
      } more (tsx's cost)`,
  )
  for (const failure of failures) console.log(`FAILED: ${failure}`)
} catch (error) {
  console.error(error)
  process.exitCode = 1
} finally {
  if (agent !== undefined) await agent.stop()
  await closeAndExit(scope, dir)
}
