import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as Cli from "../../adapters/cli/Cli.ts"

describe("Cli.words", () => {
  it("splits --audience=VALUE into the two words @effect/cli reads, as kubectl reads both spellings", () => {
    assert.deepEqual(
      Cli.words(["node", "sa-token", "token", "b", "--audience=vault", "--audience=a=b", "--audience", "c"]),
      [
        "node",
        "sa-token",
        "token",
        "b",
        "--audience",
        "vault",
        "--audience",
        "a=b",
        "--audience",
        "c",
      ],
    )
  })

  it("leaves the runtime's own words, every other flag and every word after -- as they are", () => {
    const args = ["--audience=x", "sa-token", "token", "--duration=1h", "--audiences=y", "--", "--audience=z"]
    assert.deepEqual(Cli.words(args), args)
  })
})
