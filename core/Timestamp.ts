/**
 * Kubernetes' wire form of a point in time: RFC 3339, written in UTC with whole seconds. Free of Schema, so that code
 * which must start in a few milliseconds (the lean `exec-credential` answers) reads and writes timestamps exactly as the
 * `Rfc3339` schema of `TokenRequest.ts` does, which is built on these two functions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import { formatTime, parseTime } from "./Timestamp.ts"
 *
 * assert.equal(formatTime(new Date(Date.UTC(2030, 0, 1, 0, 0, 0, 250))), "2030-01-01T00:00:00Z")
 * assert.equal(parseTime("2030-01-01T01:00:00+01:00"), Date.UTC(2030, 0, 1))
 * assert.ok(Number.isNaN(parseTime("2030-01-01")))
 * ```
 *
 * @module
 */

const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/

/** Formats a date as Kubernetes does: RFC 3339 in UTC with whole seconds. */
export const formatTime = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, "Z")

/** The epoch milliseconds of an RFC 3339 timestamp (a date, a time and an offset), or `NaN` for any other text. */
export const parseTime = (text: string): number => rfc3339.test(text) ? Date.parse(text) : NaN
