/**
 * Token files that never tear and that no other local user can redirect. A token is written through the
 * {@link PrivateFile} port: a temporary file created next to the target with no-follow, exclusive semantics and mode
 * 0600, given its owner and then its mode on the open descriptor (so the umask cannot change the mode, and a symlink
 * renamed over the temporary file cannot redirect either call), fsynced, renamed over the target and verified to be
 * what now sits at the target. A reader sees the old token or the new one, never a partial or empty file, and a
 * symlink at the target is replaced, not followed. Before each write, the directory is checked: if a user other than
 * root, the agent's user and the file's owner can write it (or a directory above it), the write fails with a
 * {@link SinkError} naming that directory. A write, once started, finishes even if the agent is stopping, and removes
 * its temporary file if it fails. On start, leftover temporary files are removed and a still-valid token file can be
 * adopted (`Adopt.ts`).
 *
 * @example Write a token file and read it back
 * ```ts
 * import assert from "node:assert/strict"
 * import { mkdtempSync, statSync } from "node:fs"
 * import { tmpdir } from "node:os"
 * import { join } from "node:path"
 * import { FileSink } from "@sa-token/manager/agent"
 * import * as Runtime from "@sa-token/manager/node"
 * import * as Effect from "effect/Effect"
 * import * as Option from "effect/Option"
 * import * as Redacted from "effect/Redacted"
 *
 * const path = join(mkdtempSync(join(tmpdir(), "sink-")), "token")
 * const read = await Effect.gen(function* () {
 *   yield* FileSink.write({ path, mode: 0o640 }, Redacted.make("a.b.c"), Date.now() + 3600_000)
 *   return yield* FileSink.read(path)
 * }).pipe(Effect.provide(Runtime.layer), Effect.runPromise)
 * assert.deepEqual(read, Option.some("a.b.c"))
 * assert.equal(statSync(path).mode & 0o777, 0o640)
 * ```
 *
 * @module
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Clock from "effect/Clock"
import * as ErrorBase from "../../core/ErrorBase.ts"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { isTemporaryOf, PrivateFile } from "../platform/PrivateFile.ts"
import type { PrivateFileError } from "../platform/PrivateFile.ts"
import type { FileSinkSpec } from "./Config.ts"
import * as Ownership from "./Ownership.ts"

/** The fields of a {@link SinkError}. */
export interface SinkErrorFields {
  /** The target file. */
  readonly path: string
  /**
   * The step that failed: `directory` when a user other than root, the agent's user and the file's owner can write
   * the file's directory, `verify` when another process replaced the file between the steps of a write.
   */
  readonly operation: "write" | "chmod" | "chown" | "rename" | "owner" | "expired" | "directory" | "verify"
  /** What the system said, with the errno name when there is one (never the token). */
  readonly detail: string
}

const SinkErrorBase: ErrorBase.Constructor<"SinkError", SinkErrorFields> = ErrorBase.make(
  "SinkError",
  (e) => `cannot write token file ${e.path} (${e.operation}): ${e.detail}`,
)

/** A token file could not be written. The previous file, if any, is untouched. */
export class SinkError extends SinkErrorBase {}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** What went wrong, with the errno name first when the error carries one (`EROFS: read-only file system, …`). */
const describe = (error: unknown): string => {
  const cause = typeof error === "object" && error !== null && "cause" in error ? error.cause : undefined
  const code = typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string"
    ? cause.code
    : undefined
  const system = typeof error === "object" && error !== null && "_tag" in error && error._tag === "SystemError"
  const text = system && "description" in error && typeof error.description === "string"
    ? error.description
    : system && "reason" in error
    ? String(error.reason)
    : error instanceof Error
    ? error.message
    : String(error)
  // Node and Bun messages start with the errno name; Deno's ("Read-only file system (os error 30)") do not.
  return code === undefined || text.startsWith(code) ? text : `${code}: ${text}`
}

const fromPrivateFile = (sink: FileSinkSpec) => (error: PrivateFileError): SinkError =>
  new SinkError({
    path: sink.path,
    operation: error.operation === "chown" || error.operation === "chmod" || error.operation === "rename" ||
        error.operation === "verify"
      ? error.operation
      : "write",
    detail: `${error.code}: ${error.detail}`,
  })

/**
 * The numeric owner and group of a sink. `Config.load` resolves names to ids; names are still resolved here for a
 * configuration built by `Config.decode` alone.
 */
export const ownerIds = (
  sink: FileSinkSpec,
): Effect.Effect<
  { readonly uid?: number | undefined; readonly gid?: number | undefined },
  SinkError,
  FileSystem.FileSystem
> =>
  Effect.gen(function* () {
    const { owner, group } = sink
    const accounts = typeof owner === "string" || typeof group === "string"
      ? yield* Ownership.load
      : { users: new Map(), groups: new Map() }
    const uid = owner === undefined ? undefined : Ownership.userId(owner, accounts)
    const gid = group === undefined ? undefined : Ownership.groupId(group, accounts)
    const unknown = owner !== undefined && uid === undefined
      ? `no user named ${owner}`
      : group !== undefined && gid === undefined
      ? `no group named ${group}`
      : undefined
    if (unknown !== undefined) return yield* new SinkError({ path: sink.path, operation: "owner", detail: unknown })
    return { uid, gid }
  })

