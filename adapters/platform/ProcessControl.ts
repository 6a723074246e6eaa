/**
 * The runtime port for what the CLI and the agent ask of their own process and of others: ending with a chosen exit
 * code, sending a signal to a process by PID (a rotation hook), telling whether standard output is a terminal, and
 * muting the runtime's deprecation warnings while a dependency loads. `NodeProcessControl.ts` implements it over
 * `node:process`, which Deno, Node and Bun provide alike; each runtime's layer provides that implementation, and tests
 * provide {@link make} with doubles.
 *
 * @example Send a signal through the port
 * ```ts
 * import assert from "node:assert/strict"
 * import { NodeProcessControl, ProcessControl } from "@sa-token/manager/platform"
 * import * as Effect from "effect/Effect"
 * import * as Exit from "effect/Exit"
 *
 * const exit = await Effect.flatMap(ProcessControl.ProcessControl, (process) => process.kill(2 ** 22 + 1, "SIGHUP"))
 *   .pipe(Effect.provide(NodeProcessControl.layer), Effect.exit, Effect.runPromise)
 * assert.ok(Exit.isFailure(exit))
 * ```
 *
 * @module
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ErrorBase from "../../core/ErrorBase.ts"

/** Why a signal could not be sent. */
export type SignalErrorReason = "NoSuchProcess" | "NotPermitted" | "InvalidSignal" | "Failed"

/** The fields of a {@link SignalError}. */
export interface SignalErrorFields {
  /** Why the signal could not be sent. */
  readonly reason: SignalErrorReason
  /** The process it was for. */
  readonly pid: number
  /** The signal's name (`SIGHUP`). */
  readonly signal: string
  /** What the system said (`kill ESRCH`). */
  readonly detail: string
}

const SignalErrorBase: ErrorBase.Constructor<"SignalError", SignalErrorFields> = ErrorBase.make(
  "SignalError",
  (e) => `cannot send ${e.signal} to ${e.pid}: ${e.detail}`,
)

/** A signal could not be sent. */
export class SignalError extends SignalErrorBase {}

/** What the program asks of processes. */
export interface ProcessControl {
  /** Ends the process with `code` once what was written so far is flushed by the runtime; never returns. */
  readonly exit: (code: number) => Effect.Effect<never>
  /** Sends `signal` (a name such as `SIGHUP`) to the process `pid`. */
  readonly kill: (pid: number, signal: string) => Effect.Effect<void, SignalError>
  /** Whether standard output is a terminal (so that a status display may redraw in place). */
  readonly stdoutIsTerminal: Effect.Effect<boolean>
  /** Runs `self` with the runtime's deprecation warnings muted, restoring the previous setting afterwards. */
  readonly withoutDeprecationWarnings: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/** The tag of the {@link ProcessControl} service. */
export const ProcessControl: Context.Tag<ProcessControl, ProcessControl> = Context.GenericTag<ProcessControl>(
  "@sa-token/manager/ProcessControl",
)

/** Builds the service from its operations (a runtime implementation, or a test double). */
export const make = (implementation: ProcessControl): ProcessControl => implementation

/** A layer providing a {@link ProcessControl} implementation. */
export const layer = (implementation: ProcessControl): Layer.Layer<ProcessControl> =>
  Layer.succeed(ProcessControl, implementation)
