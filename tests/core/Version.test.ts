import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import { describe, it } from "node:test"
import { fileURLToPath } from "node:url"
import { version } from "../../core/Version.ts"

const root = nodePath.join(nodePath.dirname(fileURLToPath(import.meta.url)), "..", "..")
const read = (file: string): { readonly version: string } =>
  JSON.parse(fs.readFileSync(nodePath.join(root, file), "utf8"))

describe("Version", () => {
  it("is the version of deno.json and package.json", () => {
    assert.equal(read("deno.json").version, version)
    assert.equal(read("package.json").version, version)
  })
})
