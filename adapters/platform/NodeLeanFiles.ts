/**
 * The {@link LeanHost} calls other than HTTP, over `node:fs` and `node:process`: Node's and Bun's hosts share them
 * (Deno's host uses `Deno.*` instead). `node:fs` is loaded at the first file call, not with this module: Bun takes
 * about half as long to load it as to start, and the agent-socket answer reads no file. Files are read with
 * synchronous calls: a lean answer reads two or three small files and exits, and each asynchronous call would cost a
 * round trip through the thread pool.
 *
 * @module
 */
import type * as NodeFs from "node:fs"
import process from "node:process"
import * as LeanFailures from "./LeanFailures.ts"
import type { LeanFile, LeanFileInfo, LeanHost } from "./LeanHost.ts"

/** `node:fs`, loaded when a file is first asked for. */
const loadFs = (): Promise<typeof NodeFs> => import("node:fs")

/** `undefined` when the call failed because nothing is at the path; rethrows anything else. */
const absentAsUndefined = <A>(call: () => A): A | undefined => {
  try {
    return call()
  } catch (error) {
    const code = (error as { readonly code?: unknown }).code
    if (code === "ENOENT" || code === "ENOTDIR") return undefined
    throw error
  }
}

const infoOf = (stats: NodeFs.Stats): LeanFileInfo => ({
  uid: stats.uid,
  gid: stats.gid,
  mode: stats.mode & 0o7777,
})

const readFile = (nodeFs: typeof NodeFs, path: string, maxBytes: number): LeanFile | undefined => {
  const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = nodeFs.constants
  // O_NOFOLLOW refuses a symlink as the last component (ELOOP); O_NONBLOCK keeps a FIFO from blocking the open.
  const fd = absentAsUndefined(() => nodeFs.openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK))
  if (fd === undefined) return undefined
  try {
    const stats = nodeFs.fstatSync(fd)
    if (!stats.isFile()) throw LeanFailures.notRegularFile(path)
    if (stats.size > maxBytes) throw LeanFailures.tooLarge(path, maxBytes)
    const data = new Uint8Array(stats.size)
    let length = 0
    while (length < data.length) {
      const read = nodeFs.readSync(fd, data, length, data.length - length, null)
      if (read === 0) break
      length += read
    }
    return { data: data.subarray(0, length), info: infoOf(stats) }
  } finally {
    nodeFs.closeSync(fd)
  }
}

/** Every {@link LeanHost} call but {@link LeanHost.unixGet}, over `node:fs` and `node:process`. */
export const files: Omit<LeanHost, "unixGet"> = {
  now: () => Date.now(),
  cwd: () => process.cwd(),
  env: (name) => process.env[name],
  uid: () => process.geteuid?.() ?? -1,
  stat: (path) => loadFs().then((nodeFs) => absentAsUndefined(() => infoOf(nodeFs.statSync(path)))),
  // realpath(3) itself: Node's realpath written in JavaScript stops one link short of a socket or a FIFO.
  realPath: (path) => loadFs().then((nodeFs) => absentAsUndefined(() => nodeFs.realpathSync.native(path))),
  readFile: (path, maxBytes) => loadFs().then((nodeFs) => readFile(nodeFs, path, maxBytes)),
}
