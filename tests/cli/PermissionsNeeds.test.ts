/**
 * What `permissions` reads off a real unix socket for `exec-credential`'s socket answer: the path as given, each symlink
 * its resolution follows and the real path, read; only the real path connected to; and nothing printed for a socket
 * another user could have put there.
 */
import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import { describe, it } from "node:test"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as PermissionsNeeds from "../../adapters/cli/PermissionsNeeds.ts"
import * as NodePrivateFile from "../../adapters/platform/NodePrivateFile.ts"
import { withSocketBehindTwoLinks } from "../_support/links.ts"
import { withTempDir } from "../_support/scratch.ts"

const socketNeeds = (socket: string, owner: Option.Option<string> = Option.none()) =>
  PermissionsNeeds.socketNeeds(socket, "default", owner).pipe(
    Effect.provide(NodePrivateFile.layer),
    Effect.provide(NodeContext.layer),
    Effect.either,
    Effect.runPromise,
  )

describe("the socket answer's needs", () => {
  it("follow the socket's path link by link, and connect to its real path only", () =>
    withTempDir("perm-needs", (dir) =>
      withSocketBehindTwoLinks(dir, async (link, real) => {
        const needs = await socketNeeds(link)
        assert.ok(needs._tag === "Right", needs._tag === "Left" ? needs.left.message : "")
        assert.deepEqual(needs.right.read, [link, nodePath.join(dir, "sub", "one.sock"), real])
        assert.deepEqual(needs.right.connect, [real])
        assert.deepEqual([...needs.right.write, ...needs.right.net, ...needs.right.env], [])
        assert.deepEqual(needs.right.sys, ["uid", "getegid"])
        // A --socket-owner uid needs no lookup; a name is looked up in the account database.
        const numeric = await socketNeeds(real, Option.some("0"))
        assert.ok(numeric._tag === "Right")
        assert.deepEqual(numeric.right.read, [real])
        const named = await socketNeeds(real, Option.some("root"))
        assert.ok(named._tag === "Right")
        assert.deepEqual(named.right.read, [real, "/etc/passwd", "/etc/group"])
      })))

  it("refuse a socket in a directory every user can write, naming it", () =>
    withTempDir("perm-needs", async (dir) => {
      const open = nodePath.join(dir, "open")
      fs.mkdirSync(open)
      fs.chmodSync(open, 0o777)
      await withSocketBehindTwoLinks(open, async (link) => {
        const needs = await socketNeeds(link)
        assert.ok(needs._tag === "Left")
        assert.equal(needs.left._tag, "EndpointClientError")
        assert.match(needs.left.message, new RegExp(`${open} is writable by every user \\(mode 0777\\)`))
      })
    }))
})
