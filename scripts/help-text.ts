/**
 * Regenerates `adapters/cli/HelpText.ts`: what `sa-token --help`, `-h` and `--version` print, captured from the
 * `@effect/cli` definition of the command (`adapters/cli/Cli.ts`), so that the bin prints them without loading the CLI
 * framework. `tests/cli/FastPath.test.ts` fails when the module no longer matches the definition.
 *
 * Run: `node --import tsx scripts/help-text.ts && npx deno fmt adapters/cli/HelpText.ts`.
 */
import * as fs from "node:fs"
import { version } from "../core/Version.ts"
import { printed } from "../support/cliOutput.ts"

/** A TypeScript expression of `text` in which the version is the imported constant, not a copy. */
const expression = (text: string): string =>
  text.split(version).map((part) => JSON.stringify(part)).join(" + version + ")

const help = await printed(["--help"])
const versionFlag = await printed(["--version"])
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
