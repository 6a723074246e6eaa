/**
 * What kubectl pays for `sa-token` on every command: the whole process (spawn to exit) of the npm bin
 * (`dist/bin/sa-token.js`, rebuilt first with `scripts/build-bin.sh`) on Node, Bun and Deno, against the same runtime
 * starting nothing (`node -e 0`, `bun -e 0`, `deno eval 0`), measured in rounds in the same run: each round runs the
 * bare start and every command once, in turn, so that a drift of the machine's speed hits both sides of a ratio alike.
 * The figure is the median of `CLI_RUNS` rounds (default 10, after one warm-up round) and the ratio of the medians.
 *
 * Also timed, as references without a target, each a file that prints `ok`: the Effect floor (`bench/_effect-floor.ts`,
 * bundled the same way: just `effect/Effect` and `effect/Schema` decoding one value), the start-up any Effect program
 * pays on that runtime; and, in a table of their own, a one-line script (what running any file costs over the bare
 * start), the Micro floor (`bench/_micro-floor.ts`: the same in `effect/Micro`, Effect's lightweight runtime) and
 * one-line scripts that import `node:fs` and `node:http` (what the lean paths' file and socket calls cost to load).
 *
 * Commands: `version`; `--help`; `exec-credential SA --kubeconfig K --cache-dir D` answered from the on-disk cache (the
 * warm-up round fills it); `exec-credential --name t --socket S` answered by a running agent; and a cache miss (a new
 * cache directory for every run, so each makes a TokenRequest to the development API server: reported, no target).
 * Deno runs the bin as `deno run -A dist/bin/sa-token.js`, as the README tells Deno users to run the npm bin; the row
 * `deno (source)` runs `adapters/cli/main.ts` from this checkout, the way `deno run` of the JSR package loads it
 * (JSR itself is not reachable from the benchmark machine), reported without a target.
 *
 * Target: every command except the miss at most 2x the bare start of its runtime. A missed target, or a run that did
 * not print what it should, makes the exit code 1.
 *
 * Each run is timed with a synchronous spawn (`runOnce`), which adds about a millisecond to both sides of a ratio.
 *
 * Run: `node --import tsx bench/cli-latency.bench.ts`. The development API server and the agent (both the npm bin on
 * Node) are child processes stopped at the end, even on failure.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import process from "node:process"
import { bin, closeAndExit, root, runOnce, start } from "./_procs.ts"
import { fmt, median, printTable, runtimeName, sleep } from "./_util.ts"

const runs = Number(process.env.CLI_RUNS ?? 10)
const target = 2
const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "bench-cli-"))
const ms = (x: number) => `${fmt(x, 0)} ms`

interface Runtime {
  readonly name: string
  /** The bare start: the runtime running nothing. */
  readonly bare: ReadonlyArray<string>
  /** How the runtime runs a file: the file is appended. */
  readonly run: ReadonlyArray<string>
  /** The bin it runs: the npm bin, or the sources for `deno (source)`. */
  readonly entry: string
  /** Whether the references run from their sources, as the entry does (else bundled as the bin is). */
  readonly fromSource: boolean
  /** Whether the 2x target applies. */
  readonly targeted: boolean
}

/** A reference timed in the same rounds, without a target: a file that prints `ok`. */
interface Reference {
  readonly name: string
  /** Writes or bundles the file, once, before the rounds. */
  readonly prepare: () => void
  /** The file each runtime runs: the source for `deno (source)`, else the bundle or the script. */
  readonly file: (runtime: Runtime) => string
  /** Whether it belongs in the main table (the others are printed in a table of their own). */
  readonly main: boolean
}

