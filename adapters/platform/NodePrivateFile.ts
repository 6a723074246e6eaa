/**
 * {@link PrivateFile.PrivateFile} over `node:fs`, the one implementation for Deno, Node and Bun: all three provide
 * `fchown`, `fchmod`, `fsync` and `fstat` on descriptors, the `O_NOFOLLOW`, `O_EXCL`, `O_NONBLOCK` and `O_DIRECTORY`
 * open flags, and errno names in `error.code` (Deno's `node:fs` included: its messages differ, its codes do not).
 *
 * The system calls go through a {@link Syscalls} record (`NodeSyscalls.ts`), so that a test can run another process's step between two of
 * them (a symlink renamed over the temporary file, a full disk) and check what the writer does about it.
 *
 * @example The user the process runs as
 * ```ts
 * import assert from "node:assert/strict"
 * import process from "node:process"
 * import { NodePrivateFile } from "@sa-token/manager/platform"
 * import * as Effect from "effect/Effect"
 *
 * const identity = await Effect.runPromise(NodePrivateFile.make().identity)
 * assert.equal(identity.uid, process.geteuid?.() ?? -1)
 * ```
 *
 * @module
 */
import * as nodeFs from "node:fs"
import * as nodePath from "node:path"
import process from "node:process"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as PrivateFile from "./PrivateFile.ts"
import { type Syscalls, syscalls } from "./NodeSyscalls.ts"

export { type Syscalls, syscalls } from "./NodeSyscalls.ts"

const { O_WRONLY, O_RDONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY, O_DSYNC } = nodeFs.constants

/**
 * Whether Node's permission model is on (`--experimental-permission`). It refuses `fchmod`, `fchown`, `fsync` and
 * `fdatasync` whatever the flags grant, but not `open` with `O_DSYNC` in a directory it may write.
 */
export const permissionModel: boolean = "permission" in process && process.permission !== undefined

/** What errno names mean, so that a message says "ENOSPC (no space left on device)" on every runtime. */
const meanings: Readonly<Record<string, string>> = {
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EROFS: "read-only file system",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ELOOP: "a symbolic link where none may be followed",
  EEXIST: "file already exists",
  ENOENT: "no such file or directory",
  ENOTDIR: "not a directory",
  EISDIR: "is a directory",
  EIO: "input/output error",
  EXDEV: "not on the same file system",
  EBUSY: "resource busy",
  EMFILE: "too many open files",
  ENFILE: "too many open files in the system",
  ENAMETOOLONG: "file name too long",
  EFBIG: "file too large",
  EINVAL: "invalid argument",
  ERR_ACCESS_DENIED: "refused by Node's permission model, which disables fchmod, fchown and fsync",
}

const codeOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : "EUNKNOWN"

const failure = (operation: PrivateFile.PrivateFileOperation, path: string) => (error: unknown) => {
  const code = codeOf(error)
  return new PrivateFile.PrivateFileError({
    operation,
    path,
    code,
    detail: meanings[code] ?? (error instanceof Error ? error.message : String(error)),
  })
}

const replaced = (path: string, detail: string) =>
  new PrivateFile.PrivateFileError({ operation: "verify", path, code: "EREPLACED", detail })

const infoOf = (stats: nodeFs.Stats): PrivateFile.FileInfo => ({
  type: stats.isFile() ? "File" : stats.isDirectory() ? "Directory" : stats.isSymbolicLink() ? "SymbolicLink" : "Other",
  mode: stats.mode & 0o7777,
  uid: stats.uid,
  gid: stats.gid,
  dev: Number(stats.dev),
  ino: Number(stats.ino),
  nlink: stats.nlink,
  size: stats.size,
})

const missing = (error: unknown): boolean => ["ENOENT", "ENOTDIR"].includes(codeOf(error))

const kind = (info: Option.Option<PrivateFile.FileInfo>): string =>
  Option.match(info, {
    onNone: () => "nothing",
    onSome: (i) =>
      i.type === "SymbolicLink"
        ? "a symbolic link"
        : i.type === "Directory"
        ? "a directory"
        : i.type === "File"
        ? "another file"
        : "a special file",
  })

const same = (info: Option.Option<PrivateFile.FileInfo>, written: PrivateFile.FileInfo): boolean =>
  Option.isSome(info) && info.value.type === "File" && info.value.dev === written.dev &&
  info.value.ino === written.ino

