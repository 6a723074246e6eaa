import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import { parseExecCredential, renderExecCredential } from "../../adapters/kube/ExecCredentialWire.ts"
import { execCredentialApiVersion, parseGoDuration, renderTokenCredential } from "../../adapters/kube/KubeWire.ts"

describe("KubeWire.parseGoDuration", () => {
  it("reads Go's duration syntax in nanoseconds, as kubectl's --duration and --request-timeout send it", () => {
    const cases: ReadonlyArray<readonly [string, bigint | undefined]> = [
      ["2s", 2_000_000_000n],
      ["1m30s", 90_000_000_000n],
      ["500ms", 500_000_000n],
      ["1h", 3_600_000_000_000n],
      ["1.5h", 5_400_000_000_000n],
      ["2m3s", 123_000_000_000n],
      ["1µs", 1_000n],
      ["0", 0n],
      ["-2s", -2_000_000_000n],
      ["", undefined],
      ["2", undefined],
      ["2x", undefined],
      ["s", undefined],
      [".h", undefined],
      ["10", undefined],
    ]
    for (const [text, nanos] of cases) assert.equal(parseGoDuration(text), nanos, JSON.stringify(text))
  })
})

describe("KubeWire.renderTokenCredential", () => {
  it("writes, without Schema, the document the ExecCredential schema writes for the same token", () => {
    const expirationTimestamp = new Date(Date.UTC(2030, 0, 1, 0, 0, 0, 999))
    for (const indent of [undefined, 2]) {
      const text = renderTokenCredential(
        { spec: {}, status: { token: Redacted.make('a.b"c\n'), expirationTimestamp } },
        indent,
      )
      const status = { token: 'a.b"c\n', expirationTimestamp: "2030-01-01T00:00:00Z" }
      assert.equal(
        text,
        renderExecCredential({ apiVersion: execCredentialApiVersion, kind: "ExecCredential", status }, indent),
      )
      assert.deepEqual(
        parseExecCredential(text),
        Either.right({ apiVersion: execCredentialApiVersion, kind: "ExecCredential", status }),
      )
    }
  })
})
