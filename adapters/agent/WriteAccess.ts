/**
 * Who besides a set of allowed users can write a directory, from what `stat(2)` says of it and the local account
 * database: plain functions, loading no Effect module, shared by the agent's check of its token files' directories
 * (`Ownership.ts`) and `exec-credential`'s check of the agent's socket, in the full command and in the lean answer.
 *
 * A directory is writable by its owner (who can always change its mode), by its group when `g+w` (the group's
 * members: users whose primary group it is and the members `/etc/group` lists) and by everyone when `o+w`. A sticky
 * directory (such as `/tmp`) only lets each user remove or rename their own entries, so it is safe wherever the entry
 * below it is itself checked to belong to an allowed user.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import * as WriteAccess from "./WriteAccess.ts"
 *
 * const allowed = new Set([0, 1000])
 * assert.equal(WriteAccess.examine("/run", { uid: 0, gid: 0, mode: 0o755 }, allowed, false), undefined)
 * assert.deepEqual(WriteAccess.examine("/tmp", { uid: 0, gid: 0, mode: 0o1777 }, allowed, false), {
 *   problem: "/tmp (mode 1777) is writable by other users; a sticky directory is only safe for a token file owned by the agent's user",
 * })
 * assert.equal(WriteAccess.examine("/tmp", { uid: 0, gid: 0, mode: 0o1777 }, allowed, true), undefined)
 * assert.deepEqual(WriteAccess.examine("/srv", { uid: 0, gid: 50, mode: 0o775 }, allowed, true), { group: 50 })
 * const accounts = WriteAccess.parseAccounts("root:x:0:0::/root:/bin/sh\nsa:x:999:50::/:/bin/false\n", "staff:x:50:\n")
 * assert.equal(WriteAccess.userId("sa", accounts), 999)
 * assert.equal(WriteAccess.groupProblem("/srv", { uid: 0, gid: 50, mode: 0o775 }, allowed, accounts),
 *   "/srv is writable by group 50 (mode 0775), whose members include uid 999")
 * ```
 *
 * @module
 */

/** The local account database, as far as `/etc/passwd` and `/etc/group` say. */
export interface Accounts {
  /** User name → uid and primary gid. */
  readonly users: ReadonlyMap<string, { readonly uid: number; readonly gid: number }>
  /** Group name → gid and the user names it lists. */
  readonly groups: ReadonlyMap<string, { readonly gid: number; readonly members: ReadonlyArray<string> }>
}

const fields = (text: string): Array<Array<string>> =>
  text.split("\n").filter((line) => line !== "" && !line.startsWith("#")).map((line) => line.split(":"))

const digits = (value: string | undefined): value is string => /^\d+$/.test(value ?? "")

/** The database in the texts of `/etc/passwd` and `/etc/group`; the first line of a name wins, malformed lines are skipped. */
export const parseAccounts = (passwd: string, group: string): Accounts => {
  const users = new Map<string, { uid: number; gid: number }>()
  for (const [name, , uid, gid] of fields(passwd)) {
    if (name !== undefined && digits(uid) && digits(gid) && !users.has(name)) {
      users.set(name, { uid: Number(uid), gid: Number(gid) })
    }
  }
  const groups = new Map<string, { gid: number; members: ReadonlyArray<string> }>()
  for (const [name, , gid, members] of fields(group)) {
    if (name !== undefined && digits(gid) && !groups.has(name)) {
      groups.set(name, { gid: Number(gid), members: (members ?? "").split(",").filter((m) => m !== "") })
    }
  }
  return { users, groups }
}

/** The empty database: with it, {@link userId} and {@link groupId} give only what is written as digits. */
export const noAccounts: Accounts = parseAccounts("", "")

/** A uid: a number as it is, a string of digits as its number, a name through the database (`undefined` if unknown). */
export const userId = (value: number | string, accounts: Accounts): number | undefined =>
  typeof value === "number" ? value : digits(value) ? Number(value) : accounts.users.get(value)?.uid

/** A gid, as {@link userId} for groups. */
export const groupId = (value: number | string, accounts: Accounts): number | undefined =>
  typeof value === "number" ? value : digits(value) ? Number(value) : accounts.groups.get(value)?.gid

/** `path` and every directory above it, up to `/`, for an absolute `path`; `parent` gives a path's directory. */
export const upward = (path: string, parent: (path: string) => string): Array<string> => {
  const out = [path]
  while (parent(out.at(-1)!) !== out.at(-1)!) out.push(parent(out.at(-1)!))
  return out
}

/** What `stat(2)` says of a directory, as far as who can write it goes. */
export interface DirectoryInfo {
  readonly uid: number
  readonly gid: number
  /** The permission bits, with setuid, setgid and sticky (`mode & 0o7777`). */
  readonly mode: number
}

const octal = (mode: number): string => mode.toString(8).padStart(4, "0")

/**
 * Who besides `allowed` (user ids) can write a directory, as far as its owner and mode tell: `undefined` for nobody,
 * `problem` naming who can, or `group` when only its group's members can, which {@link groupProblem} then decides from
 * the account database. `stickyIsSafe` says whether the entry below this directory is checked to belong to an allowed
 * user, which makes a sticky directory safe.
 */
export const examine = (
  path: string,
  info: DirectoryInfo,
  allowed: ReadonlySet<number>,
  stickyIsSafe: boolean,
): { readonly problem: string } | { readonly group: number } | undefined => {
  const { uid, gid, mode } = info
  if (!allowed.has(uid)) return { problem: `${path} is owned by uid ${uid}, who can write it` }
  const groupWrite = (mode & 0o020) !== 0
  const otherWrite = (mode & 0o002) !== 0
  if (!groupWrite && !otherWrite) return undefined
  if ((mode & 0o1000) !== 0) {
    return stickyIsSafe ? undefined : {
      problem: `${path} (mode ${octal(mode)}) is writable by other users; a sticky directory is only safe for a ` +
        "token file owned by the agent's user",
    }
  }
  if (otherWrite) return { problem: `${path} is writable by every user (mode ${octal(mode)})` }
  return { group: gid }
}

/** The uids in a group (primary and listed members), or `undefined` when the database does not know the group. */
const membersOf = (gid: number, accounts: Accounts): ReadonlyArray<number | undefined> | undefined => {
  const group = [...accounts.groups.values()].find((g) => g.gid === gid)
  if (group === undefined) return undefined
  const primary = [...accounts.users.values()].filter((u) => u.gid === gid).map((u) => u.uid)
  return [...primary, ...group.members.map((name) => accounts.users.get(name)?.uid)]
}

/**
 * Who besides `allowed` can write a group-writable directory ({@link examine} said `group`), through its group:
 * `undefined` when every member is allowed, else a sentence naming one who is not, or saying the group is unknown.
 */
export const groupProblem = (
  path: string,
  info: DirectoryInfo,
  allowed: ReadonlySet<number>,
  accounts: Accounts,
): string | undefined => {
  const members = membersOf(info.gid, accounts)
  const writable = `${path} is writable by group ${info.gid} (mode ${octal(info.mode)})`
  if (members === undefined) return `${writable}, whose members are unknown`
  const other = members.findIndex((member) => member === undefined || !allowed.has(member))
  if (other < 0) return undefined
  return `${writable}, whose members include ${
    members[other] === undefined ? "a user unknown to /etc/passwd" : `uid ${members[other]}`
  }`
}