/**
 * The implementation over the given calls (the real ones by default). With `syncOnWrite` (the default under Node's
 * permission model), a written file is opened with `O_DSYNC`, so that each write reaches the disk before it returns,
 * in place of `fsync`.
 */
export const make = (
  sys: Syscalls = syscalls,
  options: { readonly syncOnWrite?: boolean | undefined } = {},
): PrivateFile.PrivateFile => {
  const syncOnWrite = options.syncOnWrite ?? permissionModel
  const attempt = <A>(operation: PrivateFile.PrivateFileOperation, path: string, f: () => Promise<A>) =>
    Effect.tryPromise({ try: f, catch: failure(operation, path) })
  /** The result of a call on a path, or `None` when the path does not exist. */
  const optional = <A>(operation: PrivateFile.PrivateFileOperation, path: string, f: () => Promise<A>) =>
    Effect.tryPromise({ try: f, catch: (error) => error }).pipe(
      Effect.map(Option.some),
      Effect.catchAll((error) =>
        missing(error) ? Effect.succeed(Option.none<A>()) : Effect.fail(failure(operation, path)(error))
      ),
    )
  const statWith = (f: (path: string) => Promise<nodeFs.Stats>) => (path: string) =>
    optional("stat", path, () => f(path)).pipe(Effect.map(Option.map(infoOf)))
  const lstat = statWith(sys.lstat)
  const quietly = (f: () => Promise<unknown>) => Effect.promise(() => f().catch(() => undefined))

  const write = (
    path: string,
    data: Uint8Array,
    options: PrivateFile.WriteOptions,
  ): Effect.Effect<void, PrivateFile.PrivateFileError> =>
    Effect.gen(function* () {
      const directory = nodePath.dirname(path)
      const nonce = (yield* Random.nextIntBetween(0, 0x7fffffff)).toString(36)
      const temporary = nodePath.join(directory, PrivateFile.temporaryName(nodePath.basename(path), nonce))
      // O_EXCL with O_CREAT never opens an existing name, a symlink included; O_NOFOLLOW says so explicitly.
      const fd = yield* attempt(
        "open",
        path,
        () => sys.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | (syncOnWrite ? O_DSYNC : 0), 0o600),
      )
      let renamed = false
      const steps = Effect.gen(function* () {
        // Owner first: chown clears the setuid and setgid bits, so the mode comes after it. Both act on the
        // descriptor, so they reach this file whatever another process does to the temporary name meanwhile. Each is
        // skipped when the new file already has what it would set (a file of this user created with mode 0600 under
        // any usual umask), since Node's permission model refuses both.
        const created = infoOf(yield* attempt("stat", path, () => sys.fstat(fd)))
        const chown = (options.uid !== undefined && options.uid !== created.uid) ||
          (options.gid !== undefined && options.gid !== created.gid)
        if (chown) yield* attempt("chown", path, () => sys.fchown(fd, options.uid ?? -1, options.gid ?? -1))
        if (chown || created.mode !== options.mode) yield* attempt("chmod", path, () => sys.fchmod(fd, options.mode))
        for (let offset = 0; offset < data.length;) {
          const n = yield* attempt("write", path, () => sys.write(fd, data, offset, data.length - offset))
          if (n <= 0) {
            return yield* new PrivateFile.PrivateFileError({
              operation: "write",
              path,
              code: "ENOSPC",
              detail: meanings["ENOSPC"]!,
            })
          }
          offset += n
        }
        if (!syncOnWrite) yield* attempt("sync", path, () => sys.fsync(fd))
        // The file's identity (device and inode) is the one read at creation: writing does not change it. The
        // descriptor stays open until the checks are done, so that its inode number cannot be reused by a file that
        // another process creates meanwhile.
        const written = created
        const before = yield* lstat(temporary)
        if (!same(before, written)) {
          return yield* replaced(path, `the temporary file ${temporary} was replaced by ${kind(before)}`)
        }
        yield* attempt("rename", path, () => sys.rename(temporary, path))
        renamed = true
        const after = yield* lstat(path)
        if (!same(after, written)) {
          // What sits at the target is what another process put at the temporary name: remove it (unlink never
          // follows a symlink) rather than leave it where readers expect the token.
          yield* quietly(() => sys.unlink(path))
          return yield* replaced(path, `the file renamed into place was ${kind(after)}, not the file written`)
        }
      })
      yield* steps.pipe(
        Effect.tapError(() => renamed ? Effect.void : quietly(() => sys.unlink(temporary))),
        Effect.ensuring(quietly(() => sys.close(fd))),
      )
      // Make the rename durable; not every platform can fsync a directory, so this is best effort.
      yield* quietly(async () => {
        const dirFd = await sys.open(directory, O_RDONLY | O_DIRECTORY, 0)
        await sys.fsync(dirFd).finally(() => sys.close(dirFd))
      })
    }).pipe(Effect.uninterruptible)

  const read = (
    path: string,
    options?: { readonly maxBytes?: number | undefined },
  ): Effect.Effect<Option.Option<PrivateFile.ReadResult>, PrivateFile.PrivateFileError> => {
    const maxBytes = options?.maxBytes ?? 1024 * 1024
    // O_NONBLOCK: opening a FIFO that someone planted at the path must not hang the reader.
    const open = Effect.tryPromise({
      try: () => sys.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0),
      catch: (e) => e,
    })
      .pipe(
        Effect.map(Option.some),
        Effect.catchAll((error) =>
          missing(error) || ["ELOOP", "ENXIO", "EMLINK"].includes(codeOf(error))
            ? Effect.succeed(Option.none<number>())
            : Effect.fail(failure("open", path)(error))
        ),
      )
    return Effect.acquireUseRelease(
      open,
      Option.match({
        onNone: () => Effect.succeed(Option.none<PrivateFile.ReadResult>()),
        onSome: (fd) =>
          Effect.gen(function* () {
            const info = infoOf(yield* attempt("stat", path, () => sys.fstat(fd)))
            if (info.type !== "File") return Option.none<PrivateFile.ReadResult>()
            const tooBig = () =>
              new PrivateFile.PrivateFileError({ operation: "read", path, code: "EFBIG", detail: meanings["EFBIG"]! })
            if (info.size > maxBytes) return yield* tooBig()
            const buffer = new Uint8Array(maxBytes + 1)
            let length = 0
            while (length <= maxBytes) {
              const n = yield* attempt("read", path, () => sys.read(fd, buffer, length, buffer.length - length))
              if (n === 0) break
              length += n
            }
            if (length > maxBytes) return yield* tooBig()
            return Option.some({ data: buffer.slice(0, length), info })
          }),
      }),
      Option.match({ onNone: () => Effect.void, onSome: (fd) => quietly(() => sys.close(fd)) }),
    )
  }

  const privateDirectory = (
    path: string,
    options: { readonly mode: number; readonly uid: number },
  ): Effect.Effect<PrivateFile.FileInfo, PrivateFile.PrivateFileError> =>
    Effect.gen(function* () {
      yield* attempt("mkdir", path, () => sys.mkdir(path, options.mode))
      return yield* Effect.acquireUseRelease(
        attempt("open", path, () => sys.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0)),
        (fd) =>
          Effect.gen(function* () {
            const info = infoOf(yield* attempt("stat", path, () => sys.fstat(fd)))
            if (info.uid !== options.uid) {
              return yield* new PrivateFile.PrivateFileError({
                operation: "open",
                path,
                code: "EPERM",
                detail: `owned by uid ${info.uid}, not by uid ${options.uid}`,
              })
            }
            if (info.mode === options.mode) return info
            yield* attempt("chmod", path, () => sys.fchmod(fd, options.mode))
            return { ...info, mode: options.mode }
          }),
        (fd) => quietly(() => sys.close(fd)),
      )
    }).pipe(Effect.uninterruptible)

  return PrivateFile.make({
    identity: Effect.sync(() => ({
      // Windows has no user ids; -1 never equals a file's owner there, so ownership checks refuse rather than trust.
      uid: process.geteuid?.() ?? -1,
      gid: process.getegid?.() ?? -1,
    })),
    write,
    read,
    stat: statWith(sys.stat),
    lstat,
    realPath: (path) => optional("stat", path, () => sys.realpath(path)),
    readLink: (path) => optional("stat", path, () => sys.readlink(path)),
    privateDirectory,
  })
}

/** The implementation over the real `node:fs`. */
export const layer: Layer.Layer<PrivateFile.PrivateFile> = PrivateFile.layer(make())
