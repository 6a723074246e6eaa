/**
 * The runtime port for files that must stay private when other local users can write the directory they live in:
 * token files and the exec-credential cache. Paths are only used to open, rename and remove; mode and owner are set
 * on the open descriptor, so a symlink or hard link that another user swaps in between two calls can never redirect a
 * `chmod` or `chown` (as root, that would hand the user any file of the system).
 *
 * {@link PrivateFile.write} creates a temporary file `.NAME.<random>.tmp` next to the target with
 * `O_CREAT | O_EXCL | O_NOFOLLOW` and mode 0600, sets its owner and then its mode on the descriptor, writes, fsyncs,
 * checks that the temporary name still holds that file, renames it over the target and checks that the target now is
 * that same regular file (device and inode). A reader sees the old content or the new one, never a partial file.
 *
 * `NodePrivateFile.ts` implements it over `node:fs`, which Deno, Node and Bun all provide; each runtime's layer
 * provides that implementation.
 *
 * @example Write a private file through the port
 * ```ts
 * import assert from "node:assert/strict"
 * import { mkdtempSync, statSync } from "node:fs"
 * import { tmpdir } from "node:os"
 * import { join } from "node:path"
 * import { NodePrivateFile, PrivateFile } from "@sa-token/manager/platform"
 * import * as Effect from "effect/Effect"
 *
 * const target = join(mkdtempSync(join(tmpdir(), "private-")), "secret")
 * await Effect.gen(function* () {
 *   const files = yield* PrivateFile.PrivateFile
 *   yield* files.write(target, new TextEncoder().encode("s3cret"), { mode: 0o640 })
 * }).pipe(Effect.provide(NodePrivateFile.layer), Effect.runPromise)
 * assert.equal(statSync(target).mode & 0o777, 0o640)
 * ```
 *
 * @module
 */
import * as Context from "effect/Context"
import * as ErrorBase from "../../core/ErrorBase.ts"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"

/** What `lstat`/`fstat` say about a file, as plain numbers. */
export interface FileInfo {
  /** The kind of file (`Other` covers FIFOs, sockets and devices). */
  readonly type: "File" | "Directory" | "SymbolicLink" | "Other"
  /** The permission bits, with setuid, setgid and sticky (`mode & 0o7777`). */
  readonly mode: number
  /** The owner's user id. */
  readonly uid: number
  /** The group id. */
  readonly gid: number
  /** The device the file lives on. */
  readonly dev: number
  /** The inode number. */
  readonly ino: number
  /** The number of hard links. */
  readonly nlink: number
  /** The size in bytes. */
  readonly size: number
}

/** The user and group the process runs as (effective ids). */
export interface Identity {
  /** The effective user id. */
  readonly uid: number
  /** The effective group id. */
  readonly gid: number
}

/** How {@link PrivateFile.write} sets up the file. */
export interface WriteOptions {
  /** The permission bits, applied exactly (the umask plays no part). */
  readonly mode: number
  /** The owner's user id; unchanged (the process's) when absent. */
  readonly uid?: number | undefined
  /** The group id; unchanged when absent. */
  readonly gid?: number | undefined
}

/** A regular file's content and what `fstat` said about the descriptor it was read from. */
export interface ReadResult {
  /** The content. */
  readonly data: Uint8Array
  /** The file, as the descriptor saw it. */
  readonly info: FileInfo
}

/** The step that failed. */
export type PrivateFileOperation =
  | "open"
  | "chown"
  | "chmod"
  | "write"
  | "sync"
  | "rename"
  | "verify"
  | "read"
  | "stat"
  | "mkdir"

/** The fields of a {@link PrivateFileError}. */
export interface PrivateFileErrorFields {
  /** The step that failed. */
  readonly operation: PrivateFileOperation
  /** The path the step was about (the target, not the temporary file, for writes). */
  readonly path: string
  /** The errno name (`ENOSPC`, `EROFS`, `EACCES`, `ELOOP`, …), or `EREPLACED` when a check found another file. */
  readonly code: string
  /** What happened, in words (never file content). */
  readonly detail: string
}

