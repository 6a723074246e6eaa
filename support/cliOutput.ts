/**
 * What the full CLI (its `@effect/cli` definition, on Node's layer) prints on stdout for `sa-token ARGS`: read by the
 * script that generates the bin's built-in texts and by the test that checks them.
 */
import * as Effect from "effect/Effect"
import * as Cli from "../adapters/cli/Cli.ts"
import * as Node from "../adapters/node/mod.ts"

/** Everything the CLI logs through the console for `sa-token ARGS`. */
export const printed = async (args: ReadonlyArray<string>): Promise<string> => {
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
