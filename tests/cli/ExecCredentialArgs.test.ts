import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as Option from "effect/Option"
import { parse } from "../../adapters/cli/ExecCredentialArgs.ts"
import { execCredentialFlags } from "../_support/agentFakes.ts"

describe("exec-credential lean path: the command line", () => {
  it("reads the flags the full command reads, in both spellings", () => {
    assert.deepEqual(
      parse([
        "builder",
        "-n",
        "apps",
        "--audience",
        "a",
        "--audience=b",
        "--duration=1h",
        "--bound-object-kind",
        "Pod",
        "--bound-object-name",
        "p",
        "--bound-object-uid=u",
        "--kubeconfig",
        "/k",
        "--context=c",
        "--cache-dir",
        "/c",
      ]),
      execCredentialFlags({
        serviceAccount: Option.some("builder"),
        namespace: Option.some("apps"),
        audience: ["a", "b"],
        duration: Option.some("1h"),
        boundObjectKind: Option.some("Pod"),
        boundObjectName: Option.some("p"),
        boundObjectUid: Option.some("u"),
        kubeconfig: Option.some("/k"),
        context: Option.some("c"),
        cacheDir: Option.some("/c"),
      }),
    )
    assert.deepEqual(
      parse(["--name", "t", "--socket", "/run/agent.sock"]),
      execCredentialFlags({ name: Option.some("t"), socket: Option.some("/run/agent.sock") }),
    )
  })

  it("leaves to the full command whatever it might read differently or refuse", () => {
    const refused: ReadonlyArray<ReadonlyArray<string>> = [
      ["a", "b"], // two service accounts
      ["a", "--namespace", "x", "-n", "y"], // a single-valued flag twice
      ["a", "--namespace"], // no value
      ["a", "--namespace", "-x"], // a value that looks like a flag
      ["a", "--audience", ""], // an empty value, which @effect/cli drops
      ["a", "--audience="],
      ["", "a"],
      ["a", "-n=x"], // not a spelling @effect/cli accepts
      ["a", "--audience=x=y"], // @effect/cli keeps only what is before a second "="
      ["a", "--log-level", "debug"], // built-in options
      ["a", "--help"],
      ["a", "-h"],
      ["a", "--output", "json"], // unknown flags
      ["a", "--", "b"],
      ["a", "--toString", "x"], // not an own spelling
    ]
    for (const args of refused) assert.equal(parse(args), undefined, args.join(" "))
  })
})
