/**
 * Binding a `node:http` server to a unix socket when the agent runs as root next to hostile local users.
 *
 * - The socket's directory must belong to the agent's user or to root, must not be writable by anyone else unless it
 *   is sticky (as `/tmp` is), and must not be named through another user's symlink: whoever can rename entries there
 *   (or repoint the symlink) could swap the private directory for a symlink between two steps, and redirect the bind,
 *   the `chmod` of the socket, or the rename. The agent checks the directories above it, and the symlinks on the way,
 *   when it loads its configuration; this checks the directory again when it binds.
 * - The socket is bound as `s` in a fresh 0700 directory `.NAME.sat` beside its final path, its mode is set there,
 *   where nobody else can reach it, and it is renamed into place, so nobody can connect before the mode applies.
 * - A `.NAME.sat` left by a killed agent of the same user is emptied of its socket and removed, entry by entry (no
 *   recursive removal, which another user's symlinks could steer); one that is a symlink, not a directory, another
 *   user's, or holds anything else is refused and left alone.
 * - A live socket at the final path is refused; a stale one (its server gone) is replaced; anything else is refused.
 *
 * @module
 */
import * as fs from "node:fs/promises"
import * as http from "node:http"
import * as path from "node:path"
import process from "node:process"
import { errnoOf as codeOf, LocalHttpError } from "./LocalHttp.ts"
import type { LocalHttpErrorReason } from "./LocalHttp.ts"

const refuse = (socketPath: string, reason: LocalHttpErrorReason, detail: string): LocalHttpError =>
  new LocalHttpError({ reason, address: `unix:${socketPath}`, code: "", detail })

const missing = <A>(promise: Promise<A>): Promise<A | undefined> =>
  promise.catch((error) => {
    if (codeOf(error) === "ENOENT") return undefined
    throw error
  })

const ownUid = (): number | undefined => process.geteuid?.()

/** Whether a file of `uid` is beyond the reach of other users (its owner is us or root). */
const trusted = (uid: number): boolean => uid === 0 || uid === (ownUid() ?? uid)

/**
 * Refuses a directory other users can rename entries in, or reached through a symlink of another user (who could point
 * it elsewhere between two steps). The agent's configuration check covers the directories above it.
 */
const checkParent = async (socketPath: string, parent: string): Promise<void> => {
  const link = await fs.lstat(parent)
  if (link.isSymbolicLink() && !trusted(link.uid)) {
    throw refuse(
      socketPath,
      "UnsafeDirectory",
      `the socket's directory ${parent} is a symlink of uid ${link.uid}, who could point it elsewhere; name the directory itself`,
    )
  }
  const stat = await fs.stat(parent)
  if (!stat.isDirectory()) throw refuse(socketPath, "UnsafeDirectory", `${parent} is not a directory`)
  if (!trusted(stat.uid)) {
    throw refuse(
      socketPath,
      "UnsafeDirectory",
      `the socket's directory ${parent} belongs to uid ${stat.uid}, who could redirect the socket; use a directory of the agent's user or root`,
    )
  }
  if ((stat.mode & 0o022) !== 0 && (stat.mode & 0o1000) === 0) {
    throw refuse(
      socketPath,
      "UnsafeDirectory",
      `the socket's directory ${parent} is writable by other users (mode ${
        (stat.mode & 0o7777).toString(8).padStart(4, "0")
      }) and not sticky; they could redirect the socket`,
    )
  }
}

/** Whether a server answers on the socket: only a refused connection proves it stale. */
const live = (socketPath: string): Promise<boolean> =>
  new Promise((resolve) => {
    const probe = http.get({ socketPath, path: "/healthz", timeout: 1000 }, (res) => {
      res.resume()
      resolve(true)
    })
    probe.on("error", (error) => resolve(codeOf(error) !== "ECONNREFUSED"))
    probe.on("timeout", () => {
      resolve(true)
      probe.destroy()
    })
  })

/** Removes a stale socket at `socketPath`; refuses a live one or anything that is not a socket. */
const clearStale = async (socketPath: string): Promise<void> => {
  const stat = await missing(fs.lstat(socketPath))
  if (stat === undefined) return
  if (!stat.isSocket()) throw refuse(socketPath, "NotASocket", "the path exists and is not a socket")
  if (await live(socketPath)) throw refuse(socketPath, "AddressInUse", "another process is serving this socket")
  await missing(fs.unlink(socketPath))
}

/** Removes a leftover private directory of our own: its socket, then the (then empty) directory. */
const removeLeftover = async (socketPath: string, dir: string): Promise<void> => {
  const stat = await missing(fs.lstat(dir))
  if (stat === undefined) return
  if (!stat.isDirectory() || stat.uid !== (ownUid() ?? stat.uid)) {
    const what = stat.isSymbolicLink()
      ? "a symlink"
      : stat.isDirectory()
      ? `owned by uid ${stat.uid}`
      : "not a directory"
    throw refuse(
      socketPath,
      "UnsafeDirectory",
      `${dir} is in the way and is ${what}; it was left alone: remove it if no agent uses it`,
    )
  }
  await missing(fs.unlink(path.join(dir, "s")))
  await missing(fs.rmdir(dir)).catch((error) => {
    throw refuse(
      socketPath,
      "UnsafeDirectory",
      `${dir} is in the way and holds more than a socket (${codeOf(error) || String(error)}); it was left alone`,
    )
  })
}

/** Creates the private directory, replacing a leftover of our own. */
const makePrivateDirectory = async (socketPath: string, dir: string): Promise<void> => {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await fs.mkdir(dir, { mode: 0o700 })
    } catch (error) {
      if (codeOf(error) !== "EEXIST") throw error
      await removeLeftover(socketPath, dir)
      continue
    }
    const stat = await fs.lstat(dir)
    if (!stat.isDirectory() || stat.uid !== (ownUid() ?? stat.uid) || (stat.mode & 0o077) !== 0) {
      throw refuse(socketPath, "UnsafeDirectory", `${dir} changed while it was being created`)
    }
    return
  }
  throw refuse(socketPath, "UnsafeDirectory", `${dir} keeps reappearing: another process is creating it`)
}

const listen = (server: http.Server, socketPath: string): Promise<void> =>
  new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(socketPath, () => {
      server.off("error", reject)
      resolve()
    })
  })

/**
 * Binds `server` to `socketPath` with `mode`; returns the socket's inode, which {@link unbind} checks before removing
 * it. On failure nothing is left behind but the server, which the caller closes.
 */
export const bind = async (server: http.Server, socketPath: string, mode: number): Promise<number> => {
  const target = path.resolve(socketPath)
  const parent = path.dirname(target)
  await fs.mkdir(parent, { recursive: true, mode: 0o700 })
  await checkParent(socketPath, parent)
  await clearStale(target)
  const dir = path.join(parent, `.${path.basename(target)}.sat`)
  await makePrivateDirectory(socketPath, dir)
  const temporary = path.join(dir, "s")
  try {
    await listen(server, temporary)
    await fs.chmod(temporary, mode)
    await fs.rename(temporary, target)
    return (await fs.lstat(target)).ino
  } finally {
    await missing(fs.unlink(temporary)).catch(() => undefined)
    await fs.rmdir(dir).catch(() => undefined)
  }
}

/** Removes the socket at `socketPath` if it still is the one {@link bind} created. */
export const unbind = async (socketPath: string, inode: number): Promise<void> => {
  const stat = await missing(fs.lstat(socketPath)).catch(() => undefined)
  if (stat?.isSocket() === true && stat.ino === inode) await fs.unlink(socketPath).catch(() => undefined)
}
