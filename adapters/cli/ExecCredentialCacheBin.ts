/**
 * The on-disk cache answer as the bin runs it (`ExecCredentialCacheHit.ts`), with the only services it needs: files
 * (`@effect/platform-node`'s file system, which Bun's and Deno's Node compatibility run as well, as their runtime
 * layers do), paths and private files. Only the bin entry loads this module, so the `./cli` subpath of the package
 * does not need `@effect/platform-node`.
 *
 * @module
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as NodePrivateFile from "../platform/NodePrivateFile.ts"
import type { Flags } from "./ExecCredentialCommand.ts"
import { fromCache } from "./ExecCredentialCacheHit.ts"
import type { Requirements } from "./ExecCredentialCacheHit.ts"
import { answer } from "./ExecCredentialLean.ts"

/** The files and paths of the cache answer. */
export const layer: Layer.Layer<Requirements> = Layer.mergeAll(NodeFileSystem.layer, Path.layer, NodePrivateFile.layer)

/** Runs the cache answer for the bin: whether the credential was printed. */
export const run = (flags: Flags): Promise<boolean> =>
  Effect.runPromise(answer(fromCache(flags)).pipe(Effect.provide(layer)))
