import assert from "node:assert/strict"
import { test } from "node:test"
import * as Effect from "effect/Effect"
import { builtIn } from "../../adapters/cli/FastPath.ts"
import * as Cli from "../../adapters/cli/Cli.ts"
import * as Node from "../../adapters/node/mod.ts"

/** What the full CLI (the `@effect/cli` definition) prints on stdout for `sa-token ARGS`. */
const full = async (args: ReadonlyArray<string>): Promise<string> => {
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

for (const args of [["version"], ["--version"], ["--help"], ["-h"]]) {
  test(`sa-token ${args.join(" ")}: the fast path prints what the full CLI prints (else run scripts/help-text.ts)`, async () => {
    const expected = await full(args)
    assert.ok(expected.length > 0)
    assert.equal(builtIn(args), expected)
  })
}

test("the fast path leaves every other command line to the full CLI", () => {
  for (const args of [[], ["version", "--help"], ["token", "--help"], ["exec-credential"], ["--wizard"], ["help"]]) {
    assert.equal(builtIn(args), undefined, args.join(" "))
  }
})
