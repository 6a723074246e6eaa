/**
 * Token files that never tear. A token is written to a temporary file in the target's directory (created 0600),
 * fsynced, given its mode (by `chmod`, so the umask cannot change it) and owner, then renamed over the target: a
 * reader sees the old token or the new one, never a partial or empty file, and a symlink at the target is replaced,
 * not followed. A write, once started, finishes even if the agent is stopping, and removes its temporary file if it
 * fails. On start, leftover temporary files are removed and a still-valid token file can be adopted (`Adopt.ts`).
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
import type * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import type { FileSinkSpec } from "./Config.ts"

/** The fields of a {@link SinkError}. */
export interface SinkErrorFields {
  /** The target file. */
  readonly path: string
  /** The step that failed. */
  readonly operation: "write" | "chmod" | "chown" | "rename" | "owner" | "expired"
  /** What the system said (never the token). */
  readonly detail: string
}

const SinkErrorBase: new (args: SinkErrorFields) => Cause.YieldableError & SinkErrorFields = Data.Error

/** A token file could not be written. The previous file, if any, is untouched. */
export class SinkError extends SinkErrorBase {
  /** The tag, for `Effect.catchTag`. */
  readonly _tag = "SinkError" as const
  /** `cannot write token file PATH (OPERATION): DETAIL`. */
  override get message(): string {
    return `cannot write token file ${this.path} (${this.operation}): ${this.detail}`
  }
}

const encoder = new TextEncoder()

/** The prefix and suffix of the temporary files of a target: `.NAME.<random>.tmp` in the same directory. */
const tempPattern = (base: string): { prefix: string; suffix: string } => ({ prefix: `.${base}.`, suffix: ".tmp" })

const describe = (error: unknown): string =>
  typeof error === "object" && error !== null && "reason" in error && "_tag" in error && error._tag === "SystemError"
    ? String(error.reason)
    : error instanceof Error
    ? error.message
    : String(error)

/** Resolves a user or group to a numeric id: numbers as they are, names through `/etc/passwd` or `/etc/group`. */
const resolveId = (
  value: number | string | undefined,
  database: "/etc/passwd" | "/etc/group",
): Effect.Effect<number | undefined, string, FileSystem.FileSystem> => {
  if (value === undefined) return Effect.succeed(undefined)
  if (typeof value === "number") return Effect.succeed(value)
  if (/^\d+$/.test(value)) return Effect.succeed(Number(value))
  return Effect.flatMap(FileSystem.FileSystem, (fs) =>
    fs.readFileString(database).pipe(
      Effect.mapError(() => `cannot read ${database}`),
      Effect.flatMap((text) => {
        const line = text.split("\n").map((l) => l.split(":")).find((fields) => fields[0] === value)
        return line === undefined || line[2] === undefined
          ? Effect.fail(`no ${database === "/etc/passwd" ? "user" : "group"} named ${value}`)
          : Effect.succeed(Number(line[2]))
      }),
    ))
}

/** Applies mode, then owner and group (when configured) to a path. */
export const applyOwnership = (
  target: string,
  sink: FileSinkSpec,
): Effect.Effect<void, SinkError, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const fail = (operation: SinkErrorFields["operation"]) => (error: unknown) =>
      new SinkError({ path: sink.path, operation, detail: describe(error) })
    yield* fs.chmod(target, sink.mode).pipe(Effect.mapError(fail("chmod")))
    if (sink.owner === undefined && sink.group === undefined) return
    const uid = yield* resolveId(sink.owner, "/etc/passwd").pipe(Effect.mapError(fail("owner")))
    const gid = yield* resolveId(sink.group, "/etc/group").pipe(Effect.mapError(fail("owner")))
    yield* fs.chown(target, uid ?? -1, gid ?? -1).pipe(Effect.mapError(fail("chown")))
  })

/**
 * Atomically replaces the sink's file with the token. Refuses to write a token whose expiry (`expiresAt`, epoch ms)
 * has passed. Uninterruptible: an agent that is stopping lets the write finish.
 */
export const write = (
  sink: FileSinkSpec,
  token: Redacted.Redacted<string>,
  expiresAt: number,
): Effect.Effect<void, SinkError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    if (!((yield* Clock.currentTimeMillis) <= expiresAt)) {
      return yield* new SinkError({
        path: sink.path,
        operation: "expired",
        detail: "refusing to write an expired token",
      })
    }
    const { prefix, suffix } = tempPattern(path.basename(sink.path))
    const nonce = (yield* Random.nextIntBetween(0, 0x7fffffff)).toString(36)
    const temp = path.join(path.dirname(sink.path), `${prefix}${nonce}${suffix}`)
    const fail = (operation: SinkErrorFields["operation"]) => (error: unknown) =>
      new SinkError({ path: sink.path, operation, detail: describe(error) })
    const body = Effect.gen(function* () {
      yield* Effect.scoped(Effect.gen(function* () {
        const file = yield* fs.open(temp, { flag: "wx", mode: 0o600 })
        yield* file.writeAll(encoder.encode(Redacted.value(token)))
        yield* file.sync
      })).pipe(Effect.mapError(fail("write")))
      yield* applyOwnership(temp, sink)
      yield* fs.rename(temp, sink.path).pipe(Effect.mapError(fail("rename")))
    })
    yield* body.pipe(Effect.tapError(() => fs.remove(temp).pipe(Effect.ignore)))
    // Make the rename durable; not every platform can fsync a directory, so this is best effort.
    yield* Effect.scoped(Effect.flatMap(fs.open(path.dirname(sink.path), { flag: "r" }), (dir) => dir.sync)).pipe(
      Effect.ignore,
    )
  }).pipe(Effect.uninterruptible)

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
    const byDirectory = new Map<string, Array<{ prefix: string; suffix: string }>>()
    for (const target of targets) {
      const patterns = byDirectory.get(path.dirname(target)) ?? []
      patterns.push(tempPattern(path.basename(target)))
      byDirectory.set(path.dirname(target), patterns)
    }
    let removed = 0
    for (const [directory, patterns] of byDirectory) {
      const names = yield* fs.readDirectory(directory).pipe(Effect.orElseSucceed(() => []))
      for (const name of names) {
        const leftover = patterns.some(({ prefix, suffix }) =>
          name.startsWith(prefix) && name.endsWith(suffix) && name.length > prefix.length + suffix.length
        )
        if (leftover && (yield* fs.remove(path.join(directory, name)).pipe(Effect.isSuccess))) removed++
      }
    }
    return removed
  })

/** The current content of a token file, if it is a regular file (a symlink is not read: it will be replaced). */
export const read = (target: string): Effect.Effect<Option.Option<string>, never, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const isLink = yield* fs.readLink(target).pipe(Effect.isSuccess)
    if (isLink) return Option.none()
    return yield* fs.readFileString(target).pipe(Effect.option)
  })

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
