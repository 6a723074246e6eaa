/**
 * The messages of the `LeanHost` implementations' failures, one copy each for the three runtimes' hosts and the
 * HTTP/1.0 reader. The lean hosts must load no `effect` module, nor anything Deno would serve from its Node
 * compatibility layer: this module imports nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import * as LeanFailures from "./LeanFailures.ts"
 *
 * assert.equal(LeanFailures.tooLarge("/run/token", 1024).message, "/run/token is larger than 1024 bytes")
 * assert.equal(LeanFailures.tooLarge(LeanFailures.answer, 64).message, "the answer is larger than 64 bytes")
 * ```
 *
 * @module
 */
/** How the messages about an answer on the agent's socket name it. */
export const answer: string = "the answer"

/** `what` (a file's path, or {@link answer}) holds more than `maxBytes` bytes. */
export const tooLarge = (what: string, maxBytes: number): Error => new Error(`${what} is larger than ${maxBytes} bytes`)

/** The file at `path` is a directory, a FIFO, a device or anything other than a regular file. */
export const notRegularFile = (path: string): Error => new Error(`${path} is not a regular file`)

/** The whole answer did not arrive within `timeoutMillis`. */
export const noAnswerWithin = (timeoutMillis: number): Error => new Error(`no answer within ${timeoutMillis} ms`)

/** The connection ended before the whole answer arrived. */
export const cutShort = (): Error => new Error(`${answer} was cut short`)
