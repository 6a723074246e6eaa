import assert from "node:assert/strict"
import { test } from "node:test"
import { builtIn } from "../../adapters/cli/FastPath.ts"
import { printed } from "../../support/cliOutput.ts"

for (const args of [["version"], ["--version"], ["--help"], ["-h"]]) {
  test(`sa-token ${args.join(" ")}: the fast path prints what the full CLI prints (else run scripts/help-text.ts)`, async () => {
    const expected = await printed(args)
    assert.ok(expected.length > 0)
    assert.equal(builtIn(args), expected)
  })
}

test("the fast path leaves every other command line to the full CLI", () => {
  for (const args of [[], ["version", "--help"], ["token", "--help"], ["exec-credential"], ["--wizard"], ["help"]]) {
    assert.equal(builtIn(args), undefined, args.join(" "))
  }
})
