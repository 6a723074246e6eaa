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
