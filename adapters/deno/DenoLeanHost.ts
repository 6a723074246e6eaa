/**
 * Deno's {@link LeanHost}, over `Deno.*` and web APIs only: the first `node:` module starts Deno's Node compatibility
 * layer, which costs more than the whole lean answer. The agent's socket is reached over HTTP/1.0 on `Deno.connect`.
 *
 * @module
 */
import * as Http10 from "../platform/Http10.ts"
import * as LeanFailures from "../platform/LeanFailures.ts"
import type { LeanFile, LeanFileInfo, LeanHost } from "../platform/LeanHost.ts"

/** `undefined` when nothing is at the path (a missing entry, or a path through a non-directory); rethrows the rest. */
const absentAsUndefined = <A>(call: () => A): A | undefined => {
  try {
    return call()
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) return undefined
    throw error
  }
}

const infoOf = (info: Deno.FileInfo): LeanFileInfo => ({
  uid: info.uid ?? -1,
  gid: info.gid ?? -1,
  mode: (info.mode ?? 0) & 0o7777,
})

/**
 * Deno's open has no O_NOFOLLOW nor O_NONBLOCK, so the path is checked with `lstat` first (a symlink, a directory or a
 * FIFO rejects before any open), and the descriptor opened must be that same file (device and inode): a symlink or
 * another file renamed over it between the two calls rejects.
 */
const readFile = (path: string, maxBytes: number): LeanFile | undefined => {
  const entry = absentAsUndefined(() => Deno.lstatSync(path))
  if (entry === undefined) return undefined
  if (!entry.isFile) throw LeanFailures.notRegularFile(path)
  if (entry.size > maxBytes) throw LeanFailures.tooLarge(path, maxBytes)
  const file = absentAsUndefined(() => Deno.openSync(path, { read: true }))
  if (file === undefined) return undefined
  try {
    const info = file.statSync()
    if (info.dev !== entry.dev || info.ino !== entry.ino) throw new Error(`${path} was replaced while it was opened`)
    if (info.size > maxBytes) throw LeanFailures.tooLarge(path, maxBytes)
    const data = new Uint8Array(info.size)
    let length = 0
    while (length < data.length) {
      const read = file.readSync(data.subarray(length))
      if (read === null || read === 0) break
      length += read
    }
    return { data: data.subarray(0, length), info: infoOf(info) }
  } finally {
    file.close()
  }
}

/**
 * `GET path` on the unix socket over HTTP/1.0 (`Http10.ts`), on a raw `Deno.connect`: Deno's first `fetch` costs about
 * a third of Deno's own start. The answer is read until the server closes the connection, at most `maxBytes` of body
 * and {@link Http10.maxHeaderBytes} of headers; the connection is closed when `timeoutMillis` pass first.
 */
const unixGet: LeanHost["unixGet"] = async (socket, path, { headers, timeoutMillis, maxBytes }) => {
  const connection = await Deno.connect({ transport: "unix", path: socket })
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    connection.close()
  }, timeoutMillis)
  try {
    const request = Http10.request(path, headers)
    for (let written = 0; written < request.length;) written += await connection.write(request.subarray(written))
    const limit = maxBytes + Http10.maxHeaderBytes + 4
    const chunks: Array<Uint8Array> = []
    let size = 0
    for (;;) {
      const buffer = new Uint8Array(16 << 10)
      const read = await connection.read(buffer)
      if (read === null) break
      chunks.push(buffer.subarray(0, read))
      size += read
      // One byte past the most a valid answer can hold is enough for parse to refuse it
      if (size > limit) break
    }
    const bytes = new Uint8Array(size)
    chunks.reduce((at, chunk) => (bytes.set(chunk, at), at + chunk.length), 0)
    return Http10.parse(bytes, maxBytes)
  } catch (error) {
    throw timedOut ? LeanFailures.noAnswerWithin(timeoutMillis) : error
  } finally {
    clearTimeout(timer)
    if (!timedOut) connection.close()
  }
}

/** Deno's host of the lean `exec-credential` answers. */
export const leanHost: LeanHost = {
  now: () => Date.now(),
  cwd: () => Deno.cwd(),
  env: (name) => Deno.env.get(name),
  // Deno tells the real user id only; the bin is never installed setuid, so it is the effective one too
  uid: () => Deno.uid() ?? -1,
  stat: (path) => Promise.resolve().then(() => absentAsUndefined(() => infoOf(Deno.statSync(path)))),
  realPath: (path) => Promise.resolve().then(() => absentAsUndefined(() => Deno.realPathSync(path))),
  readFile: (path, maxBytes) => Promise.resolve().then(() => readFile(path, maxBytes)),
  unixGet,
}
