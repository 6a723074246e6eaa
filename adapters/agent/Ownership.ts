/**
 * Who owns and who can write the agent's files: user and group names resolved through `/etc/passwd` and `/etc/group`,
 * and the check that no user besides the allowed ones (root, the agent's user, the token file's owner) can write a
 * token file's directory or any directory above it. Such a user could otherwise swap the token file for a symlink,
 * plant a token for the agent to adopt, or move the directory away.
 *
 * Who can write a directory is decided by {@link WriteAccess}'s rules; this module reads what they need (`stat` of
 * each directory, the account database). A sticky directory (such as `/tmp`) is safe above the token file's directory,
 * since the next directory down must itself belong to an allowed user; as the token file's directory it is safe only
 * when the file belongs to the agent (no other owner configured).
 *
 * @internal
 * @module
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { PrivateFile } from "../platform/PrivateFile.ts"
import * as WriteAccess from "./WriteAccess.ts"

/** The local account database, as far as `/etc/passwd` and `/etc/group` say. */
export type Accounts = WriteAccess.Accounts

/** Reads `/etc/passwd` and `/etc/group` (a missing file is an empty database). */
export const load: Effect.Effect<Accounts, never, FileSystem.FileSystem> = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  const read = (file: string) => fs.readFileString(file).pipe(Effect.orElseSucceed(() => ""))
  return WriteAccess.parseAccounts(yield* read("/etc/passwd"), yield* read("/etc/group"))
})

/** A uid: a number as it is, a string of digits as its number, a name through the database (`undefined` if unknown). */
export const userId: (value: number | string, accounts: Accounts) => number | undefined = WriteAccess.userId

/** A gid, as {@link userId} for groups. */
export const groupId: (value: number | string, accounts: Accounts) => number | undefined = WriteAccess.groupId

/** What the check allows. */
export interface Allowed {
  /** The users who may write the directories (root is always allowed). */
  readonly uids: ReadonlyArray<number>
  /** Whether the token file belongs to the agent's user (no other owner configured). */
  readonly fileIsAgents: boolean
  /**
   * Whether a directory that cannot be examined (a refused `stat`, as under Deno's least-privilege flags, which
   * grant no read access above the token directory) is logged as a warning. It is skipped either way, since failing
   * would force read access to every directory up to `/`; `sa-token permissions` makes the whole check.
   */
  readonly warnUnverified?: boolean
}

/**
 * Why a user other than the allowed ones can write `directory` (the directory a token file is written to) or a
 * directory above it, or `None` when nobody else can. Directories that do not exist yet are skipped (the agent
 * creates them, 0700); both the path as written and its real path (symlinks resolved) are checked.
 */
export const othersCanWrite = (
  directory: string,
  allowed: Allowed,
): Effect.Effect<Option.Option<string>, never, PrivateFile | FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const files = yield* PrivateFile
    const path = yield* Path.Path
    const uids = new Set([0, ...allowed.uids])
    const chain = (start: string): Array<string> => WriteAccess.upward(start, path.dirname)
    const lexical = chain(path.resolve(directory))
    const sinkDirectories = new Set([lexical[0]!])
    // The real path of the nearest directory that exists, and the directories above it.
    let real: Array<string> = []
    for (const [i, candidate] of lexical.entries()) {
      const resolved = yield* files.realPath(candidate).pipe(Effect.orElseSucceed(() => Option.none<string>()))
      if (Option.isNone(resolved)) continue
      real = chain(resolved.value)
      if (i === 0) sinkDirectories.add(resolved.value)
      break
    }
    let accounts: Accounts | undefined
    for (const candidate of new Set([...lexical, ...real])) {
      const info = yield* files.stat(candidate).pipe(
        Effect.catchAll((error) =>
          allowed.warnUnverified === true
            ? Effect.as(
              Effect.logWarning(
                `cannot check whether other users can write ${candidate}: ${error.message}; ` +
                  "`sa-token permissions --config FILE`, run with read access to it, checks it",
              ),
              Option.none(),
            )
            : Effect.succeedNone
        ),
      )
      if (Option.isNone(info) || info.value.type !== "Directory") continue
      const sink = sinkDirectories.has(candidate)
      const verdict = WriteAccess.examine(candidate, info.value, uids, !sink || allowed.fileIsAgents)
      if (verdict === undefined) continue
      if ("problem" in verdict) return Option.some(verdict.problem)
      accounts ??= yield* load
      const problem = WriteAccess.groupProblem(candidate, info.value, uids, accounts)
      if (problem !== undefined) return Option.some(problem)
    }
    return Option.none()
  })
