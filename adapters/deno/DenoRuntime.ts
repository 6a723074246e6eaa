/**
 * The Deno runtime layer, composed of its port implementations (`DenoTlsHttpClient.ts`, its signals) and the
 * context of `@effect/platform-node`, and the `runMain` that runs a program until a signal ends it.
 *
 * @module
 */
import { layer as nodeContext, type NodeContext } from "@effect/platform-node/NodeContext"
import { makeRunMain } from "@effect/platform/Runtime"
import type { RunMain } from "@effect/platform/Runtime"
import type * as Layer from "effect/Layer"
import * as Signals from "../platform/Signals.ts"
import * as Ports from "../platform/Ports.ts"
import { tlsHttpClient } from "./DenoTlsHttpClient.ts"

/** SIGHUP as the agent's "reload the configuration" signal. */
export const layerSignals: Layer.Layer<Signals.Signals> = Signals.layerFromListener((onHangup) => {
  Deno.addSignalListener("SIGHUP", onHangup)
  return () => Deno.removeSignalListener("SIGHUP", onHangup)
})

/**
 * Everything the agent and the CLI need from Deno: the platform ports (TLS client, SIGHUP, private files, the local
 * HTTP transport, process control), and Deno's file system, path, terminal and command executor.
 */
export const layer: Layer.Layer<Ports.Ports | NodeContext> = Ports.runtimeLayer(
  tlsHttpClient,
  layerSignals,
  nodeContext,
)

/** Runs a main effect; SIGINT and SIGTERM interrupt it, and the process exits with the teardown's code. */
export const runMain: RunMain = makeRunMain(({ fiber, teardown }) => {
  const signals = ["SIGINT", "SIGTERM"] as const
  let received = false
  const keepAlive = setInterval(() => {}, 2 ** 31 - 1)
  const onSignal = (): void => {
    received = true
    fiber.unsafeInterruptAsFork(fiber.id())
  }
  for (const signal of signals) Deno.addSignalListener(signal, onSignal)
  fiber.addObserver((exit) => {
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal)
    clearInterval(keepAlive)
    teardown(exit, (code) => {
      if (received || code !== 0) Deno.exit(code)
    })
  })
})
