/**
 * The process signals the agent reacts to besides SIGINT/SIGTERM (which the runtime mains turn into interruption):
 * SIGHUP, "reload the configuration". A runtime-neutral port: each runtime's main provides it from its own signal
 * API (Deno `Deno.addSignalListener("SIGHUP", …)`, Node and Bun `process.on("SIGHUP", …)`) with {@link fromListener};
 * tests provide {@link manual} and trigger reloads themselves. Without the service the agent never reloads.
 *
 * @example
 * ```ts
 * import * as Signals from "./Signals.ts"
 * import process from "node:process"
 *
 * const layer = Signals.layerFromListener((onHangup) => {
 *   process.on("SIGHUP", onHangup)
 *   return () => process.off("SIGHUP", onHangup)
 * })
 * ```
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"

/** The signals the agent listens to. */
export interface Signals {
  /** One element per SIGHUP received (consumed by one subscriber: the agent's reload loop). */
  readonly hangups: Stream.Stream<void>
}

/** The tag of the {@link Signals} service. */
export const Signals: Context.Tag<Signals, Signals> = Context.GenericTag<Signals>("@sa-token/manager/agent/Signals")

/** No signals ever arrive. */
export const none: Signals = { hangups: Stream.never }

/** Signals that a test (or an admin command) raises by hand. */
export interface ManualSignals extends Signals {
  /** Delivers one SIGHUP. */
  readonly hangup: Effect.Effect<void>
}

/** Builds {@link ManualSignals}. */
export const manual: Effect.Effect<ManualSignals> = Effect.map(Queue.unbounded<void>(), (queue) => ({
  hangups: Stream.fromQueue(queue),
  hangup: Queue.offer(queue, undefined).pipe(Effect.asVoid),
}))

/**
 * Signals from a runtime's listener API: `listen` registers a SIGHUP handler and returns its removal, which runs when
 * the scope closes.
 */
export const fromListener = (
  listen: (onHangup: () => void) => () => void,
): Effect.Effect<Signals, never, Scope.Scope> =>
  Effect.gen(function* () {
    const queue = yield* Queue.unbounded<void>()
    yield* Effect.acquireRelease(
      Effect.sync(() => listen(() => Queue.unsafeOffer(queue, undefined))),
      (remove) => Effect.sync(remove),
    )
    return { hangups: Stream.fromQueue(queue) }
  })

/** A layer providing {@link fromListener}. */
export const layerFromListener = (listen: (onHangup: () => void) => () => void): Layer.Layer<Signals> =>
  Layer.scoped(Signals, fromListener(listen))

/** SIGHUP through `node:process`, which Node and Bun (and Deno's Node compatibility) implement alike. */
export const layerProcess: Layer.Layer<Signals> = layerFromListener((onHangup) => {
  process.on("SIGHUP", onHangup)
  return () => {
    process.off("SIGHUP", onHangup)
  }
})

/** A layer providing {@link none}. */
export const layerNone: Layer.Layer<Signals> = Layer.succeed(Signals, none)