const theBin = "dist/bin/sa-token.js"
/** A one-line script file, the same on every runtime. */
const script = (name: string, file: string, text: string): Reference => {
  const path = nodePath.join(dir, file)
  return { name, prepare: () => fs.writeFileSync(path, text), file: () => path, main: false }
}
/** A floor program: bundled as the bin is, or its source for `deno (source)`. */
const floor = (name: string, source: string, main: boolean): Reference => {
  const bundle = nodePath.join(dir, nodePath.basename(source).replace(/\.ts$/, ".js"))
  const esbuild = [source, "--bundle", "--platform=node", "--format=esm", "--minify", `--outfile=${bundle}`]
  return {
    name,
    prepare: () => execFileSync(bin("esbuild"), esbuild, { cwd: root, stdio: "inherit" }),
    file: (runtime) => runtime.fromSource ? source : bundle,
    main,
  }
}
const references: ReadonlyArray<Reference> = [
  floor("Effect floor", "bench/_effect-floor.ts", true),
  script("One-line script", "one-line.js", 'console.log("ok")\n'),
  floor("Micro floor", "bench/_micro-floor.ts", false),
  script("import node:fs", "import-fs.js", 'import "node:fs"\nconsole.log("ok")\n'),
  script("import node:http", "import-http.js", 'import "node:http"\nconsole.log("ok")\n'),
]
const runtimes: ReadonlyArray<Runtime> = [
  {
    name: "node",
    bare: [process.execPath, "-e", "0"],
    run: [process.execPath],
    entry: theBin,
    fromSource: false,
    targeted: true,
  },
  { name: "bun", bare: [bin("bun"), "-e", "0"], run: [bin("bun")], entry: theBin, fromSource: false, targeted: true },
  {
    name: "deno",
    bare: [bin("deno"), "eval", "0"],
    run: [bin("deno"), "run", "-A"],
    entry: theBin,
    fromSource: false,
    targeted: true,
  },
  {
    name: "deno (source)",
    bare: [bin("deno"), "eval", "0"],
    run: [bin("deno"), "run", "-A"],
    entry: "adapters/cli/main.ts",
    fromSource: true,
    targeted: false,
  },
]

interface Case {
  readonly name: string
  /** The arguments of run `i` (0 is the warm-up). */
  readonly args: (i: number) => ReadonlyArray<string>
  /** What stdout must match for the run to count as answered. */
  readonly expect: RegExp
  readonly targeted: boolean
}

const credential = /"token":\s*"[^"]+\.[^"]+\.[^"]*"/

/** Runs every case and reference of a runtime in rounds; returns the medians of the bare start, each case, each reference. */
const measure = (runtime: Runtime, cases: ReadonlyArray<Case>, env: Record<string, string>) => {
  const bare: Array<number> = []
  const samples = cases.map(() => [] as Array<number>)
  const referenceSamples = references.map(() => [] as Array<number>)
  const failures: Array<string> = []
  for (let i = 0; i <= runs; i++) {
    const base = runOnce(runtime.bare, env)
    if (i > 0) bare.push(base.millis)
    for (const [r, reference] of references.entries()) {
      const result = runOnce([...runtime.run, reference.file(runtime)], env)
      if (result.code !== 0 || result.stdout !== "ok\n") {
        failures.push(`${runtime.name} ${reference.name}: exit ${result.code}: ${result.stderr.slice(-300)}`)
      }
      if (i > 0) referenceSamples[r]!.push(result.millis)
    }
    for (const [c, kase] of cases.entries()) {
      const r = runOnce([...runtime.run, runtime.entry, ...kase.args(i)], env)
      if (r.code !== 0 || !kase.expect.test(r.stdout)) {
        failures.push(`${runtime.name} ${kase.name} (run ${i}): exit ${r.code}: ${r.stderr.slice(-300)}`)
      }
      if (i > 0) samples[c]!.push(r.millis)
    }
  }
  return { bare: median(bare), medians: samples.map(median), references: referenceSamples.map(median), failures }
}

