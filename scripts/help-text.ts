/**
 * Regenerates `adapters/cli/HelpText.ts`: what `sa-token --help`, `-h` and `--version` print, captured from the
 * `@effect/cli` definition of the command (`adapters/cli/Cli.ts`), so that the bin prints them without loading the CLI
 * framework. `tests/cli/FastPath.test.ts` fails when the module no longer matches the definition.
 *
 * Run: `node --import tsx scripts/help-text.ts && npx deno fmt adapters/cli/HelpText.ts`.
 */
import * as fs from "node:fs"
import * as Effect from "effect/Effect"
import { Cli } from "../adapters/cli/mod.ts"
import * as Node from "../adapters/node/mod.ts"
import { version } from "../core/Version.ts"

/** What the full CLI prints on stdout for `sa-token ARGS` (everything it logs through the console). */
const capture = async (args: ReadonlyArray<string>): Promise<string> => {
  const log = globalThis.console.log
  let out = ""
  globalThis.console.log = (...parts: Array<unknown>) => {
    out += `${parts.join(" ")}\n`
  }
  try {
    await Effect.runPromise(Cli.run(["node", "sa-token", ...args]).pipe(Effect.provide(Node.layer)))
  } finally {
    globalThis.console.log = log
  }
  return out
}

/** A TypeScript expression of `text` in which the version is the imported constant, not a copy. */
const expression = (text: string): string =>
  text.split(version).map((part) => JSON.stringify(part)).join(" + version + ")

const help = await capture(["--help"])
const versionFlag = await capture(["--version"])
const source = `/**
 * What \`sa-token --help\` and \`sa-token --version\` print, generated from the command's \`@effect/cli\` definition by
 * \`scripts/help-text.ts\` (do not edit by hand), so that the bin answers them without loading the CLI framework.
 *
 * @module
 */
import { version } from "../../core/Version.ts"

/** The root command's help, as \`@effect/cli\` prints it (ANSI styles included). */
export const help: string = ${expression(help)}

/** What \`--version\` prints. */
export const versionFlag: string = ${expression(versionFlag)}
`
fs.writeFileSync(new URL("../adapters/cli/HelpText.ts", import.meta.url), source)
