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

/**
 * What an error's fields may not be called: they become the error's own properties, and would hide its `name` (the
 * tag), its computed `message` or its `stack`.
 */
export type Reserved = "name" | "message" | "stack"

/** The constructor of an error base: `new Base(fields)` has the fields, the tag and a message computed from them. */
export type Constructor<Tag extends string, Fields extends object> = new (
  fields: Fields,
) => Cause.YieldableError & { readonly _tag: Tag } & Readonly<Fields>

const Plain: new (args: Record<string, unknown>) => Cause.YieldableError = Data.Error

/** V8's and JavaScriptCore's `Error.captureStackTrace`; other engines (QuickJS) have none. */
const captureStackTrace = (Error as { captureStackTrace?: (target: object) => void }).captureStackTrace

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

/**
 * Builds the base of an error class tagged `tag` whose `message` is `message(fields)`. Its `name` is the tag, so that
 * `String(error)` and a stack's first line read `Tag: message`, as for `Data.TaggedError`.
 */
export const make = <Tag extends string, Fields extends object>(
  tag: Tag,
  message: (fields: Fields) => string,
  // A field named as one of the {@link Reserved} names asks for a third argument, which fails to compile with this text.
  ..._reserved: [keyof Fields & Reserved] extends [never] ? []
    : ["an error's fields may not be named name, message or stack"]
): Constructor<Tag, Fields> => {
  class Base extends Plain {
    readonly _tag: Tag = tag
    constructor(fields: Fields) {
      super(fields as Record<string, unknown>)
      // The name and the message are own properties that are not enumerable, as `new Error(message)` makes the
      // message: they are no fields, so they stay out of JSON and of equality. JavaScriptCore (Bun) writes a stack's
      // first line from such properties only, and when the error is made, before they were set: the stack is taken
      // again now.
      const own = { writable: true, configurable: true }
      Object.defineProperty(this, "name", { ...own, value: tag })
      Object.defineProperty(this, "message", { ...own, value: message(fields) })
      captureStackTrace?.(this)
    }
  }
  return Base as unknown as Constructor<Tag, Fields>
}
