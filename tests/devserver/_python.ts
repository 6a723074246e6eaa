/**
 * The official Kubernetes Python client for the suites, installed on demand: `pip install --target` of a pinned
 * release into `.cache/python/` at the repository root, reused once there. Nothing has to be installed by hand; when
 * Python, pip or PyPI is unavailable the answer says which, for the test to skip with that reason.
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/** The client release, the one that follows the Kubernetes version the development server imitates (1.34). */
export const version = "34.1.0"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")

/** Where the client is installed. */
export const target: string = path.join(root, ".cache", "python", `kubernetes-${version}`)

/** The client, ready: the `PYTHONPATH` to run `python3` with; else why it cannot be had here. */
export type PythonClient = { readonly pythonPath: string } | { readonly unavailable: string }

const run = (args: ReadonlyArray<string>, timeoutMs: number) =>
  new Promise<{ readonly ok: boolean; readonly output: string }>((resolve) =>
    execFile(
      "python3",
      args,
      { timeout: timeoutMs },
      (error, stdout, stderr) => resolve({ ok: error === null, output: `${stdout}${stderr}`.trim() }),
    )
  )

/** What pip prints when it cannot reach the index (or finds nothing there, as when offline). */
const offline =
  /NewConnectionError|ConnectionError|Max retries exceeded|Temporary failure in name resolution|Network is unreachable|No matching distribution found|Could not find a version/

const lastLine = (text: string): string => text.split("\n").filter((l) => l.trim() !== "").at(-1) ?? "no output"

/**
 * Installs the client into {@link target} unless it is there. A fresh install goes to a directory of its own, renamed
 * into place when complete, so that a concurrent or interrupted run never leaves a half-installed client behind.
 */
export const pythonClient = async (): Promise<PythonClient> => {
  const python = await run(["--version"], 20_000)
  if (!python.ok) return { unavailable: `python3 is not available (${lastLine(python.output)})` }
  if (!fs.existsSync(path.join(target, "kubernetes", "__init__.py"))) {
    const pip = await run(["-m", "pip", "--version"], 20_000)
    if (!pip.ok) return { unavailable: `pip is not available to python3 (${lastLine(pip.output)})` }
    fs.mkdirSync(path.dirname(target), { recursive: true })
    const partial = fs.mkdtempSync(`${target}.partial-`)
    try {
      const install = await run([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-input",
        "--disable-pip-version-check",
        "--target",
        partial,
        `kubernetes==${version}`,
      ], 300_000)
      if (!install.ok) {
        if (offline.test(install.output)) return { unavailable: `PyPI is not reachable (${lastLine(install.output)})` }
        throw new Error(`pip install kubernetes==${version} failed: ${install.output}`)
      }
      try {
        fs.renameSync(partial, target)
      } catch (error) {
        // another run installed it first
        if (!fs.existsSync(target)) throw error
      }
    } finally {
      fs.rmSync(partial, { recursive: true, force: true })
    }
  }
  return { pythonPath: target }
}
