/**
 * Scratch space and failures for the suites that work on real files: a fresh temporary directory (removed afterwards
 * whatever the test does), and the typed error an effect failed with.
 */
import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import * as Exit from "effect/Exit"

/** A fresh temporary directory. */
export const tempDir = (prefix: string): string => fs.mkdtempSync(nodePath.join(os.tmpdir(), `${prefix}-`))

/** Removes a directory and everything in it, if it is there. */
export const removeDir = (path: string): void => fs.rmSync(path, { recursive: true, force: true })

/** Runs `body` with a fresh temporary directory, and removes the directory once `body` ends, however it ends. */
export const withTempDir = async <A>(prefix: string, body: (dir: string) => A | Promise<A>): Promise<A> => {
  const dir = tempDir(prefix)
  try {
    return await body(dir)
  } finally {
    removeDir(dir)
  }
}

/** The error `exit` failed with: the test fails when it succeeded (with `expected`) or ended by a defect. */
export const failureOf = <E>(exit: Exit.Exit<unknown, E>, expected = "expected a failure"): E => {
  assert.ok(Exit.isFailure(exit), expected)
  const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
  assert.ok(error !== undefined, String(exit.cause))
  return error
}
