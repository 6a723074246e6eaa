/**
 * The local HTTP transport's unix socket against a hostile local user, as root would run the agent: a socket directory
 * the user owns or can write, a `.NAME.sat` planted as the user's own directory or as a symlink (with a symlink to a
 * victim file inside, which a followed `chmod` would open to everyone), and the same planting raced in a loop while the
 * agent starts and stops. Each test performs the attack and checks that the victim is untouched, that the user's
 * files are left alone and that the error says what is wrong. Tests that need a second local user (created as
 * `satk-fs-*` and removed) are skipped otherwise.
 */
import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as nodePath from "node:path"
import process from "node:process"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type { LocalHttpError } from "../../adapters/platform/LocalHttp.ts"
import * as LocalHttp from "../../adapters/platform/LocalHttp.ts"
import * as NodeLocalHttp from "../../adapters/platform/NodeLocalHttp.ts"
import { snapshot, withVictim } from "../_support/attacks.ts"
import { failureOf, withTempDir } from "../_support/scratch.ts"
import { needsSecondUser, type TestUser, withUser } from "../_support/users.ts"

const limits = { maxConnections: 8, headersTimeoutMillis: 2000, idleTimeoutMillis: 2000, requestTimeoutMillis: 2000 }

const ok: LocalHttp.Response = { status: 200, headers: { "content-type": "text/plain" }, body: "ok\n" }

/** Serves on `path` with `mode`, runs `body` while it listens, and returns how it ended. */
const serve = (path: string, mode = 0o600, body: () => void = () => {}) =>
  Effect.runPromise(Effect.exit(Effect.scoped(Effect.gen(function* () {
    const http = NodeLocalHttp.make()
    const address = yield* http.serve({
      address: { _tag: "Unix", path, mode },
      maxHeaderBytes: 8192,
      limits,
      handle: () => Effect.succeed(ok),
    })
    const reply = yield* http.get(address, "/", { headers: {}, timeoutMillis: 2000, maxBytes: 1024 })
    assert.equal(reply.body, "ok\n")
    yield* Effect.sync(body)
  }))))

const refusal = (exit: Exit.Exit<void, LocalHttpError>): LocalHttpError =>
  failureOf(exit, "the server should not start")

/** Serves on `path` expecting an `UnsafeDirectory` refusal whose message matches `message`. */
const unsafe = async (path: string, message: RegExp, mode?: number): Promise<void> => {
  const error = refusal(await serve(path, mode))
  assert.equal(error.reason, "UnsafeDirectory")
  assert.match(error.message, message)
}

/**
 * Runs `attack` as root against a second local user, in a fresh directory with `mode` and with a victim file whose
 * snapshot is taken before; checks afterwards that the victim is untouched.
 */
const underAttack = (mode: number, attack: (user: TestUser, dir: string, victim: string) => Promise<void>) =>
  withUser("sock", (user) =>
    withVictim("sock", async (dir, victim) => {
      fs.chmodSync(dir, mode)
      const before = snapshot(victim)
      await attack(user, dir, victim)
      assert.deepEqual(snapshot(victim), before)
    }))

describe("LocalHttp over node:http: the unix socket's directory", () => {
  it("binds with the mode, removes the socket when stopped, and replaces a leftover private directory of its own", () =>
    withTempDir("sock", async (dir) => {
      const path = nodePath.join(dir, "a.sock")
      // A killed agent's leftover: `.a.sock.sat` holding a stale socket.
      const leftover = LocalHttp.privateDirectory(path)
      fs.mkdirSync(leftover, { mode: 0o700 })
      const stale = net.createServer()
      await new Promise<void>((resolve) => stale.listen(nodePath.join(leftover, "s"), resolve))
      fs.renameSync(nodePath.join(leftover, "s"), nodePath.join(dir, "kept"))
      await new Promise<void>((resolve) => stale.close(() => resolve()))
      fs.renameSync(nodePath.join(dir, "kept"), nodePath.join(leftover, "s"))
      const exit = await serve(path, 0o640, () => {
        const stat = fs.lstatSync(path)
        assert.ok(stat.isSocket())
        assert.equal(stat.mode & 0o777, 0o640)
        assert.ok(!fs.existsSync(leftover), "the private directory is gone once the socket is in place")
      })
      assert.ok(Exit.isSuccess(exit), String(Exit.isFailure(exit) ? exit.cause : ""))
      assert.deepEqual(fs.readdirSync(dir), [])
    }))

  it("refuses a directory others can write unless it is sticky, and a leftover holding more than a socket", () =>
    withTempDir("sock", async (dir) => {
      const path = nodePath.join(dir, "a.sock")
      fs.chmodSync(dir, 0o777)
      await unsafe(path, /writable by other users \(mode 0777\) and not sticky/)
      assert.deepEqual(fs.readdirSync(dir), [], "nothing was created")
      fs.chmodSync(dir, 0o1777)
      assert.ok(Exit.isSuccess(await serve(path)), "a sticky directory such as /tmp is fine")
      fs.chmodSync(dir, 0o700)
      const leftover = LocalHttp.privateDirectory(path)
      fs.mkdirSync(leftover, { mode: 0o700 })
      fs.writeFileSync(nodePath.join(leftover, "keep"), "data")
      await unsafe(path, /holds more than a socket/)
      assert.equal(fs.readFileSync(nodePath.join(leftover, "keep"), "utf8"), "data", "nothing of it was removed")
    }))
})

