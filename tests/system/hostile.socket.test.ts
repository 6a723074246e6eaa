/**
 * A hostile local user against `exec-credential --socket`: a second local user (created as `satk-fs-*` and removed)
 * listens at the socket path that root's kubeconfig names, in a directory every user can write (sticky, as `/tmp`),
 * and serves a token of their choosing. The bundled npm bin is run as kubectl runs it, on Node, Bun and Deno, so both
 * its lean answer and its full command meet the attacker. Runs under Node only (it starts Bun and Deno itself), and
 * only as root (it creates the user).
 */
import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import { describe, it } from "node:test"
import { binCommand, binIn, run, runtimes } from "../_support/clis.ts"
import { runtime } from "../_support/runtime.ts"
import { withTempDir } from "../_support/scratch.ts"
import { needsSecondUser, type TestUser, withUser } from "../_support/users.ts"

const ATTACKER = "ATTACKER-socket-5e1f"

/** The attacker's agent: answers every request with their own token, as the agent's JSON reply. */
const server = `
  const http = require("node:http")
  const [socket, token] = process.argv.slice(1)
  const reply = JSON.stringify({ name: "app", token, expirationTimestamp: "2100-01-01T00:00:00Z" })
  http.createServer((req, res) => res.writeHead(200, { "content-type": "application/json" }).end(reply))
    .listen(socket, () => process.stdout.write("ready\\n"))
`

/** Starts the attacker's server as `user` on `socket`; resolves with a function that stops it. */
const listenAs = (user: TestUser, socket: string): Promise<() => Promise<void>> => {
  const child = spawn(user.asUser[0]!, [...user.asUser.slice(1), "/usr/bin/node", "-e", server, socket, ATTACKER], {
    stdio: ["ignore", "pipe", "pipe"],
  })
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()))
  let out = ""
  return new Promise((resolve, reject) => {
    child.stdout.on("data", (chunk) => {
      out += String(chunk)
      if (out.includes("ready")) resolve(() => (child.kill(), exited))
    })
    child.stderr.on("data", (chunk) => (out += String(chunk)))
    child.on("exit", (code) => reject(new Error(`the attacker's server exited (${code}): ${out}`)))
  })
}

describe(
  "a hostile local user against exec-credential --socket",
  { skip: runtime !== "node" ? "runs under Node" : needsSecondUser },
  () => {
    it("another user's socket in a sticky directory is not asked, on any runtime, unless named as the owner", () =>
      withTempDir("hostile-socket", (dir) =>
        withUser("sock", async (user) => {
          const entry = await binIn(nodePath.join(dir, "bin"))
          fs.chmodSync(dir, 0o755)
          const shared = nodePath.join(dir, "tmp")
          fs.mkdirSync(shared)
          fs.chmodSync(shared, 0o1777)
          const socket = nodePath.join(shared, "agent.sock")
          const stop = await listenAs(user, socket)
          try {
            assert.equal(fs.statSync(socket).uid, user.uid, "the attacker's socket is theirs")
            for (const on of runtimes) {
              const [file, ...pre] = binCommand(on, entry)
              const asked = ["exec-credential", "--name", "app", "--socket", socket]
              const refused = await run(file!, [...pre, ...asked])
              assert.notEqual(refused.code, 0, `${on}: ${refused.stdout}`)
              assert.equal(refused.stdout, "", on)
              assert.ok(
                refused.stderr.includes(`unix:${socket}: the socket belongs to uid ${user.uid}; only a socket of root`),
                `${on}: ${refused.stderr}`,
              )
              assert.ok(!refused.stderr.includes(ATTACKER), on)
              // Named as the agent's user, the same socket is asked: the refusal above came from the check.
              const named = await run(file!, [...pre, ...asked, "--socket-owner", user.name])
              assert.equal(named.code, 0, `${on}: ${named.stderr}`)
              assert.equal(JSON.parse(named.stdout).status.token, ATTACKER, on)
            }
          } finally {
            await stop()
          }
        })))
  },
)