/**
 * Fails with a `directory` {@link SinkError} when a user other than root, the agent's user and the file's owner can
 * write the sink's directory or a directory above it.
 */
export const checkDirectory = (
  sink: FileSinkSpec,
  uid: number | undefined,
): Effect.Effect<void, SinkError, PrivateFile | FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    const agent = (yield* (yield* PrivateFile).identity).uid
    const problem = yield* Ownership.othersCanWrite(path.dirname(sink.path), {
      uids: uid === undefined ? [agent] : [agent, uid],
      fileIsAgents: uid === undefined || uid === agent,
    })
    if (Option.isSome(problem)) {
      return yield* new SinkError({ path: sink.path, operation: "directory", detail: problem.value })
    }
  })

/**
 * Atomically replaces the sink's file with the token. Refuses to write a token whose expiry (`expiresAt`, epoch ms)
 * has passed, and to write into a directory that other users can write. Uninterruptible: an agent that is stopping
 * lets the write finish.
 */
export const write = (
  sink: FileSinkSpec,
  token: Redacted.Redacted<string>,
  expiresAt: number,
): Effect.Effect<void, SinkError, PrivateFile | FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    if (!((yield* Clock.currentTimeMillis) <= expiresAt)) {
      return yield* new SinkError({
        path: sink.path,
        operation: "expired",
        detail: "refusing to write an expired token",
      })
    }
    const files = yield* PrivateFile
    const { uid, gid } = yield* ownerIds(sink)
    yield* checkDirectory(sink, uid)
    yield* files.write(sink.path, encoder.encode(Redacted.value(token)), { mode: sink.mode, uid, gid }).pipe(
      Effect.mapError(fromPrivateFile(sink)),
    )
  }).pipe(Effect.uninterruptible)

/**
 * Whether the sink's file already is this token as the agent would write it: a regular file with this content, one
 * link, the sink's mode, and its owner (the configured one, else the agent's user) and group. When it is not, the
 * scheduler rewrites it.
 */
export const holds = (
  sink: FileSinkSpec,
  token: Redacted.Redacted<string>,
): Effect.Effect<boolean, never, PrivateFile | FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const files = yield* PrivateFile
    const { uid, gid } = yield* ownerIds(sink)
    const agent = (yield* files.identity).uid
    const current = yield* files.read(sink.path)
    if (Option.isNone(current)) return false
    const { data, info } = current.value
    return info.nlink === 1 && info.mode === sink.mode && info.uid === (uid ?? agent) &&
      (gid === undefined || info.gid === gid) && decoder.decode(data) === Redacted.value(token)
  }).pipe(Effect.orElseSucceed(() => false))

/** Removes temporary files a crash left next to the target; returns how many. */
export const cleanup = (target: string): Effect.Effect<number, never, FileSystem.FileSystem | Path.Path> =>
  cleanupAll([target])

/**
 * Removes the leftover temporary files of many token files, listing each directory once (a restart with thousands of
 * token files in one directory would otherwise list it once per file).
 */
export const cleanupAll = (
  targets: ReadonlyArray<string>,
): Effect.Effect<number, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const byDirectory = new Map<string, Array<string>>()
    for (const target of targets) {
      const bases = byDirectory.get(path.dirname(target)) ?? []
      bases.push(path.basename(target))
      byDirectory.set(path.dirname(target), bases)
    }
    let removed = 0
    for (const [directory, bases] of byDirectory) {
      const names = yield* fs.readDirectory(directory).pipe(Effect.orElseSucceed(() => []))
      for (const name of names) {
        const leftover = bases.some((base) => isTemporaryOf(base, name))
        if (leftover && (yield* fs.remove(path.join(directory, name)).pipe(Effect.isSuccess))) removed++
      }
    }
    return removed
  })

/**
 * The current content of a token file, if it is a regular file. The file is opened without following a symlink (a
 * symlink is not read: it will be replaced) and without blocking on a FIFO.
 */
export const read = (target: string): Effect.Effect<Option.Option<string>, never, PrivateFile> =>
  Effect.flatMap(PrivateFile, (files) => files.read(target)).pipe(
    Effect.map(Option.map(({ data }) => decoder.decode(data))),
    Effect.orElseSucceed(() => Option.none()),
  )

/** Creates the target's directory (0700 when it is created) if it is missing. */
export const ensureDirectory = (target: string): Effect.Effect<void, SinkError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const directory = path.dirname(target)
    if (yield* fs.exists(directory).pipe(Effect.orElseSucceed(() => false))) return
    yield* fs.makeDirectory(directory, { recursive: true, mode: 0o700 }).pipe(
      Effect.mapError((error) => new SinkError({ path: target, operation: "write", detail: describe(error) })),
    )
  })