const PrivateFileErrorBase: ErrorBase.Constructor<"PrivateFileError", PrivateFileErrorFields> = ErrorBase.make(
  "PrivateFileError",
  (e) => `cannot ${e.operation} ${e.path}: ${e.code} (${e.detail})`,
)

/** A private file could not be written, read or inspected. */
export class PrivateFileError extends PrivateFileErrorBase {}

/** Race-free operations on private files. */
export interface PrivateFile {
  /** The user and group the process runs as. */
  readonly identity: Effect.Effect<Identity>
  /**
   * Atomically replaces `path` with `data`: a temporary file created with no-follow and exclusive semantics, owner
   * then mode set on its descriptor, written, fsynced, renamed over `path` and verified to be what now sits at `path`.
   * A symlink at `path` is replaced, never followed. On failure nothing of the write is left behind: the temporary
   * name is removed, and so is whatever another process renamed into place. Uninterruptible once started.
   */
  readonly write: (path: string, data: Uint8Array, options: WriteOptions) => Effect.Effect<void, PrivateFileError>
  /**
   * The content of `path` if it is a regular file, opened without following a symlink and without blocking on a FIFO;
   * `None` when it is missing, a symlink or not a regular file. Files larger than `maxBytes` (1 MiB by default) fail
   * with `EFBIG`.
   */
  readonly read: (
    path: string,
    options?: { readonly maxBytes?: number | undefined },
  ) => Effect.Effect<Option.Option<ReadResult>, PrivateFileError>
  /** `stat` (following symlinks); `None` when the path does not exist. */
  readonly stat: (path: string) => Effect.Effect<Option.Option<FileInfo>, PrivateFileError>
  /** `lstat` (a symlink is described, not followed); `None` when the path does not exist. */
  readonly lstat: (path: string) => Effect.Effect<Option.Option<FileInfo>, PrivateFileError>
  /** The canonical path (every symlink resolved); `None` when the path does not exist. */
  readonly realPath: (path: string) => Effect.Effect<Option.Option<string>, PrivateFileError>
  /** The target a symlink holds, as written in it; `None` when the path does not exist. Fails on anything else. */
  readonly readLink: (path: string) => Effect.Effect<Option.Option<string>, PrivateFileError>
  /**
   * Makes `path` a directory private to `uid`: creates it (and its missing parents) with `mode`, opens it without
   * following a symlink, fails with `EPERM` when another user owns it, and sets `mode` on its descriptor when it
   * differs.
   */
  readonly privateDirectory: (
    path: string,
    options: { readonly mode: number; readonly uid: number },
  ) => Effect.Effect<FileInfo, PrivateFileError>
}

/** The tag of the {@link PrivateFile} service. */
export const PrivateFile: Context.Tag<PrivateFile, PrivateFile> = Context.GenericTag<PrivateFile>(
  "@sa-token/manager/PrivateFile",
)

/** Builds the service from its operations (a runtime implementation, or a test double wrapping one). */
export const make = (implementation: PrivateFile): PrivateFile => implementation

/** A layer providing a {@link PrivateFile} implementation. */
export const layer = (implementation: PrivateFile): Layer.Layer<PrivateFile> =>
  Layer.succeed(PrivateFile, implementation)

/** The temporary name of a write to a file named `base` with a random `nonce`: `.BASE.NONCE.tmp`. */
export const temporaryName = (base: string, nonce: string): string => `.${base}.${nonce}.tmp`

/** Whether `name` is a temporary name of writes to a file named `base` (leftovers of a crash). */
export const isTemporaryOf = (base: string, name: string): boolean => {
  const prefix = `.${base}.`
  const suffix = ".tmp"
  return name.startsWith(prefix) && name.endsWith(suffix) && name.length > prefix.length + suffix.length
}
