/**
 * The rules that find the kubeconfig files and make their identity, as plain functions and promises: kubectl's order
 * of files (an explicit file, else every file of `KUBECONFIG`, else `~/.kube/config`) and a SHA-256 of the files read.
 * `KubeconfigFiles.ts` runs them for the full command with `@effect/platform`'s path and the process environment; the
 * lean `exec-credential` answer runs them over its host with `PosixPath.ts`, so both name the same files and derive the
 * same identity without either loading what the other needs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import * as PosixPath from "../platform/PosixPath.ts"
 * import { locate } from "./KubeconfigSources.ts"
 *
 * const env = (name: string) => ({ KUBECONFIG: "a.yaml::/etc/b.yaml", HOME: "/home/me" } as Record<string, string>)[name]
 * assert.deepEqual(locate({}, env, PosixPath.rules("/work")), [["/work/a.yaml", false], ["/etc/b.yaml", false]])
 * assert.deepEqual(locate({ kubeconfig: "k" }, env, PosixPath.rules("/work")), [["/work/k", true]])
 * ```
 *
 * @module
 */
import { sha256Hex } from "../platform/Digest.ts"
import type { PathRules } from "../platform/PosixPath.ts"

/** Where the files are looked for: kubectl's `--kubeconfig` and `--context`. */
export interface Sources {
  readonly kubeconfig?: string | undefined
  readonly context?: string | undefined
}

/** The files to load, in order: `[path, required]`. `env` reads `KUBECONFIG` and `HOME`. */
export const locate = (
  options: Sources,
  env: (name: string) => string | undefined,
  path: PathRules,
): ReadonlyArray<readonly [string, boolean]> => {
  if (options.kubeconfig !== undefined) return [[path.resolve(options.kubeconfig), true]]
  const list = (env("KUBECONFIG") ?? "").split(path.sep === "\\" ? ";" : ":").filter((p) => p !== "")
  if (list.length > 0) return list.map((p) => [path.resolve(p), false] as const)
  const home = env("HOME")
  return home !== undefined && home !== "" ? [[path.join(home, ".kube", "config"), false] as const] : []
}

/**
 * The path and text (decoded as UTF-8) of each file that `readFile` reads, in order: the input of {@link identity}.
 * A file that is absent (`undefined`) or unreadable (a rejection) is skipped.
 */
export const texts = async (
  files: ReadonlyArray<readonly [string, boolean]>,
  readFile: (path: string) => Promise<Uint8Array | undefined>,
): Promise<ReadonlyArray<readonly [string, string]>> => {
  const found: Array<readonly [string, string]> = []
  for (const [file] of files) {
    const data = await readFile(file).catch(() => undefined)
    if (data !== undefined) found.push([file, new TextDecoder().decode(data)])
  }
  return found
}

/**
 * The identity of the connection the files describe: `kubeconfig ` and a SHA-256 of the `--context` given (or its
 * absence) and of every file read, path and text. Any edit to the kubeconfig, or another set of files, makes a new
 * identity; no file is parsed, so the context and the namespace are not checked here.
 */
export const identity = async (
  files: ReadonlyArray<readonly [string, string]>,
  context: string | undefined,
): Promise<string> => `kubeconfig ${await sha256Hex(JSON.stringify([context ?? null, files]))}`
