/**
 * The answers the bin gives before loading anything: `sa-token version`, `--version`, `--help` and `-h` print texts
 * generated from the command's `@effect/cli` definition (`HelpText.ts`), byte for byte what the full CLI prints.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import { builtIn } from "./FastPath.ts"
 * import { version } from "../../core/Version.ts"
 *
 * assert.equal(builtIn(["version"]), `${version}\n`)
 * assert.equal(builtIn(["token", "--help"]), undefined)
 * ```
 *
 * @module
 */
import { version } from "../../core/Version.ts"
import { help, versionFlag } from "./HelpText.ts"

/** What the command line prints on stdout when it is one of the built-in answers; undefined otherwise. */
export const builtIn = (args: ReadonlyArray<string>): string | undefined => {
  if (args.length !== 1) return undefined
  switch (args[0]) {
    case "version":
      return `${version}\n`
    case "--version":
      return versionFlag
    case "--help":
    case "-h":
      return help
    default:
      return undefined
  }
}
