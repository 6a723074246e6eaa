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

/** The empty database ({@link WriteAccess.noAccounts}): a uid or gid written as digits needs no other. */
export const noAccounts: Accounts = WriteAccess.noAccounts

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

/** Linux's limit on the symlinks followed in one resolution (`MAXSYMLINKS`), past which it fails with `ELOOP`. */
const maxSymlinks = 40

/** Where a path leads, and who besides the allowed users could make it lead elsewhere. */
export interface Route {
  /** The real path, every symlink resolved; `None` when a name on the way does not exist (yet). */
  readonly resolved: Option.Option<string>
  /** A user besides the allowed ones who could change where the path leads, or `None`. */
  readonly problem: Option.Option<string>
  /** The symlinks the resolution followed, in order, each as the path it was read at. */
  readonly links: ReadonlyArray<string>
}

/**
 * Resolves `path` one name at a time, following each symlink as the kernel does, and says who besides `allowed.uids`
 * (root is always allowed) could change where it leads: whoever can write a directory a name is looked up in, or owns a
 * symlink on the way (who can replace it, even in a sticky directory). Checking every directory the resolution
 * consults, rather than those of the path as written and of its real path, also covers a symlink whose target is
 * itself reached through another symlink. The resolved directory itself is checked too when it is one: a sticky one
 * only when `allowed.fileIsAgents` (the file placed in it will be the agent's). A name that does not exist ends the
 * walk (the agent creates what is missing, 0700). A `stat` or `lstat` refused (as under Deno's least-privilege flags)
 * skips that check, with a warning when `allowed.warnUnverified`.
 */
export const route = (
  path: string,
  allowed: Allowed,
): Effect.Effect<Route, never, PrivateFile | FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const files = yield* PrivateFile
    const paths = yield* Path.Path
    const uids = new Set([0, ...allowed.uids])
    const unverified = (candidate: string) => (error: { readonly message: string }) =>
      allowed.warnUnverified === true
        ? Effect.as(
          Effect.logWarning(
            `cannot check whether other users can write ${candidate}: ${error.message}; ` +
              "`sa-token permissions --config FILE`, run with read access to it, checks it",
          ),
          Option.none(),
        )
        : Effect.succeedNone
    const names = (text: string) => text.split("/").filter((name) => name !== "" && name !== ".")
    const links: Array<string> = []
    const found = (problem: string): Route => ({ resolved: Option.none(), problem: Option.some(problem), links })
    /** Checks the directories consulted and, when the path resolved, where it leads. */
    const check = (directories: ReadonlyArray<string>, resolved: Option.Option<string>) =>
      Effect.gen(function* () {
        let accounts: Accounts | undefined
        for (const candidate of new Set(Option.isSome(resolved) ? [...directories, resolved.value] : directories)) {
          const info = yield* files.stat(candidate).pipe(Effect.catchAll(unverified(candidate)))
          if (Option.isNone(info) || info.value.type !== "Directory") continue
          const sink = Option.isSome(resolved) && candidate === resolved.value
          const verdict = WriteAccess.examine(candidate, info.value, uids, !sink || allowed.fileIsAgents)
          if (verdict === undefined) continue
          if ("problem" in verdict) return { resolved, problem: Option.some(verdict.problem), links }
          accounts ??= yield* load
          const problem = WriteAccess.groupProblem(candidate, info.value, uids, accounts)
          if (problem !== undefined) return { resolved, problem: Option.some(problem), links }
        }
        return { resolved, problem: Option.none<string>(), links }
      })

    const consulted: Array<string> = []
    let pending = names(paths.resolve(path))
    let current = "/"
    while (pending.length > 0) {
      const [name, ...rest] = pending as [string, ...Array<string>]
      pending = rest
      if (name === "..") {
        current = paths.dirname(current)
        continue
      }
      consulted.push(current)
      const candidate = paths.join(current, name)
      const entry = yield* Effect.either(files.lstat(candidate))
      // Not to be examined (a refused lstat): what follows is taken as written.
      if (entry._tag === "Left") current = candidate
      else if (Option.isNone(entry.right)) return yield* check(consulted, Option.none())
      else if (entry.right.value.type !== "SymbolicLink") current = candidate
      else {
        const link = entry.right.value
        if (!uids.has(link.uid)) return found(`${candidate} is a symlink of uid ${link.uid}, who can replace it`)
        if (links.push(candidate) > maxSymlinks) return found(`${path} goes through more than ${maxSymlinks} symlinks`)
        const target = yield* files.readLink(candidate).pipe(Effect.orElseSucceed(Option.none))
        if (Option.isNone(target)) return found(`${candidate} changed while it was read`)
        if (paths.isAbsolute(target.value)) current = "/"
        pending = [...names(target.value), ...pending]
      }
    }
    return yield* check(consulted, Option.some(current))
  })

/**
 * Why a user other than the allowed ones can write `directory` (the directory a token file is written to) or a
 * directory that resolving it consults, or owns a symlink on the way ({@link route}); `None` when nobody else can.
 */
export const othersCanWrite = (
  directory: string,
  allowed: Allowed,
): Effect.Effect<Option.Option<string>, never, PrivateFile | FileSystem.FileSystem | Path.Path> =>
  Effect.map(route(directory, allowed), (found) => found.problem)
