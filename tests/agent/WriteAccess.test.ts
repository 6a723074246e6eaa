import assert from "node:assert/strict"
import * as nodePath from "node:path"
import { describe, it } from "node:test"
import * as WriteAccess from "../../adapters/agent/WriteAccess.ts"

const allowed = new Set([0, 1000])
const dir = (uid: number, gid: number, mode: number) => ({ uid, gid, mode })

describe("WriteAccess.examine", () => {
  it("names the owner of a directory that is not an allowed user's, whatever its mode", () => {
    assert.deepEqual(WriteAccess.examine("/d", dir(1001, 0, 0o700), allowed, true), {
      problem: "/d is owned by uid 1001, who can write it",
    })
  })

  it("lets a directory that only its owner can write pass", () => {
    for (const mode of [0o700, 0o755, 0o750, 0o555, 0o4755, 0o2755]) {
      assert.equal(WriteAccess.examine("/d", dir(1000, 50, mode), allowed, false), undefined, mode.toString(8))
    }
  })

  it("accepts a sticky directory writable by others only where the entry below is checked", () => {
    for (const mode of [0o1777, 0o1770, 0o1775]) {
      assert.equal(WriteAccess.examine("/tmp", dir(0, 0, mode), allowed, true), undefined)
      const refused = WriteAccess.examine("/tmp", dir(0, 0, mode), allowed, false)
      assert.ok(refused !== undefined && "problem" in refused)
      assert.match(refused.problem, new RegExp(`^/tmp \\(mode ${mode.toString(8)}\\) is writable by other users`))
    }
  })

  it("names a directory every user can write, and leaves one its group can write to the group's members", () => {
    assert.deepEqual(WriteAccess.examine("/d", dir(0, 50, 0o777), allowed, true), {
      problem: "/d is writable by every user (mode 0777)",
    })
    assert.deepEqual(WriteAccess.examine("/d", dir(0, 50, 0o757), allowed, true), {
      problem: "/d is writable by every user (mode 0757)",
    })
    assert.deepEqual(WriteAccess.examine("/d", dir(0, 50, 0o770), allowed, true), { group: 50 })
  })
})

describe("WriteAccess.groupProblem", () => {
  const accounts = WriteAccess.parseAccounts(
    [
      "root:x:0:0:root:/root:/bin/sh",
      "me:x:1000:1000::/home/me:/bin/sh",
      "other:x:1001:60::/home/other:/bin/sh",
    ].join("\n"),
    ["mine:x:50:me", "both:x:51:me,other", "ghosts:x:52:me,ghost", "primary:x:60:"].join("\n"),
  )
  const problem = (gid: number) => WriteAccess.groupProblem("/d", dir(0, gid, 0o770), allowed, accounts)

  it("lets a group whose members are all allowed pass", () => assert.equal(problem(50), undefined))
  it("names a listed member who is not allowed", () =>
    assert.equal(problem(51), "/d is writable by group 51 (mode 0770), whose members include uid 1001"))
  it("names a user whose primary group it is", () =>
    assert.equal(problem(60), "/d is writable by group 60 (mode 0770), whose members include uid 1001"))
  it("names a listed member unknown to /etc/passwd", () =>
    assert.equal(
      problem(52),
      "/d is writable by group 52 (mode 0770), whose members include a user unknown to /etc/passwd",
    ))
  it("refuses a group the database does not know", () =>
    assert.equal(problem(99), "/d is writable by group 99 (mode 0770), whose members are unknown"))
})

describe("WriteAccess.parseAccounts and userId", () => {
  it("reads names, ids and members, keeps the first line of a name and skips malformed lines", () => {
    const accounts = WriteAccess.parseAccounts(
      "# comment\nsa:x:999:998::/:/bin/false\nsa:x:5:5::/:/bin/false\nbad:x:abc:1::/:/bin/sh\nshort\n",
      "readers:x:998:alice,bob\nempty:x:997:\nbroken:x:z:\n",
    )
    assert.deepEqual([...accounts.users], [["sa", { uid: 999, gid: 998 }]])
    assert.deepEqual([...accounts.groups], [
      ["readers", { gid: 998, members: ["alice", "bob"] }],
      ["empty", { gid: 997, members: [] }],
    ])
    assert.equal(WriteAccess.userId("sa", accounts), 999)
    assert.equal(WriteAccess.userId("1234", accounts), 1234)
    assert.equal(WriteAccess.userId(7, accounts), 7)
    assert.equal(WriteAccess.userId("nobody-here", accounts), undefined)
    assert.equal(WriteAccess.groupId("readers", accounts), 998)
    assert.equal(WriteAccess.groupId("unknown", accounts), undefined)
  })
})

describe("WriteAccess.upward", () => {
  it("lists a path and every directory above it, up to the root", () => {
    assert.deepEqual(WriteAccess.upward("/run/sa-token/agent.sock", nodePath.posix.dirname), [
      "/run/sa-token/agent.sock",
      "/run/sa-token",
      "/run",
      "/",
    ])
    assert.deepEqual(WriteAccess.upward("/", nodePath.posix.dirname), ["/"])
  })
})
