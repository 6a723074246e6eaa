import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { formatTime, parseTime } from "../../core/Timestamp.ts"

describe("Timestamp", () => {
  it("writes UTC with whole seconds", () => {
    assert.equal(formatTime(new Date(Date.UTC(2030, 5, 7, 8, 9, 10, 999))), "2030-06-07T08:09:10Z")
  })

  it("reads RFC 3339 with any offset and fraction, and nothing else", () => {
    assert.equal(parseTime("2030-06-07T08:09:10Z"), Date.UTC(2030, 5, 7, 8, 9, 10))
    assert.equal(parseTime("2030-06-07t10:09:10.5+02:00"), Date.UTC(2030, 5, 7, 8, 9, 10, 500))
    for (const text of ["2030-06-07", "2030-06-07T08:09Z", "2030-06-07 08:09:10Z", "2030-06-07T08:09:10", "soon", ""]) {
      assert.ok(Number.isNaN(parseTime(text)), text)
    }
  })
})
