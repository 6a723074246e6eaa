/**
 * The platform services of the agent suites: Node's file system, path and command executor, plus the ports that every
 * runtime layer provides over `node:` modules (race-free private files, the local HTTP transport, process control).
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Layer from "effect/Layer"
import type { LocalHttp } from "../../adapters/platform/LocalHttp.ts"
import * as NodeLocalHttp from "../../adapters/platform/NodeLocalHttp.ts"
import * as NodePrivateFile from "../../adapters/platform/NodePrivateFile.ts"
import * as NodeProcessControl from "../../adapters/platform/NodeProcessControl.ts"
import type { PrivateFile } from "../../adapters/platform/PrivateFile.ts"
import type { ProcessControl } from "../../adapters/platform/ProcessControl.ts"

/** What the agent's file code needs. */
export type Platform = NodeContext.NodeContext | PrivateFile | LocalHttp | ProcessControl

/** {@link Platform} over Node's implementations (which Deno and Bun run too). */
export const platform: Layer.Layer<Platform> = Layer.mergeAll(
  NodeContext.layer,
  NodePrivateFile.layer,
  NodeLocalHttp.layer,
  NodeProcessControl.layer,
)
