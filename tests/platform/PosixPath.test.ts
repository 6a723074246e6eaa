import assert from "node:assert/strict"
import { posix } from "node:path"
import { describe, it } from "node:test"
import * as PosixPath from "../../adapters/platform/PosixPath.ts"

/** Path pieces that exercise every rule: empty, `.`, `..`, repeated and trailing separators, relative and absolute. */
const pieces = [
  "",
  ".",
  "..",
  "/",
  "//",
  "///a",
  "a",
  "a/",
  "a//b",
  "/c",
  "/c/",
  "../d",
  "./e",
  "a/./b",
  "x/../..",
  "../../y/",
  "...",
  "..a",
  "a..",
  "/..",
  "/../x",
  "//x//",
  ".hidden",
  "a/b/c/../../..",
  "a/b/../../../c",
  "é/ü",
]

const cwds = ["/", "/home/me", "/a/b/", "//srv//x"]

describe("PosixPath", () => {
  it("normalizes as node:path's posix does", () => {
    for (const a of pieces) {
      assert.equal(PosixPath.normalize(a), posix.normalize(a), a)
      for (const b of pieces) assert.equal(PosixPath.normalize(`${a}/${b}`), posix.normalize(`${a}/${b}`), `${a}/${b}`)
    }
  })

  it("joins as node:path's posix does", () => {
    assert.equal(PosixPath.join(), posix.join())
    for (const a of pieces) {
      for (const b of pieces) {
        for (const c of ["", "..", "z/", "/"]) {
          assert.equal(PosixPath.join(a, b, c), posix.join(a, b, c), `${a} ${b} ${c}`)
        }
      }
    }
  })

  it("resolves from the working directory given as node:path's posix does from its own", () => {
    for (const cwd of cwds) {
      const rules = PosixPath.rules(cwd)
      assert.equal(rules.resolve(), posix.resolve(cwd))
      for (const a of pieces) {
        for (const b of pieces) {
          const expected = posix.resolve(cwd, a, b)
          assert.equal(PosixPath.resolve(cwd, a, b), expected, `${cwd}: ${a} ${b}`)
          assert.equal(rules.resolve(a, b), expected, `${cwd}: ${a} ${b}`)
        }
      }
    }
  })

  it("tells absolute paths as node:path's posix does", () => {
    for (const a of pieces) assert.equal(PosixPath.isAbsolute(a), posix.isAbsolute(a), a)
    assert.equal(PosixPath.rules("/").sep, posix.sep)
  })
})
