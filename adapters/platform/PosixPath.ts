/**
 * POSIX path rules as pure functions: `resolve`, `join`, `normalize` and `isAbsolute`, giving exactly what Node's
 * `path.posix` (and `@effect/platform`'s `Path`, which follows it) gives, with the working directory passed in rather
 * than read from a runtime. The lean `exec-credential` answers compute their paths with these, so that they name the
 * same files as the full command without loading a path service.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import * as PosixPath from "./PosixPath.ts"
 *
 * assert.equal(PosixPath.normalize("/a//b/../c/./"), "/a/c/")
 * assert.equal(PosixPath.join("a", "", "../b"), "b")
 * assert.equal(PosixPath.resolve("/home/me", "../x", "y/"), "/home/x/y")
 * assert.equal(PosixPath.rules("/work").resolve("cache"), "/work/cache")
 * ```
 *
 * @module
 */

/** The path calls that locate files: `@effect/platform`'s `Path` has them, and so has {@link rules}. */
export interface PathRules {
  readonly sep: string
  readonly isAbsolute: (path: string) => boolean
  readonly join: (...paths: ReadonlyArray<string>) => string
  readonly resolve: (...paths: ReadonlyArray<string>) => string
}

/**
 * Removes `.` segments, empty segments and each `..` with the segment before it; a `..` with nothing before it is kept
 * only when `aboveRoot` (a relative path). No leading or trailing separator is returned.
 */
const segments = (path: string, aboveRoot: boolean): string => {
  const kept: Array<string> = []
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue
    if (segment === ".." && kept.length > 0 && kept[kept.length - 1] !== "..") kept.pop()
    else if (segment !== ".." || aboveRoot) kept.push(segment)
  }
  return kept.join("/")
}

/** Whether the path starts at the root. */
export const isAbsolute = (path: string): boolean => path.startsWith("/")

/** The path without `.`, `..` and repeated separators; `.` for an empty path; a trailing separator is kept. */
export const normalize = (path: string): string => {
  if (path === "") return "."
  const absolute = isAbsolute(path)
  const trailing = path.endsWith("/")
  const body = segments(path, !absolute)
  if (body === "") return absolute ? "/" : trailing ? "./" : "."
  return `${absolute ? "/" : ""}${body}${trailing ? "/" : ""}`
}

/** The non-empty paths joined by `/`, then {@link normalize}d; `.` when all are empty. */
export const join = (...paths: ReadonlyArray<string>): string => {
  const joined = paths.filter((path) => path !== "").join("/")
  return joined === "" ? "." : normalize(joined)
}

/**
 * The absolute path that `paths` lead to from `cwd`, read from the right until one is absolute; normalized, without a
 * trailing separator (`/` for the root).
 */
export const resolve = (cwd: string, ...paths: ReadonlyArray<string>): string => {
  let resolved = ""
  let absolute = false
  for (let i = paths.length - 1; i >= -1 && !absolute; i--) {
    const path = i >= 0 ? paths[i]! : cwd
    if (path === "") continue
    resolved = `${path}/${resolved}`
    absolute = isAbsolute(path)
  }
  const body = segments(resolved, !absolute)
  return absolute ? `/${body}` : body === "" ? "." : body
}

/** {@link PathRules} over these functions, relative paths resolving against `cwd`. */
export const rules = (cwd: string): PathRules => ({
  sep: "/",
  isAbsolute,
  join,
  resolve: (...paths) => resolve(cwd, ...paths),
})
