import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Ownership from "../../adapters/agent/Ownership.ts"
import { PrivateFile, PrivateFileError } from "../../adapters/platform/PrivateFile.ts"
import { platform } from "../_support/platform.ts"
import { withTempDir } from "../_support/scratch.ts"
import { needsRoot } from "../_support/users.ts"

/** Runs the check with `stat` refused (EACCES, as Deno refuses it without read access) for the paths in `refused`. */
const check = (directory: string, refused: ReadonlySet<string>, warnUnverified: boolean) => {
  const warnings: Array<string> = []
  const logger = Logger.make(({ logLevel, message }) => {
    if (logLevel._tag === "Warning") warnings.push(String(Array.isArray(message) ? message.join(" ") : message))
  })
  const refusing = Layer.effect(
    PrivateFile,
    Effect.map(PrivateFile, (files): PrivateFile => ({
      ...files,
      stat: (path) =>
        refused.has(path)
          ? Effect.fail(new PrivateFileError({ operation: "stat", path, code: "EACCES", detail: "refused" }))
          : files.stat(path),
    })),
  ).pipe(Layer.provide(platform))
  return Ownership.othersCanWrite(directory, { uids: [process.getuid!()], fileIsAgents: true, warnUnverified }).pipe(
    Effect.provide(Layer.merge(platform, refusing)),
    Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
    Effect.runPromise,
    (promise) => promise.then((problem) => ({ problem, warnings })),
  )
}

describe("Ownership.othersCanWrite", { skip: process.getuid === undefined && "needs POSIX uids" }, () => {
  it("names a directory above the token's that every user can write", () =>
    withTempDir("ownership", async (top) => {
      fs.chmodSync(top, 0o777)
      const { problem } = await check(nodePath.join(top, "tokens"), new Set(), false)
      assert.equal(Option.getOrUndefined(problem), `${top} is writable by every user (mode 0777)`)
    }))

  it("skips a directory it may not examine, with a warning naming it when asked to warn", () =>
    withTempDir("ownership", async (top) => {
      fs.chmodSync(top, 0o777)
      const refused = new Set([top])
      const warned = await check(nodePath.join(top, "tokens"), refused, true)
      assert.ok(Option.isNone(warned.problem))
      assert.equal(warned.warnings.length, 1, JSON.stringify(warned.warnings))
      assert.match(warned.warnings[0]!, new RegExp(`^cannot check whether other users can write ${top}: .*EACCES`))
      const quiet = await check(nodePath.join(top, "tokens"), refused, false)
      assert.ok(Option.isNone(quiet.problem))
      assert.deepEqual(quiet.warnings, [])
    }))
})

describe("Ownership.route", { skip: process.getuid === undefined && "needs POSIX uids" }, () => {
  const routeOf = (path: string) =>
    Ownership.route(path, { uids: [process.getuid!()], fileIsAgents: true }).pipe(
      Effect.provide(platform),
      Effect.runPromise,
    )

  it("resolves relative and absolute links, `..` in them, and names the real directory", () =>
    withTempDir("ownership", async (top) => {
      fs.mkdirSync(nodePath.join(top, "real", "tokens"), { recursive: true })
      fs.symlinkSync("../real", nodePath.join(top, "real", "up"))
      fs.symlinkSync(nodePath.join(top, "real", "up", "tokens"), nodePath.join(top, "link"))
      const found = await routeOf(nodePath.join(top, "link"))
      assert.deepEqual(found, {
        resolved: Option.some(fs.realpathSync.native(nodePath.join(top, "real", "tokens"))),
        problem: Option.none(),
        // each link followed, in order, at the path it was read at
        links: [nodePath.join(top, "link"), nodePath.join(top, "real", "up")],
      })
      const missing = await routeOf(nodePath.join(top, "link", "absent", "deeper"))
      assert.deepEqual(missing, {
        resolved: Option.none(),
        problem: Option.none(),
        links: [nodePath.join(top, "link"), nodePath.join(top, "real", "up")],
      })
    }))

  it("names a directory every user can write that only a link's own target passes through", () =>
    withTempDir("ownership", async (top) => {
      // top/a -> top/open/b -> top/real: neither top/a's directories nor top/real's show top/open.
      fs.mkdirSync(nodePath.join(top, "real"))
      fs.mkdirSync(nodePath.join(top, "open"))
      fs.chmodSync(nodePath.join(top, "open"), 0o777)
      fs.symlinkSync(nodePath.join(top, "real"), nodePath.join(top, "open", "b"))
      fs.symlinkSync(nodePath.join(top, "open", "b"), nodePath.join(top, "a"))
      const found = await routeOf(nodePath.join(top, "a"))
      assert.equal(
        Option.getOrUndefined(found.problem),
        `${fs.realpathSync.native(nodePath.join(top, "open"))} is writable by every user (mode 0777)`,
      )
    }))

  it(
    "names a link in the way that another user owns, even in a sticky directory",
    { skip: needsRoot },
    () =>
      withTempDir("ownership", async (top) => {
        fs.mkdirSync(nodePath.join(top, "real"))
        fs.mkdirSync(nodePath.join(top, "shared"))
        fs.chmodSync(nodePath.join(top, "shared"), 0o1777)
        const link = nodePath.join(top, "shared", "tokens")
        fs.symlinkSync(nodePath.join(top, "real"), link)
        assert.ok(Option.isNone((await routeOf(link)).problem), "root's own link")
        fs.lchownSync(link, 4242, 4242)
        const found = await routeOf(nodePath.join(link, "app"))
        assert.equal(
          Option.getOrUndefined(found.problem),
          `${fs.realpathSync.native(nodePath.join(top, "shared"))}/tokens is a symlink of uid 4242, who can replace it`,
        )
      }),
  )

  it("gives up on a loop of links", () =>
    withTempDir("ownership", async (top) => {
      fs.symlinkSync(nodePath.join(top, "two"), nodePath.join(top, "one"))
      fs.symlinkSync(nodePath.join(top, "one"), nodePath.join(top, "two"))
      const found = await routeOf(nodePath.join(top, "one", "tokens"))
      assert.equal(Option.getOrUndefined(found.problem), `${top}/one/tokens goes through more than 40 symlinks`)
    }))
})
