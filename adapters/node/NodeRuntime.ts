/**
 * The Node runtime layer, composed of its port implementations (`NodeTlsHttpClient.ts`, its signals) and the
 * context of `@effect/platform-node`, and the `runMain` that runs a program until a signal ends it.
 *
 * @module
 */
import { layer as nodeContext, type NodeContext } from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import type { RunMain } from "@effect/platform/Runtime"
import type * as Layer from "effect/Layer"
import * as Signals from "../platform/Signals.ts"
import * as Ports from "../platform/Ports.ts"
import { tlsHttpClient } from "./NodeTlsHttpClient.ts"

/** SIGHUP as the agent's "reload the configuration" signal. */
export const layerSignals: Layer.Layer<Signals.Signals> = Signals.layerProcess

/**
 * Everything the agent and the CLI need from Node: the platform ports (TLS client, SIGHUP, private files, the local
 * HTTP transport, process control), and Node's file system, path, terminal and command executor.
 */
export const layer: Layer.Layer<Ports.Ports | NodeContext> = Ports.runtimeLayer(
  tlsHttpClient,
  layerSignals,
  nodeContext,
)

/** Runs a main effect, interrupting it on SIGINT and SIGTERM. */
export const runMain: RunMain = NodeRuntime.runMain
