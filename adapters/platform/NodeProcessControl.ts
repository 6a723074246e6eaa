/**
 * {@link ProcessControl} over `node:process`, which Deno, Node and Bun implement alike, and the bin entry's handler of
 * exceptions thrown outside any effect ({@link exitOnUncaught}).
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import process from "node:process"
import { ProcessControl, SignalError } from "./ProcessControl.ts"
import type { SignalErrorReason } from "./ProcessControl.ts"

const reasons: Readonly<Record<string, SignalErrorReason>> = {
  ESRCH: "NoSuchProcess",
  EPERM: "NotPermitted",
  ERR_UNKNOWN_SIGNAL: "InvalidSignal",
  EINVAL: "InvalidSignal",
}

const signalError = (pid: number, signal: string, error: unknown): SignalError => {
  const code = (error as { code?: unknown } | null)?.code
  return new SignalError({
    reason: (typeof code === "string" ? reasons[code] : undefined) ?? "Failed",
    pid,
    signal,
    detail: error instanceof Error ? error.message.split("\n")[0]! : String(error),
  })
}

/** Builds the service over `node:process`. */
export const make = (): ProcessControl => ({
  exit: (code) =>
    Effect.sync(() => process.exit(code)).pipe(
      Effect.zipRight(Effect.never),
    ),
  kill: (pid, signal) =>
    Effect.try({
      try: () => {
        process.kill(pid, signal)
      },
      catch: (error) => signalError(pid, signal, error),
    }),
  stdoutIsTerminal: Effect.sync(() => process.stdout.isTTY === true),
  withoutDeprecationWarnings: (self) =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        const previous = process.noDeprecation
        process.noDeprecation = true
        return previous
      }),
      () => self,
      (previous) =>
        Effect.sync(() => {
          process.noDeprecation = previous === true
        }),
    ),
})

/** A layer providing {@link make}. */
export const layer: Layer.Layer<ProcessControl> = Layer.sync(ProcessControl, make)

/**
 * Ends the process on an exception thrown outside any effect: `render` gives the line to print on standard error and
 * the exit code. For a bin entry, once.
 */
export const exitOnUncaught = (render: (error: unknown) => { readonly line: string; readonly code: number }): void => {
  process.on("uncaughtException", (error) => {
    const { code, line } = render(error)
    process.stderr.write(`${line}\n`)
    process.exit(code)
  })
}
