import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import process from "node:process"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as EndpointClient from "../../adapters/agent/EndpointClient.ts"
import * as SocketTrust from "../../adapters/agent/SocketTrust.ts"
import { platform } from "../_support/platform.ts"
import { failureOf, withTempDir } from "../_support/scratch.ts"

describe("SocketTrust", () => {
  it("asks a socket of root, of this user or of --socket-owner, and names any other owner", () => {
    assert.deepEqual([...SocketTrust.owners(1000, undefined)], [0, 1000])
    assert.deepEqual([...SocketTrust.owners(1000, 999)], [0, 1000, 999])
    for (const uid of [0, 1000]) assert.equal(SocketTrust.socketProblem(uid, 1000, undefined), undefined)
    assert.equal(SocketTrust.socketProblem(999, 1000, 999), undefined)
    assert.equal(
      SocketTrust.socketProblem(999, 1000, undefined),
      "the socket belongs to uid 999; only a socket of root, of this user (uid 1000) or of --socket-owner is asked",
    )
    assert.ok(SocketTrust.socketProblem(998, 1000, 999) !== undefined)
  })
})

// Another user's files are made by giving them away, which only root can do.
const asRoot = process.getuid?.() === 0
const otherUid = 4242

/** `EndpointClient.trustSocket` of `path`: the path it would ask, or the `Untrusted` error's message. */
const check = async (path: string, socketOwner?: number): Promise<{ asked: string } | { refused: string }> => {
  const exit = await EndpointClient.trustSocket(path, "app", socketOwner).pipe(
    Effect.provide(platform),
    Effect.runPromiseExit,
  )
  if (Exit.isSuccess(exit)) return { asked: exit.value }
  const error = failureOf(exit)
  assert.equal(error.reason, "Untrusted")
  return { refused: error.message }
}

/** The message `trustSocket` refuses `path` with, or undefined when it would ask the socket there. */
const refusal = async (path: string, socketOwner?: number): Promise<string | undefined> => {
  const result = await check(path, socketOwner)
  return "refused" in result ? result.refused : undefined
}

/** A private directory in `dir` holding a file `agent.sock` (the check is of owners and modes, not of the socket). */
const place = (dir: string, name = "run") => {
  const directory = nodePath.join(dir, name)
  fs.mkdirSync(directory, { mode: 0o700 })
  const socket = nodePath.join(directory, "agent.sock")
  fs.writeFileSync(socket, "")
  return { directory, socket }
}

describe("EndpointClient.trustSocket", { skip: !asRoot && "gives files to another user, which needs root" }, () => {
  it("trusts root's socket in root's private directory, and has nothing to say of a socket that is not there", () =>
    withTempDir("socket-trust", async (dir) => {
      const { directory, socket } = place(dir)
      assert.equal(await refusal(socket), undefined)
      assert.equal(await refusal(nodePath.join(directory, "absent.sock")), undefined)
    }))

  it("refuses another user's socket unless it is named with --socket-owner", () =>
    withTempDir("socket-trust", async (dir) => {
      const { socket } = place(dir)
      fs.chownSync(socket, otherUid, otherUid)
      assert.equal(
        await refusal(socket),
        `cannot get token "app" from the agent at unix:${socket}: the socket belongs to uid ${otherUid}; ` +
          "only a socket of root, of this user (uid 0) or of --socket-owner is asked",
      )
      assert.equal(await refusal(socket, otherUid), undefined)
      assert.match((await refusal(socket, otherUid + 1))!, /belongs to uid 4242/)
    }))

  it("refuses a socket in a directory another user owns or every user can write, and accepts a sticky one", () =>
    withTempDir("socket-trust", async (dir) => {
      const { directory, socket } = place(dir)
      fs.chmodSync(directory, 0o777)
      assert.match(
        (await refusal(socket))!,
        new RegExp(
          `${directory} is writable by every user \\(mode 0777\\), so another user could put their own socket`,
        ),
      )
      fs.chmodSync(directory, 0o1777)
      assert.equal(await refusal(socket), undefined, "nobody else can remove or rename root's socket there")
      fs.chmodSync(directory, 0o700)
      fs.chownSync(directory, otherUid, otherUid)
      assert.match((await refusal(socket))!, new RegExp(`${directory} is owned by uid ${otherUid}, who can write it`))
      assert.equal(await refusal(socket, otherUid), undefined)
      fs.chownSync(directory, 0, 0)
      fs.chmodSync(dir, 0o777)
      assert.match((await refusal(socket))!, new RegExp(`${dir} is writable by every user`), "a directory above")
    }))

  it("refuses a directory its group can write when the group has other members", () =>
    withTempDir("socket-trust", async (dir) => {
      const { directory, socket } = place(dir)
      fs.chownSync(directory, 0, 4343)
      fs.chmodSync(directory, 0o770)
      assert.match((await refusal(socket))!, new RegExp(`${directory} is writable by group 4343 \\(mode 0770\\)`))
    }))

  it("checks the directories of the path as given and of its real path", () =>
    withTempDir("socket-trust", async (dir) => {
      const trusted = place(dir, "trusted")
      const open = place(dir, "open")
      fs.chmodSync(open.directory, 0o777)
      const intoOpen = nodePath.join(trusted.directory, "link.sock")
      fs.symlinkSync(open.socket, intoOpen)
      assert.match((await refusal(intoOpen))!, new RegExp(`${open.directory} is writable by every user`))
      const fromOpen = nodePath.join(open.directory, "link.sock")
      fs.symlinkSync(trusted.socket, fromOpen)
      assert.match((await refusal(fromOpen))!, new RegExp(`${open.directory} is writable by every user`))
      fs.mkdirSync(nodePath.join(open.directory, "inner"), { mode: 0o700 })
      fs.symlinkSync(trusted.socket, nodePath.join(open.directory, "inner", "s.sock"))
      fs.symlinkSync(nodePath.join(open.directory, "inner"), nodePath.join(trusted.directory, "via"))
      const via = nodePath.join(trusted.directory, "via", "s.sock")
      assert.match(
        (await refusal(via))!,
        new RegExp(`${open.directory} is writable by every user`),
        "a linked directory",
      )
      const within = nodePath.join(trusted.directory, "same.sock")
      fs.symlinkSync(trusted.socket, within)
      assert.deepEqual(await check(within), { asked: trusted.socket })
      // Through a link in a directory every user can write, which neither the path nor its real path shows.
      const hops = nodePath.join(trusted.directory, "hops.sock")
      fs.symlinkSync(fromOpen, hops)
      assert.match((await refusal(hops))!, new RegExp(`${open.directory} is writable by every user`), "two links")
      assert.deepEqual(await check(trusted.socket), { asked: trusted.socket })
      const absent = nodePath.join(trusted.directory, "absent.sock")
      assert.deepEqual(await check(absent), { asked: absent })
    }))
})
