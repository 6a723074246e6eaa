/**
 * The `sa-token` CLI as a user runs it on each runtime: `deno run -A adapters/cli/main.ts`, on Node the npm bin bundle
 * that `npm test` builds first (else `node --import tsx adapters/cli/main.ts`), and `bun adapters/cli/main.ts`, with
 * absolute paths so that any working directory will do, and a way to run the same command line on all three at once.
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { runtime as current } from "./runtime.ts"

/** The repository root. */
export const root: string = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")

/** A runtime the CLI runs on. */
export type Runtime = "deno" | "node" | "bun"

/** Every runtime, in the order results are reported. */
export const runtimes: ReadonlyArray<Runtime> = ["deno", "node", "bun"]

const bin = (name: string) => path.join(root, "node_modules", ".bin", name)

/**
 * What Node runs for the CLI: the bin bundle `npm test` builds before the suites and names in `SA_TOKEN_TEST_BIN`
 * (the npm package's bin, which Node starts in about a sixth of the CPU time that loading the sources through tsx
 * takes, and the suites start it many times), else the sources through tsx, for a test file run on its own.
 */
export const nodeEntry: ReadonlyArray<string> = process.env.SA_TOKEN_TEST_BIN ? [process.env.SA_TOKEN_TEST_BIN] : [
  "--import",
  pathToFileURL(path.join(root, "node_modules/tsx/dist/loader.mjs")).href,
  path.join(root, "adapters/cli/main.ts"),
]

/**
 * The command line (executable first) that starts the CLI on `runtime`. Node is this process's own executable when
 * Node runs the tests; otherwise it is looked up on `PATH` through `/usr/bin/env` (Deno's child_process would run a
 * bare `node` as Deno itself).
 */
export const cliCommand = (runtime: Runtime): ReadonlyArray<string> =>
  runtime === "deno"
    ? [bin("deno"), "run", "-A", path.join(root, "adapters/cli/main.ts")]
    : runtime === "bun"
    ? [bin("bun"), path.join(root, "adapters/cli/main.ts")]
    : [...(current === "node" ? [process.execPath] : ["/usr/bin/env", "node"]), ...nodeEntry]

/** The command line that runs the bundled bin `entry` on `runtime`, as the README tells users to run the npm bin. */
export const binCommand = (runtime: Runtime, entry: string): ReadonlyArray<string> =>
  runtime === "node"
    ? [process.execPath, entry]
    : runtime === "bun"
    ? [bin("bun"), entry]
    : [bin("deno"), "run", "-A", entry]

/** What a finished process left: its exit code (127 when the executable is missing, 1 when it was killed), its output. */
export interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** How to run one command. */
export interface RunOptions {
  /** Variables added to this process's environment. */
  readonly env?: Readonly<Record<string, string>>
  /** The working directory (default: the repository root). */
  readonly cwd?: string
  /** Killed after this long (default 180 s: a liveness bound for a loaded machine, not a timing check). */
  readonly timeoutMs?: number
}

/** Runs `file args…`; never rejects. */
export const run = (file: string, args: ReadonlyArray<string>, options: RunOptions = {}): Promise<Run> =>
  new Promise((resolve) =>
    execFile(
      file,
      [...args],
      {
        cwd: options.cwd ?? root,
        env: { ...process.env, ...options.env },
        timeout: options.timeoutMs ?? 180_000,
        maxBuffer: 4 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error === null
          ? 0
          : typeof error.code === "number"
          ? error.code
          : error.code === "ENOENT"
          ? 127
          : 1
        resolve({ code, stdout, stderr })
      },
    )
  )

/**
 * Puts the npm bin, as `scripts/build-bin.sh` makes it, into the directory `dir` and returns its entry: a copy of the
 * bundle `npm test` built before the suites (`SA_TOKEN_TEST_BIN`, from the same sources with the same script), else a
 * new build (a test file run on its own).
 */
export const binIn = async (dir: string): Promise<string> => {
  const prebuilt = process.env.SA_TOKEN_TEST_BIN
  if (prebuilt !== undefined) fs.cpSync(path.dirname(prebuilt), dir, { recursive: true })
  else {
    const built = await run("bash", [path.join(root, "scripts", "build-bin.sh"), dir])
    if (built.code !== 0) throw new Error(`scripts/build-bin.sh ${dir} failed:\n${built.stderr}`)
  }
  return path.join(dir, "sa-token.js")
}

/** Runs `sa-token args…` on `runtime`; never rejects. */
export const runCli = (runtime: Runtime, args: ReadonlyArray<string>, options: RunOptions = {}): Promise<Run> => {
  const [file, ...pre] = cliCommand(runtime)
  return run(file!, [...pre, ...args], options)
}

/** Runs `sa-token args…` on Deno, Node and Bun at the same time (the arguments may depend on the runtime). */
export const runEveryCli = async (
  args: ReadonlyArray<string> | ((runtime: Runtime) => ReadonlyArray<string>),
  options: RunOptions = {},
): Promise<Record<Runtime, Run>> => {
  const runs = await Promise.all(
    runtimes.map((runtime) => runCli(runtime, typeof args === "function" ? args(runtime) : args, options)),
  )
  return Object.fromEntries(runtimes.map((runtime, i) => [runtime, runs[i]!])) as Record<Runtime, Run>
}
