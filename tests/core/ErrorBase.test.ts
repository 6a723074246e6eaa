import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Equal from "effect/Equal"
import * as ErrorBase from "../../core/ErrorBase.ts"

interface DiskFullFields extends ErrorBase.Reasoned<"NoSpace" | "Quota"> {
  readonly path: string
}
const DiskFullBase: ErrorBase.Constructor<"DiskFull", DiskFullFields> = ErrorBase.make(
  "DiskFull",
  (e) => `disk full (${e.reason}) at ${e.path}: ${e.detail}`,
)
class DiskFull extends DiskFullBase {}

const OtherBase: ErrorBase.Constructor<"Other", { readonly path: string }> = ErrorBase.make(
  "Other",
  (e) => `other: ${e.path}`,
)
class Other extends OtherBase {}

const fields: DiskFullFields = { reason: "Quota", detail: "over 10 GiB", path: "/var/cache" }

describe("ErrorBase.make", () => {
  it("gives the error its tag and its fields as properties", () => {
    const error = new DiskFull(fields)
    assert.equal(error._tag, "DiskFull")
    assert.equal(error.reason, "Quota")
    assert.equal(error.detail, "over 10 GiB")
    assert.equal(error.path, "/var/cache")
  })

  it("computes the message from the fields, for every reason", () => {
    assert.equal(new DiskFull(fields).message, "disk full (Quota) at /var/cache: over 10 GiB")
    assert.equal(
      new DiskFull({ ...fields, reason: "NoSpace", path: "/tmp" }).message,
      "disk full (NoSpace) at /tmp: over 10 GiB",
    )
  })

  it("is an Error named by its tag, whose message shows in String and opens its stack, on every runtime", () => {
    const error = new DiskFull(fields)
    assert.ok(error instanceof Error)
    assert.equal(error.name, "DiskFull")
    assert.equal(String(error), "DiskFull: disk full (Quota) at /var/cache: over 10 GiB")
    // Bun wrote a stack's first line when the error was made, before its fields were set: it read `Error`.
    assert.equal(error.stack?.split("\n")[0], "DiskFull: disk full (Quota) at /var/cache: over 10 GiB")
    assert.match(error.stack ?? "", /ErrorBase\.test\.ts/)
  })

  it("serialises its fields and tag, not a stored copy of the message", () => {
    assert.deepEqual(JSON.parse(JSON.stringify(new DiskFull(fields))), { ...fields, _tag: "DiskFull" })
  })

  it("builds distinct classes: one base's errors are not instances of another's", () => {
    const disk = new DiskFull(fields)
    const other = new Other({ path: "/var/cache" })
    assert.ok(disk instanceof DiskFull && !(disk instanceof Other))
    assert.ok(other instanceof Other && !(other instanceof DiskFull))
    assert.equal(other.message, "other: /var/cache")
  })

  it("compares errors by their fields", () => {
    assert.ok(Equal.equals(new DiskFull(fields), new DiskFull({ ...fields })))
    assert.ok(!Equal.equals(new DiskFull(fields), new DiskFull({ ...fields, path: "/tmp" })))
  })

  it("is yieldable: yielding it fails the effect with it, and catchTag finds it by its tag", () => {
    const error = new DiskFull(fields)
    const failed = Effect.runSync(Effect.either(Effect.gen(function* () {
      return yield* error
    })))
    assert.ok(Either.isLeft(failed) && failed.left === error)
    const caught = Effect.runSync(
      Effect.gen(function* () {
        if (error.path.length > 0) return yield* error
        return yield* new Other({ path: "" })
      }).pipe(
        Effect.catchTag("DiskFull", (e) => Effect.succeed(`caught ${e.path}`)),
        Effect.catchTag("Other", () => Effect.succeed("wrong tag")),
      ),
    )
    assert.equal(caught, "caught /var/cache")
  })
})