const children: Array<ReturnType<typeof start>> = []
try {
  console.log(`# cli-latency: the sa-token bin against its runtime's bare start, median of ${runs} rounds`)
  console.log(`# (bench process ${runtimeName()}; the bin is rebuilt first)`)
  execFileSync("bash", ["scripts/build-bin.sh", "dist/bin"], { cwd: root, stdio: "inherit" })
  for (const reference of references) reference.prepare()
  // The development API server is a child process too: the runs are timed with a synchronous spawn, during which
  // nothing in this process could answer a cache miss's TokenRequest.
  const kubeconfig = nodePath.join(dir, "kubeconfig")
  const server = start([
    process.execPath,
    theBin,
    "dev-server",
    "--listen",
    "127.0.0.1:0",
    "--kubeconfig-out",
    kubeconfig,
  ])
  children.push(server)
  for (let i = 0; i < 600 && !fs.existsSync(kubeconfig); i++) await sleep(50)
  if (!fs.existsSync(kubeconfig)) throw new Error(`the API server did not start: ${server.stderr().slice(-1000)}`)
  const socket = nodePath.join(dir, "run", "agent.sock")
  fs.mkdirSync(nodePath.dirname(socket), { mode: 0o700 })
  const agentConfig = nodePath.join(dir, "agent.yaml")
  fs.writeFileSync(
    agentConfig,
    `cluster: { kubeconfig: ${kubeconfig} }\nendpoint: { unix: { path: ${socket} } }\nlog: { level: warning }\n` +
      `tokens:\n  - { name: t, namespace: default, serviceAccount: default, file: { path: ${dir}/out/t } }\n`,
  )
  const agent = start([process.execPath, theBin, "agent", "--config", agentConfig])
  children.push(agent)
  for (let i = 0; i < 600 && !(fs.existsSync(socket) && fs.existsSync(`${dir}/out/t`)); i++) await sleep(50)
  if (!fs.existsSync(socket)) throw new Error(`the agent did not open its socket: ${agent.stderr().slice(-1000)}`)
  const env = { HOME: dir, XDG_CACHE_HOME: nodePath.join(dir, "xdg") }
  const rows: Array<Array<string>> = []
  const referenceRows: Array<Array<string>> = []
  const failures: Array<string> = []
  const misses: Array<string> = []
  for (const runtime of runtimes) {
    const cache = nodePath.join(dir, `cache-${runtime.name.replace(/\W+/g, "-")}`)
    const request = ["exec-credential", "default", "--kubeconfig", kubeconfig]
    const cases: ReadonlyArray<Case> = [
      { name: "version", args: () => ["version"], expect: /^\d+\.\d+\.\d+/, targeted: true },
      { name: "--help", args: () => ["--help"], expect: /USAGE/, targeted: true },
      { name: "cache hit", args: () => [...request, "--cache-dir", cache], expect: credential, targeted: true },
      {
        name: "agent socket",
        args: () => ["exec-credential", "--name", "t", "--socket", socket],
        expect: credential,
        targeted: true,
      },
      {
        name: "cache miss",
        args: (i) => [...request, "--cache-dir", `${cache}-miss-${i}`],
        expect: credential,
        targeted: false,
      },
    ]
    const result = measure(runtime, cases, env)
    failures.push(...result.failures)
    const cells = cases.map((kase, c) => {
      const ratio = result.medians[c]! / result.bare
      const checked = runtime.targeted && kase.targeted
      if (checked && !(ratio <= target)) misses.push(`${runtime.name} ${kase.name}: ${fmt(ratio, 2)}x > ${target}x`)
      return `${ms(result.medians[c]!)} (${fmt(ratio, 2)}x${checked ? (ratio <= target ? "" : " MISS") : ""})`
    })
    const label = `${runtime.name}: ${
      [...runtime.run, runtime.entry].map((a, i) => i === 0 ? nodePath.basename(a) : a).join(" ")
    }`
    const relative = (millis: number) => `${ms(millis)} (${fmt(millis / result.bare, 2)}x)`
    const main = references.flatMap((reference, r) => reference.main ? [relative(result.references[r]!)] : [])
    rows.push([label, ms(result.bare), ...main, ...cells])
    referenceRows.push([
      runtime.name,
      ms(result.bare),
      ...references.flatMap((reference, r) => reference.main ? [] : [relative(result.references[r]!)]),
    ])
  }
  console.log()
  printTable(
    [
      "Runtime (command)",
      "Bare start",
      ...references.filter((reference) => reference.main).map((reference) => reference.name),
      ...["version", "--help", "cache hit", "agent socket", "cache miss"],
    ],
    rows,
  )
  console.log()
  console.log("References, in the same rounds (files that print ok, bundled as the bin is except for deno (source)):")
  console.log()
  printTable(
    ["Runtime", "Bare start", ...references.filter((reference) => !reference.main).map((reference) => reference.name)],
    referenceRows,
  )
  console.log()
  console.log(
    `Target: at most ${target}x the bare start (the ratio in parentheses) for every command except the cache miss, ` +
      `on node, bun and deno (the npm bin); deno (source) is reported only.`,
  )
  for (const failure of failures) console.log(`FAILED: ${failure}`)
  for (const miss of misses) console.log(`MISSED TARGET: ${miss}`)
  if (failures.length > 0 || misses.length > 0) process.exitCode = 1
} catch (error) {
  console.error(error)
  process.exitCode = 1
} finally {
  for (const child of children) await child.stop()
  await closeAndExit(dir)
}
