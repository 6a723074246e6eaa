/**
 * The PrivateFile writer where `fchmod`, `fchown` and `fsync` are refused, as Node's permission model refuses them: a
 * file of the writer's own user with the mode it is created with (0600) is written without them, opened with
 * `O_DSYNC`; a file that needs another mode or owner fails with an error that names the refusal, and leaves nothing.
 */
import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import process from "node:process"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as NodePrivateFile from "../../adapters/platform/NodePrivateFile.ts"
import type { Syscalls } from "../../adapters/platform/NodePrivateFile.ts"

const encode = (text: string) => new TextEncoder().encode(text)

const refused = (name: string) => () =>
  Promise.reject(
    Object.assign(new Error(`${name} API is disabled when Permission Model is enabled.`), {
      code: "ERR_ACCESS_DENIED",
    }),
  )

/** The real calls, with those Node's permission model refuses refused, and the flags of every open recorded. */
const restricted = (opened: Array<number>): Syscalls => ({
  ...NodePrivateFile.syscalls,
  open: (path, flags, mode) => {
    opened.push(flags)
    return NodePrivateFile.syscalls.open(path, flags, mode)
  },
  fchmod: refused("fchmod"),
  fchown: refused("fchown"),
  fsync: refused("fsync"),
})

describe("PrivateFile under Node's permission model", { skip: process.platform === "win32" }, () => {
  it("writes a 0600 file of its own user without fchmod, fchown and fsync, opened with O_DSYNC", async () => {
    const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "pf-perm-"))
    const old = process.umask(0o022)
    try {
      const opened: Array<number> = []
      const files = NodePrivateFile.make(restricted(opened), { syncOnWrite: true })
      const target = nodePath.join(dir, "token")
      const identity = await Effect.runPromise(files.identity)
      const write = (text: string) =>
        Effect.runPromise(Effect.exit(files.write(target, encode(text), { mode: 0o600, ...identity })))
      assert.ok(Exit.isSuccess(await write("a")))
      assert.ok(Exit.isSuccess(await write("b")))
      assert.equal(fs.readFileSync(target, "utf8"), "b")
      assert.equal(fs.statSync(target).mode & 0o7777, 0o600)
      assert.deepEqual(fs.readdirSync(dir), ["token"])
      const { O_DSYNC, O_CREAT } = fs.constants
      const created = opened.filter((flags) => (flags & O_CREAT) !== 0)
      assert.equal(created.length, 2)
      assert.ok(created.every((flags) => (flags & O_DSYNC) === O_DSYNC), created.join(","))
    } finally {
      process.umask(old)
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("names the refusal when the mode or the owner must change, and leaves no file", async () => {
    const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "pf-perm-"))
    try {
      const files = NodePrivateFile.make(restricted([]), { syncOnWrite: true })
      const target = nodePath.join(dir, "token")
      const uid = (await Effect.runPromise(files.identity)).uid
      for (const options of [{ mode: 0o640 }, { mode: 0o600, uid: uid + 1 }]) {
        const exit = await Effect.runPromise(Effect.exit(files.write(target, encode("x"), options)))
        assert.ok(Exit.isFailure(exit) && exit.cause._tag === "Fail", String(exit))
        assert.equal(exit.cause.error.code, "ERR_ACCESS_DENIED")
        assert.match(exit.cause.error.message, /refused by Node's permission model/)
        assert.deepEqual(fs.readdirSync(dir), [])
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("without syncOnWrite, a refused fsync is an error: a write is never left undurable silently", async () => {
    const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "pf-perm-"))
    try {
      const files = NodePrivateFile.make(restricted([]), { syncOnWrite: false })
      const exit = await Effect.runPromise(
        Effect.exit(files.write(nodePath.join(dir, "token"), encode("x"), { mode: 0o600 })),
      )
      assert.ok(Exit.isFailure(exit) && exit.cause._tag === "Fail", String(exit))
      assert.equal(exit.cause.error.operation, "sync")
      assert.deepEqual(fs.readdirSync(dir), [])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
