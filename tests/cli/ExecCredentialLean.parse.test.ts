/**
 * The lean reading of an `exec-credential` command line (`ExecCredentialLean.parse`) against `@effect/cli`'s, on
 * random command lines: whatever the lean reading takes, the full command reads to the same flags. A lean answer may
 * leave a command line to the full command, but never read one differently, since it prints only what the full command
 * would print.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as Command from "@effect/cli/Command"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Effect from "effect/Effect"
import fc from "fast-check"
import type { Flags } from "../../adapters/cli/ExecCredentialCommand.ts"
import * as Cli from "../../adapters/cli/Cli.ts"
import { flags } from "../../adapters/cli/ExecCredentialCommand.ts"
import { parse } from "../../adapters/cli/ExecCredentialLean.ts"

/**
 * The flags the full command reads from `sa-token exec-credential ARGS` (the words `Cli.run` gives `@effect/cli`), or
 * undefined when it refuses them.
 */
const fullReading = async (args: ReadonlyArray<string>): Promise<Flags | undefined> => {
  let read: Flags | undefined
  const root = Command.make("sa-token").pipe(
    Command.withSubcommands([
      Command.make("exec-credential", flags, (parsed) => Effect.sync(() => void (read = parsed))),
    ]),
  )
  await Command.run(root, { name: "sa-token", version: "0" })(
    Cli.words(["node", "sa-token", "exec-credential", ...args]),
  ).pipe(
    Effect.provide(NodeContext.layer),
    Effect.ignore,
    Effect.runPromise,
  )
  return read
}

const spellings = [
  "--namespace",
  "-n",
  "--audience",
  "--duration",
  "--bound-object-kind",
  "--bound-object-name",
  "--bound-object-uid",
  "--kubeconfig",
  "--context",
  "--name",
  "--socket",
  "--config",
  "--socket-owner",
  "--cache-dir",
]
const values = ["builder", "apps", "a", "1h", "Pod", "/k/config", "x y", "é", "-x", "", "a=b", "--", "-"]
const words = fc.oneof(
  fc.constantFrom(...spellings),
  fc.constantFrom(...values),
  fc.tuple(fc.constantFrom(...spellings), fc.constantFrom(...values)).map(([flag, value]) => `${flag}=${value}`),
  fc.constantFrom("--log-level", "--help", "--unknown", "-z"),
)

describe("exec-credential: the lean reading of the command line", () => {
  it("reads every command line it takes to the flags @effect/cli reads", async () => {
    const taken: Array<ReadonlyArray<string>> = []
    await fc.assert(
      fc.asyncProperty(fc.array(words, { maxLength: 8 }), async (args) => {
        const lean = parse(args)
        if (lean === undefined) return
        taken.push(args)
        assert.deepEqual(await fullReading(args), lean, JSON.stringify(args))
      }),
      { numRuns: 400 },
    )
    assert.ok(taken.length >= 20, `only ${taken.length} of the random command lines were taken by the lean reading`)
  })

  it("reads as @effect/cli does the command lines kubectl's users write", async () => {
    const lines: ReadonlyArray<ReadonlyArray<string>> = [
      ["builder", "--kubeconfig", "/k", "--cache-dir", "/c"],
      ["builder", "-n", "apps", "--audience", "a", "--audience=b", "--duration=1h"],
      ["--bound-object-kind", "Pod", "--bound-object-name", "p", "--bound-object-uid=u", "builder"],
      ["--name", "vault", "--socket", "/run/sa-token/agent.sock"],
      ["builder", "--context=dev"],
    ]
    for (const args of lines) {
      const lean = parse(args)
      assert.ok(lean !== undefined, JSON.stringify(args))
      assert.deepEqual(await fullReading(args), lean, JSON.stringify(args))
    }
  })
})