describe("LocalHttp over node:http: a second local user attacks the socket", () => {
  it("a directory the user owns, or reaches through their symlink, is refused before anything is created in it", {
    skip: needsSecondUser,
  }, () =>
    underAttack(0o755, async (user, root, victim) => {
      const theirs = nodePath.join(root, "theirs")
      fs.mkdirSync(theirs, { mode: 0o755 })
      fs.chownSync(theirs, user.uid, user.gid)
      // What the user would swap in mid-bind: the private directory as a symlink to a directory whose `s` is a
      // symlink to the victim, so that a followed chmod 0666 would open the victim to everyone.
      const bait = nodePath.join(theirs, "bait")
      assert.equal(user.run(["mkdir", bait]).status, 0)
      assert.equal(user.run(["ln", "-s", victim, nodePath.join(bait, "s")]).status, 0)
      assert.equal(user.run(["ln", "-s", bait, nodePath.join(theirs, ".a.sock.sat")]).status, 0)
      await unsafe(nodePath.join(theirs, "a.sock"), new RegExp(`belongs to uid ${user.uid}`), 0o666)
      assert.deepEqual(fs.readdirSync(theirs).sort(), [".a.sock.sat", "bait"])
      // Their symlink to a directory of root's: they could point it elsewhere mid-bind.
      const safe = nodePath.join(root, "safe")
      fs.mkdirSync(safe, { mode: 0o755 })
      assert.equal(user.run(["ln", "-s", safe, nodePath.join(theirs, "link")]).status, 0)
      await unsafe(nodePath.join(theirs, "link", "a.sock"), new RegExp(`is a symlink of uid ${user.uid}`), 0o666)
      assert.deepEqual(fs.readdirSync(safe), [])
    }))

  it("a planted .NAME.sat (their directory, or a symlink) is refused and left alone", {
    skip: needsSecondUser,
  }, () =>
    underAttack(0o1777, async (user, shared, victim) => {
      const path = nodePath.join(shared, "a.sock")
      const planted = LocalHttp.privateDirectory(path)
      assert.equal(user.run(["mkdir", planted]).status, 0)
      assert.equal(user.run(["ln", "-s", victim, nodePath.join(planted, "s")]).status, 0)
      await unsafe(path, new RegExp(`is in the way and is owned by uid ${user.uid}; it was left alone`), 0o666)
      assert.ok(fs.lstatSync(nodePath.join(planted, "s")).isSymbolicLink(), "their files are left alone")
      assert.equal(user.run(["rm", "-r", planted]).status, 0)
      const bait = nodePath.join(shared, "bait")
      assert.equal(user.run(["mkdir", bait]).status, 0)
      assert.equal(user.run(["ln", "-s", bait, planted]).status, 0)
      await unsafe(path, /is in the way and is a symlink/, 0o666)
      assert.deepEqual(fs.readdirSync(bait), [], "nothing was bound through the symlink")
    }))

  it("racing the plants in a loop while the server starts and stops never reaches the victim", {
    skip: needsSecondUser,
  }, () =>
    underAttack(0o1777, async (user, shared, victim) => {
      const path = nodePath.join(shared, "a.sock")
      const bait = nodePath.join(shared, "bait")
      assert.equal(user.run(["mkdir", bait]).status, 0)
      assert.equal(user.run(["ln", "-s", victim, nodePath.join(bait, "s")]).status, 0)
      // The user keeps planting the private directory and the socket as symlinks, and renaming away what it can.
      const script = `while :; do ln -s ${bait} ${LocalHttp.privateDirectory(path)} 2>/dev/null; ` +
        `ln -s ${victim} ${path} 2>/dev/null; mv ${LocalHttp.privateDirectory(path)} ${bait}/moved 2>/dev/null; done`
      // its own process group, so that the loop and the commands it runs stop together
      const racer = spawn(user.asUser[0]!, [...user.asUser.slice(1), "sh", "-c", script], {
        stdio: "ignore",
        detached: true,
      })
      try {
        const outcomes = new Set<string>()
        for (let round = 0; round < 20; round++) {
          const exit = await serve(path, 0o666, () => {
            const stat = fs.lstatSync(path)
            assert.ok(stat.isSocket() && stat.uid === process.getuid!(), "the served path is our socket")
          })
          outcomes.add(Exit.isSuccess(exit) ? "served" : `${refusal(exit).reason}: ${refusal(exit).message}`)
          // A symlink the user planted at the socket's path stays theirs to remove.
          fs.rmSync(path, { force: true })
        }
        for (const outcome of outcomes) {
          assert.ok(/^(served|UnsafeDirectory: |NotASocket: )/.test(outcome), `unexpected outcome ${outcome}`)
        }
      } finally {
        const exited = new Promise((resolve) => racer.once("exit", resolve))
        process.kill(-racer.pid!, "SIGKILL")
        await exited
      }
      assert.ok(
        fs.readdirSync(bait).every((name) => !fs.lstatSync(nodePath.join(bait, name)).isSocket()),
        "no socket was bound through a planted symlink",
      )
    }))
})
