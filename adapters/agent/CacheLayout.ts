/**
 * Where `exec-credential`'s on-disk cache keeps its files, and when a file there is trusted: plain functions shared by
 * the full command (`ExecCredential.ts`) and the lean answer from the cache (`ExecCredentialCacheHit.ts`), so that
 * both read the same files under the same rules.
 *
 * An entry is `<directory>/<sha256(JSON [key, cluster])>.json`, the namespace remembered for a kubeconfig
 * `<directory>/<sha256(JSON ["namespace", cluster])>.ns.json`. Anyone can derive those names, so a file is trusted only
 * when nobody else could have planted or read it ({@link distrust}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import * as PosixPath from "../platform/PosixPath.ts"
 * import * as CacheLayout from "./CacheLayout.ts"
 *
 * const path = PosixPath.rules("/work")
 * assert.equal(CacheLayout.defaultDirectory({ HOME: "/home/me" }, path), "/home/me/.cache/sa-token")
 * assert.equal(CacheLayout.directory("cache", {}, path), "/work/cache")
 * const directory = { path: "/c", info: { uid: 1000, mode: 0o700 } }
 * assert.equal(CacheLayout.distrust(1000, directory, { path: "/c/e.json", info: { uid: 1000, mode: 0o600 } }), undefined)
 * assert.ok(CacheLayout.distrust(1000, directory, { path: "/c/e.json", info: { uid: 1000, mode: 0o644 } }))
 * ```
 *
 * @module
 */
import { sha256Hex } from "../platform/Digest.ts"
import type { PathRules } from "../platform/PosixPath.ts"

/** The cache directory: `$XDG_CACHE_HOME/sa-token` (when absolute), else `$HOME/.cache/sa-token`. */
export const defaultDirectory = (env: Readonly<Record<string, string | undefined>>, path: PathRules): string =>
  env["XDG_CACHE_HOME"] !== undefined && env["XDG_CACHE_HOME"] !== "" && path.isAbsolute(env["XDG_CACHE_HOME"])
    ? path.join(env["XDG_CACHE_HOME"], "sa-token")
    : path.join(env["HOME"] ?? ".", ".cache", "sa-token")

/** The cache directory to use: `explicit` (`--cache-dir`) resolved, else {@link defaultDirectory}. */
export const directory = (
  explicit: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  path: PathRules,
): string => explicit !== undefined ? path.resolve(explicit) : defaultDirectory(env, path)

/** `<directory>/<sha256 of the parts' JSON><suffix>`: a name anyone can derive, so its content is checked. */
const hashed = async (directory: string, parts: ReadonlyArray<string>, suffix: string, path: PathRules) =>
  path.join(directory, `${await sha256Hex(JSON.stringify(parts))}${suffix}`)

/** The entry file of a request: `<directory>/<sha256(JSON [key, cluster])>.json`. */
export const entryFile = (directory: string, key: string, cluster: string, path: PathRules): Promise<string> =>
  hashed(directory, [key, cluster], ".json", path)

/** The file of the namespace remembered for a cluster: `<directory>/<sha256(JSON ["namespace", cluster])>.ns.json`. */
export const namespaceFile = (directory: string, cluster: string, path: PathRules): Promise<string> =>
  hashed(directory, ["namespace", cluster], ".ns.json", path)

/** The largest cache file read (an entry is about a kilobyte): a larger one is not read, and is a miss. */
export const maxFileBytes = 1024 * 1024

/** What `stat(2)` says of a file, as far as trust goes. */
export interface Ownership {
  readonly uid: number
  /** The permission bits (`mode & 0o7777`). */
  readonly mode: number
}

const octal = (mode: number): string => mode.toString(8).padStart(4, "0")

/**
 * Why a cache file is not to be trusted, or `undefined` when it is: the directory must belong to `uid` (this user)
 * and be writable by nobody else; the file (when it has been read: give what `fstat(2)` said of the descriptor read)
 * must belong to `uid` and be open to nobody else. The file must also be a regular file, which the readers check as
 * they open it.
 */
export const distrust = (
  uid: number,
  directory: { readonly path: string; readonly info: Ownership },
  file?: { readonly path: string; readonly info: Ownership },
): string | undefined => {
  const dir = directory.info
  if (dir.uid !== uid) return `the directory ${directory.path} belongs to uid ${dir.uid}, not to this user (uid ${uid})`
  if ((dir.mode & 0o022) !== 0) {
    return `the directory ${directory.path} is writable by other users (mode ${octal(dir.mode)})`
  }
  if (file === undefined) return undefined
  if (file.info.uid !== uid) return `${file.path} belongs to uid ${file.info.uid}, not to this user (uid ${uid})`
  if ((file.info.mode & 0o077) !== 0) return `${file.path} is open to other users (mode ${octal(file.info.mode)})`
  return undefined
}
