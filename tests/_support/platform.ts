/**
 * The platform services of the agent suites: Node's file system, path and command executor, plus the race-free
 * private-file writer that every runtime layer provides.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Layer from "effect/Layer"
import * as NodePrivateFile from "../../adapters/platform/NodePrivateFile.ts"
import type { PrivateFile } from "../../adapters/platform/PrivateFile.ts"

/** What the agent's file code needs. */
export type Platform = NodeContext.NodeContext | PrivateFile

/** {@link Platform} over Node's implementations (which Deno and Bun run too). */
export const platform: Layer.Layer<Platform> = Layer.merge(NodeContext.layer, NodePrivateFile.layer)
