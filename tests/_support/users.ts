/**
 * A second local user for the suites that play a hostile local user. Only root can create one (and chown files to
 * it); the user is named `satk-fs-<tag>-<random>` so that parallel runs and other suites never share one, and is
 * removed when the test ends.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import process from "node:process"

/** A user created for one test. */
export interface TestUser {
  readonly name: string
  readonly uid: number
  readonly gid: number
  /** Runs `argv` as this user (no supplementary groups) and returns its exit status and output. */
  readonly run: (argv: ReadonlyArray<string>) => { status: number | null; stdout: string; stderr: string }
  /** The argv prefix that runs a command as this user. */
  readonly asUser: ReadonlyArray<string>
}

const isRoot = process.getuid?.() === 0
const has = (program: string): boolean =>
  ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].some((dir) => fs.existsSync(`${dir}/${program}`))

/** Why a test that needs a second user is skipped here, or `false` when it can run. */
export const needsSecondUser: string | false = !isRoot
  ? "needs root: it creates a second local user (satk-fs-*) and chowns files to it"
  : !has("useradd") || !has("userdel") || !has("setpriv")
  ? "needs useradd, userdel and setpriv to create a second local user and run a process as it"
  : false

/** Why a test that needs root is skipped here, or `false` when it can run. */
export const needsRoot: string | false = isRoot ? false : "needs root (chown to another user, mounts)"

/**
 * Creates a system user `satk-fs-<tag>-<random>` with its own group and no home, runs `body` with it, and removes it
 * (and its group) afterwards, whatever happens.
 */
export const withUser = async <A>(tag: string, body: (user: TestUser) => Promise<A>): Promise<A> => {
  const name = `satk-fs-${tag}-${Math.random().toString(36).slice(2, 8)}`
  const created = spawnSync("useradd", [
    "--system",
    "--no-create-home",
    "--user-group",
    "--shell",
    "/usr/sbin/nologin",
    name,
  ], {
    encoding: "utf8",
  })
  if (created.status !== 0) throw new Error(`useradd ${name} failed: ${created.stderr}`)
  try {
    const line = fs.readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith(`${name}:`))
    const [, , uid, gid] = line!.split(":")
    const asUser = ["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--"]
    const user: TestUser = {
      name,
      uid: Number(uid),
      gid: Number(gid),
      asUser,
      run: (argv) => {
        const result = spawnSync(asUser[0]!, [...asUser.slice(1), ...argv], { encoding: "utf8" })
        return { status: result.status, stdout: result.stdout, stderr: result.stderr }
      },
    }
    return await body(user)
  } finally {
    spawnSync("userdel", [name], { encoding: "utf8" })
  }
}
