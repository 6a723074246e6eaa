/**
 * The view of the environment that `@kubernetes/client-node` is loaded under: a variable the runtime refuses reads as
 * unset, a refused listing is empty, a refused write or deletion is dropped; everything granted goes through; any
 * other error is not hidden; and `process.env` is put back once the import settles, even when it fails.
 */
import assert from "node:assert/strict"
import process from "node:process"
import { describe, it } from "node:test"
import * as PermittedEnvironment from "../../adapters/platform/PermittedEnvironment.ts"

class NotCapable extends Error {
  override readonly name = "NotCapable"
}

/** An environment as Deno's permission checks present it: `granted` readable, anything else refused. */
const guarded = (granted: Record<string, string>, broken?: string) => {
  const values: Record<string, string | undefined> = { ...granted, SECRET: "s3cret" }
  const check = (name: string | symbol) => {
    if (name === broken) throw new TypeError("broken")
    if (typeof name !== "string" || !(name in granted)) throw new NotCapable(`Requires env access to "${String(name)}"`)
  }
  return {
    values,
    env: new Proxy<Record<string, string | undefined>>({}, {
      get: (_, name) => (check(name), values[name as string]),
      has: (_, name) => (check(name), name in values),
      set: (_, name, value) => (check(name), (values[name as string] = value), true),
      deleteProperty: (_, name) => (check(name), delete values[name as string]),
      ownKeys: () => {
        throw new NotCapable("Requires env access")
      },
    }),
  }
}

describe("PermittedEnvironment", () => {
  it("shows the granted variables and hides the refused ones", () => {
    const { env, values } = guarded({ HOME: "/home/me" })
    const view = PermittedEnvironment.view(env)
    assert.equal(view.HOME, "/home/me")
    assert.equal("HOME" in view, true)
    assert.equal(view.SECRET, undefined)
    assert.equal("SECRET" in view, false)
    assert.deepEqual(Object.keys(view), [])
    assert.deepEqual({ ...view }, {})
    view.HOME = "/elsewhere"
    assert.equal(values.HOME, "/elsewhere")
    view.SECRET = "changed"
    delete view.SECRET
    assert.equal(values.SECRET, "s3cret")
  })

  it("lists every variable when listing is allowed", () => {
    const view = PermittedEnvironment.view({ A: "1", B: "2" })
    assert.deepEqual(Object.keys(view), ["A", "B"])
    assert.deepEqual({ ...view }, { A: "1", B: "2" })
  })

  it("does not hide an error other than a refused permission", () => {
    const view = PermittedEnvironment.view(guarded({}, "BROKEN").env)
    assert.throws(() => view.BROKEN, TypeError)
  })

  it("loads under the view and puts process.env back, also when the load fails", async () => {
    const env = process.env
    const seen = await PermittedEnvironment.load(() => Promise.resolve(process.env))
    assert.notEqual(seen, env)
    assert.equal(process.env, env)
    await assert.rejects(PermittedEnvironment.load(() => Promise.reject(new Error("no module"))), /no module/)
    assert.equal(process.env, env)
  })
})
