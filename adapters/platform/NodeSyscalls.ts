/**
 * The system calls `NodePrivateFile.ts` makes, as a record of promise-shaped `node:fs` calls: the real ones, and the
 * shape a test follows to run another process's step between two of them (a symlink renamed over the temporary file, a
 * full disk). All three runtimes provide them through `node:fs`, Deno's included.
 *
 * @module
 */
import * as nodeFs from "node:fs"

/** The `node:fs` calls the implementation makes, promise-shaped. */
export interface Syscalls {
  /** `open(2)`: a descriptor. */
  readonly open: (path: string, flags: number, mode: number) => Promise<number>
  /** `close(2)`. */
  readonly close: (fd: number) => Promise<void>
  /** `fchown(2)`; -1 leaves an id unchanged. */
  readonly fchown: (fd: number, uid: number, gid: number) => Promise<void>
  /** `fchmod(2)`. */
  readonly fchmod: (fd: number, mode: number) => Promise<void>
  /** `write(2)` at the current position: the number of bytes written. */
  readonly write: (fd: number, data: Uint8Array, offset: number, length: number) => Promise<number>
  /** `read(2)` at the current position: the number of bytes read (0 at the end). */
  readonly read: (fd: number, buffer: Uint8Array, offset: number, length: number) => Promise<number>
  /** `fsync(2)`. */
  readonly fsync: (fd: number) => Promise<void>
  /** `fstat(2)`. */
  readonly fstat: (fd: number) => Promise<nodeFs.Stats>
  /** `lstat(2)`. */
  readonly lstat: (path: string) => Promise<nodeFs.Stats>
  /** `stat(2)`. */
  readonly stat: (path: string) => Promise<nodeFs.Stats>
  /** `rename(2)`. */
  readonly rename: (from: string, to: string) => Promise<void>
  /** `unlink(2)`. */
  readonly unlink: (path: string) => Promise<void>
  /** `realpath(3)`. */
  readonly realpath: (path: string) => Promise<string>
  /** `readlink(2)`. */
  readonly readlink: (path: string) => Promise<string>
  /** `mkdir -p` with a mode for every directory it creates. */
  readonly mkdir: (path: string, mode: number) => Promise<void>
}

type Callback<A> = (error: NodeJS.ErrnoException | null | undefined, value: A) => void

// Deno's node:fs passes `undefined` rather than `null` to some callbacks on success.
const call = <A>(f: (callback: Callback<A>) => void): Promise<A> =>
  new Promise((resolve, reject) =>
    f((error, value) => error === null || error === undefined ? resolve(value) : reject(error))
  )

/** The real calls. */
export const syscalls: Syscalls = {
  open: (path, flags, mode) => call((cb) => nodeFs.open(path, flags, mode, cb)),
  close: (fd) => call<void>((cb) => nodeFs.close(fd, (error) => cb(error, undefined))),
  fchown: (fd, uid, gid) => call<void>((cb) => nodeFs.fchown(fd, uid, gid, (error) => cb(error, undefined))),
  fchmod: (fd, mode) => call<void>((cb) => nodeFs.fchmod(fd, mode, (error) => cb(error, undefined))),
  write: (fd, data, offset, length) => call((cb) => nodeFs.write(fd, data, offset, length, null, cb)),
  read: (fd, buffer, offset, length) => call((cb) => nodeFs.read(fd, buffer, offset, length, null, cb)),
  fsync: (fd) => call<void>((cb) => nodeFs.fsync(fd, (error) => cb(error, undefined))),
  fstat: (fd) => call((cb) => nodeFs.fstat(fd, cb)),
  lstat: (path) => call((cb) => nodeFs.lstat(path, cb)),
  stat: (path) => call((cb) => nodeFs.stat(path, cb)),
  rename: (from, to) => call<void>((cb) => nodeFs.rename(from, to, (error) => cb(error, undefined))),
  unlink: (path) => call<void>((cb) => nodeFs.unlink(path, (error) => cb(error, undefined))),
  // realpath(3) itself: Node's realpath written in JavaScript stops one link short of a socket or a FIFO.
  realpath: (path) => call((cb) => nodeFs.realpath.native(path, cb)),
  readlink: (path) => call((cb) => nodeFs.readlink(path, cb)),
  mkdir: (path, mode) =>
    call<void>((cb) => nodeFs.mkdir(path, { recursive: true, mode }, (error) => cb(error, undefined))),
}
