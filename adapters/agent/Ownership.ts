/**
 * Who owns and who can write the agent's files: user and group names resolved through `/etc/passwd` and `/etc/group`,
 * and the check that no user besides the allowed ones (root, the agent's user, the token file's owner) can write a
 * token file's directory or any directory above it. Such a user could otherwise swap the token file for a symlink,
 * plant a token for the agent to adopt, or move the directory away.
 *
 * A directory is writable by its owner (who can always change its mode), by its group when `g+w` (the group's
 * members: users whose primary group it is and the members `/etc/group` lists) and by everyone when `o+w`. A sticky
 * directory (such as `/tmp`) only lets each user remove or rename their own entries: above the token file's directory
 * that is safe, since the next directory down must itself belong to an allowed user; as the token file's directory it
 * is safe only when the file belongs to the agent (no other owner configured).
 *
 * @internal
 * @module
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { PrivateFile } from "../platform/PrivateFile.ts"

/** The local account database, as far as `/etc/passwd` and `/etc/group` say. */
export interface Accounts {
  /** User name → uid and primary gid. */
  readonly users: ReadonlyMap<string, { readonly uid: number; readonly gid: number }>
  /** Group name → gid and the user names it lists. */
  readonly groups: ReadonlyMap<string, { readonly gid: number; readonly members: ReadonlyArray<string> }>
}

const fields = (text: string): Array<Array<string>> =>
  text.split("\n").filter((line) => line !== "" && !line.startsWith("#")).map((line) => line.split(":"))

/** Reads `/etc/passwd` and `/etc/group` (a missing file is an empty database). */
export const load: Effect.Effect<Accounts, never, FileSystem.FileSystem> = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  const read = (file: string) => fs.readFileString(file).pipe(Effect.orElseSucceed(() => ""))
  const users = new Map<string, { uid: number; gid: number }>()
  for (const [name, , uid, gid] of fields(yield* read("/etc/passwd"))) {
    if (name !== undefined && /^\d+$/.test(uid ?? "") && /^\d+$/.test(gid ?? "") && !users.has(name)) {
      users.set(name, { uid: Number(uid), gid: Number(gid) })
    }
  }
  const groups = new Map<string, { gid: number; members: ReadonlyArray<string> }>()
  for (const [name, , gid, members] of fields(yield* read("/etc/group"))) {
    if (name !== undefined && /^\d+$/.test(gid ?? "") && !groups.has(name)) {
      groups.set(name, { gid: Number(gid), members: (members ?? "").split(",").filter((m) => m !== "") })
    }
  }
  return { users, groups }
})

/** A uid: a number as it is, a string of digits as its number, a name through the database (`undefined` if unknown). */
export const userId = (value: number | string, accounts: Accounts): number | undefined =>
  typeof value === "number" ? value : /^\d+$/.test(value) ? Number(value) : accounts.users.get(value)?.uid

/** A gid, as {@link userId} for groups. */
export const groupId = (value: number | string, accounts: Accounts): number | undefined =>
  typeof value === "number" ? value : /^\d+$/.test(value) ? Number(value) : accounts.groups.get(value)?.gid

/** The uids in a group (primary and listed members), or `undefined` when the database does not know the group. */
const membersOf = (gid: number, accounts: Accounts): ReadonlyArray<number | undefined> | undefined => {
  const group = [...accounts.groups.values()].find((g) => g.gid === gid)
  if (group === undefined) return undefined
  const primary = [...accounts.users.values()].filter((u) => u.gid === gid).map((u) => u.uid)
  return [...primary, ...group.members.map((name) => accounts.users.get(name)?.uid)]
}

const octal = (mode: number): string => mode.toString(8).padStart(4, "0")

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
    const chain = (start: string): Array<string> => {
      const out = [start]
      while (path.dirname(out.at(-1)!) !== out.at(-1)!) out.push(path.dirname(out.at(-1)!))
      return out
    }
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
      const { uid, gid, mode } = info.value
      if (!uids.has(uid)) return Option.some(`${candidate} is owned by uid ${uid}, who can write it`)
      const sticky = (mode & 0o1000) !== 0
      const groupWrite = (mode & 0o020) !== 0
      const otherWrite = (mode & 0o002) !== 0
      if (!groupWrite && !otherWrite) continue
      if (sticky) {
        if (!sinkDirectories.has(candidate) || allowed.fileIsAgents) continue
        return Option.some(
          `${candidate} (mode ${octal(mode)}) is writable by other users; a sticky directory is only safe for a ` +
            "token file owned by the agent's user",
        )
      }
      if (otherWrite) return Option.some(`${candidate} is writable by every user (mode ${octal(mode)})`)
      accounts ??= yield* load
      const members = membersOf(gid, accounts)
      if (members === undefined) {
        return Option.some(`${candidate} is writable by group ${gid} (mode ${octal(mode)}), whose members are unknown`)
      }
      const other = members.findIndex((member) => member === undefined || !uids.has(member))
      if (other >= 0) {
        const who = members[other] === undefined ? "a user unknown to /etc/passwd" : `uid ${members[other]}`
        return Option.some(
          `${candidate} is writable by group ${gid} (mode ${octal(mode)}), whose members include ${who}`,
        )
      }
    }
    return Option.none()
  })
