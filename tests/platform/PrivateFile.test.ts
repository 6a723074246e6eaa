/**
 * The PrivateFile port over node:fs, on the runtime running the suite: exact modes and owners set on the descriptor,
 * no-follow reads, and what the writer does when another process swaps the temporary file for a symlink at each step
 * (the swap runs inside the wrapped system calls, so the race is deterministic).
 */
import assert from "node:assert/strict"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import process from "node:process"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as NodePrivateFile from "../../adapters/platform/NodePrivateFile.ts"
import type { Syscalls } from "../../adapters/platform/NodePrivateFile.ts"
import { race, snapshot, withVictim } from "../_support/attacks.ts"
import { withSocketBehindTwoLinks } from "../_support/links.ts"
import { failureOf, withTempDir } from "../_support/scratch.ts"
import { needsRoot } from "../_support/users.ts"

const encode = (text: string) => new TextEncoder().encode(text)
const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(Effect.exit(effect))
const isRoot = process.getuid?.() === 0
const otherUid = 4242

describe("PrivateFile over node:fs", () => {
  it("writes with the exact mode whatever the umask, sets owner and group, and leaves no temporary file", () =>
    withTempDir("pf", async (dir) => {
      const old = process.umask(0o077)
      try {
        const files = NodePrivateFile.make()
        const target = nodePath.join(dir, "token")
        assert.ok(Exit.isSuccess(await run(files.write(target, encode("a"), { mode: 0o644 }))))
        assert.equal(fs.statSync(target).mode & 0o7777, 0o644)
        const owner = isRoot ? { uid: otherUid, gid: otherUid } : {}
        assert.ok(Exit.isSuccess(await run(files.write(target, encode("b"), { mode: 0o640, ...owner }))))
        assert.deepEqual(snapshot(target), {
          mode: 0o640,
          uid: isRoot ? otherUid : process.getuid!(),
          gid: isRoot ? otherUid : fs.statSync(target).gid,
          content: "b",
        })
        assert.deepEqual(fs.readdirSync(dir), ["token"])
        const identity = await Effect.runPromise(files.identity)
        assert.deepEqual(identity, { uid: process.geteuid!(), gid: process.getegid!() })
      } finally {
        process.umask(old)
      }
    }))

  it("replaces a symlink at the target instead of following it", () =>
    withVictim("pf", async (dir, victim) => {
      const target = nodePath.join(dir, "token")
      fs.symlinkSync(victim, target)
      assert.ok(Exit.isSuccess(await run(NodePrivateFile.make().write(target, encode("t"), { mode: 0o644 }))))
      assert.ok(fs.lstatSync(target).isFile())
      assert.equal(snapshot(victim).mode, 0o600)
      assert.equal(snapshot(victim).content, "precious")
    }))

  for (const at of ["open", "rename"] as const) {
    it(`a symlink renamed over the temporary file (${at === "open" ? "after the open" : "before the rename"}) changes nothing it points to`, () =>
      withVictim("pf", async (dir, victim) => {
        const target = nodePath.join(dir, "token")
        fs.writeFileSync(target, "old", { mode: 0o600 })
        const before = snapshot(victim)
        const attack = race(victim, at)
        const owner = isRoot ? { uid: otherUid } : {}
        const error = failureOf(
          await run(NodePrivateFile.make(attack.sys).write(target, encode("new"), { mode: 0o666, ...owner })),
        )
        assert.equal(attack.fired(), 1)
        assert.equal(error.operation, "verify")
        assert.equal(error.code, "EREPLACED")
        assert.match(error.message, /symbolic link/)
        assert.deepEqual(snapshot(victim), before, "the symlink's target was changed")
        if (at === "open") {
          // The check before the rename caught it: the previous file is untouched.
          assert.equal(snapshot(target).mode, 0o600)
          assert.equal(snapshot(target).content, "old")
        } else {
          // The symlink was renamed into place, then removed: no symlink is left where readers expect the token.
          assert.ok(!fs.existsSync(target) || fs.lstatSync(target).isFile())
        }
        assert.deepEqual(fs.readdirSync(dir).filter((name) => name.endsWith(".tmp") || name.endsWith(".evil")), [])
      }))
  }

  it("names the errno of a failed write, finishes short writes, and removes the temporary file", () =>
    withTempDir("pf", async (dir) => {
      const target = nodePath.join(dir, "token")
      const full: Syscalls = {
        ...NodePrivateFile.syscalls,
        write: () => Promise.reject(Object.assign(new Error("os error 28"), { code: "ENOSPC" })),
      }
      const error = failureOf(await run(NodePrivateFile.make(full).write(target, encode("x"), { mode: 0o600 })))
      assert.equal(error.code, "ENOSPC")
      assert.equal(error.message, `cannot write ${target}: ENOSPC (no space left on device)`)
      assert.deepEqual(fs.readdirSync(dir), [])
      const short: Syscalls = {
        ...NodePrivateFile.syscalls,
        write: (fd, data, offset) => NodePrivateFile.syscalls.write(fd, data, offset, 1),
      }
      assert.ok(Exit.isSuccess(await run(NodePrivateFile.make(short).write(target, encode("abcdef"), { mode: 0o600 }))))
      assert.equal(fs.readFileSync(target, "utf8"), "abcdef")
    }))

  it("reads regular files only: not through a symlink, not a FIFO (without blocking), not a directory", () =>
    withVictim("pf", async (dir, victim) => {
      const files = NodePrivateFile.make()
      const read = async (name: string) => {
        const exit = await run(files.read(nodePath.join(dir, name), { maxBytes: 16 }))
        assert.ok(Exit.isSuccess(exit), String(exit))
        return Option.map(exit.value, ({ data }) => new TextDecoder().decode(data))
      }
      fs.writeFileSync(nodePath.join(dir, "file"), "content")
      fs.symlinkSync(victim, nodePath.join(dir, "link"))
      fs.mkdirSync(nodePath.join(dir, "directory"))
      assert.deepEqual(await read("file"), Option.some("content"))
      assert.deepEqual(await read("missing"), Option.none())
      assert.deepEqual(await read("link"), Option.none())
      assert.deepEqual(await read("directory"), Option.none())
      if (spawnSync("mkfifo", [nodePath.join(dir, "fifo")]).status === 0) {
        assert.deepEqual(await read("fifo"), Option.none())
      }
      fs.writeFileSync(nodePath.join(dir, "big"), "x".repeat(17))
      assert.equal(failureOf(await run(files.read(nodePath.join(dir, "big"), { maxBytes: 16 }))).code, "EFBIG")
    }))

  it("realPath follows a chain of symlinks to a unix socket to its end", () =>
    withTempDir("pf", (dir) =>
      withSocketBehindTwoLinks(dir, async (link, real) => {
        assert.deepEqual(await run(NodePrivateFile.make().realPath(link)), Exit.succeed(Option.some(real)))
      })))

  it("privateDirectory creates 0700, tightens its own, and refuses a symlink", () =>
    withTempDir("pf", async (dir) => {
      const files = NodePrivateFile.make()
      const uid = process.geteuid!()
      const created = nodePath.join(dir, "a", "b")
      assert.ok(Exit.isSuccess(await run(files.privateDirectory(created, { mode: 0o700, uid }))))
      assert.equal(fs.statSync(created).mode & 0o7777, 0o700)
      fs.chmodSync(created, 0o777)
      assert.ok(Exit.isSuccess(await run(files.privateDirectory(created, { mode: 0o700, uid }))))
      assert.equal(fs.statSync(created).mode & 0o7777, 0o700)
      fs.symlinkSync(created, nodePath.join(dir, "link"))
      const error = failureOf(await run(files.privateDirectory(nodePath.join(dir, "link"), { mode: 0o700, uid })))
      // Linux reports a symlink opened with O_DIRECTORY | O_NOFOLLOW as ENOTDIR; other systems say ELOOP.
      assert.ok(["ELOOP", "ENOTDIR"].includes(error.code), error.code)
    }))

  it(
    "privateDirectory leaves another user's directory alone",
    { skip: needsRoot },
    () =>
      withTempDir("pf", async (dir) => {
        fs.chmodSync(dir, 0o755)
        fs.chownSync(dir, otherUid, otherUid)
        const error = failureOf(await run(NodePrivateFile.make().privateDirectory(dir, { mode: 0o700, uid: 0 })))
        assert.equal(error.code, "EPERM")
        assert.match(error.message, /owned by uid 4242/)
        assert.equal(fs.statSync(dir).mode & 0o7777, 0o755)
      }),
  )
})
