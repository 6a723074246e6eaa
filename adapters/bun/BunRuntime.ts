/**
 * The Bun runtime layer, composed of its port implementations (`BunTlsHttpClient.ts`, its signals) and the
 * context of `@effect/platform-bun`, and the `runMain` that runs a program until a signal ends it.
 *
 * @module
 */
import { type BunContext, layer as bunContext } from "@effect/platform-bun/BunContext"
import * as BunRuntime from "@effect/platform-bun/BunRuntime"
import type { RunMain } from "@effect/platform/Runtime"
import type * as Layer from "effect/Layer"
import * as Signals from "../platform/Signals.ts"
import * as Ports from "../platform/Ports.ts"
import { tlsHttpClient } from "./BunTlsHttpClient.ts"

/** SIGHUP as the agent's "reload the configuration" signal. */
export const layerSignals: Layer.Layer<Signals.Signals> = Signals.layerProcess

/**
 * Everything the agent and the CLI need from Bun: the platform ports (TLS client, SIGHUP, private files, the local
 * HTTP transport, process control), and Bun's file system, path, terminal and command executor.
 */
export const layer: Layer.Layer<Ports.Ports | BunContext> = Ports.runtimeLayer(tlsHttpClient, layerSignals, bunContext)

/** Runs a main effect, interrupting it on SIGINT and SIGTERM. */
export const runMain: RunMain = BunRuntime.runMain
