/**
 * `Accept` negotiation: the order kube-apiserver weighs media ranges in, and when a reply is protobuf.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as Accept from "../../adapters/devserver/Accept.ts"

const kubectlAccept = "application/vnd.kubernetes.protobuf,application/json"

describe("devserver Accept negotiation", () => {
  it("orders clauses by q, then the more specific, then as written; drops q=0", () => {
    assert.deepEqual(
      Accept.acceptClauses("*/*, application/json;q=0.5, text/*, application/yaml;as=Table, image/png;q=0").map((c) =>
        c.type
      ),
      ["application/yaml", "text/*", "*/*", "application/json"],
    )
  })

  it("prefers protobuf only when the first plain media type of Accept is protobuf", () => {
    const cases: ReadonlyArray<readonly [string | undefined, boolean]> = [
      [kubectlAccept, true],
      ["application/vnd.kubernetes.protobuf, */*", true],
      ["application/json, application/vnd.kubernetes.protobuf", false],
      ["application/vnd.kubernetes.protobuf;q=0.5, application/json", false],
      ["*/*, application/vnd.kubernetes.protobuf", true],
      ["application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io, application/json", false],
      ["*/*", false],
      [undefined, false],
    ]
    for (const [accept, expected] of cases) assert.equal(Accept.prefersProtobuf(accept), expected, String(accept))
  })
})
