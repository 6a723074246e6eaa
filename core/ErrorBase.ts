/**
 * The one builder of this package's error classes: a tagged, yieldable error whose fields are its properties and
 * whose message is computed from those fields. An exported class extends a base built here and held in a constant
 * whose type is written out, which JSR's "no slow types" check accepts (a `Data.TaggedError(…)` call in an `extends`
 * clause is rejected):
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import * as ErrorBase from "./ErrorBase.ts"
 *
 * interface DiskFullFields {
 *   readonly path: string
 * }
 * const DiskFullBase: ErrorBase.Constructor<"DiskFull", DiskFullFields> = ErrorBase.make(
 *   "DiskFull",
 *   (e) => `disk full: ${e.path}`,
 * )
 * class DiskFull extends DiskFullBase {}
 *
 * const error = new DiskFull({ path: "/tmp" })
 * assert.equal(error._tag, "DiskFull")
 * assert.equal(error.message, "disk full: /tmp")
 * ```
 *
 * @module
 */
import type * as Cause from "effect/Cause"
import * as Data from "effect/Data"

/** The constructor of an error base: `new Base(fields)` has the fields, the tag and a message computed from them. */
export type Constructor<Tag extends string, Fields extends object> = new (
  fields: Fields,
) => Cause.YieldableError & { readonly _tag: Tag } & Readonly<Fields>

const Plain: new (args: Record<string, unknown>) => Cause.YieldableError = Data.Error

/**
 * The fields of an error that names why it happened among its own `Reason`s and says what happened in words; an
 * error's fields extend it with where it happened.
 */
export interface Reasoned<Reason extends string> {
  /** What went wrong. */
  readonly reason: Reason
  /** What happened, in words. */
  readonly detail: string
}

/** Builds the base of an error class tagged `tag` whose `message` is `message(fields)`. */
export const make = <Tag extends string, Fields extends object>(
  tag: Tag,
  message: (fields: Fields) => string,
): Constructor<Tag, Fields> => {
  class Base extends Plain {
    readonly _tag: Tag = tag
    override get message(): string {
      return message(this as unknown as Fields)
    }
  }
  return Base as unknown as Constructor<Tag, Fields>
}
