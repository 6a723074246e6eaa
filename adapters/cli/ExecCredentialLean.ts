/**
 * The bin's lean cache answer with the only services it needs: files (`@effect/platform-node`'s file system, which
 * Bun's and Deno's Node compatibility run as well, as their runtime layers do), paths and private files. Loaded by
 * `main.ts` as one dynamic import, so that the bundled bin keeps it apart from the full CLI.
 *
 * @module
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as NodePrivateFile from "../platform/NodePrivateFile.ts"
import type { Flags } from "./ExecCredentialCommand.ts"
import * as ExecCredentialCacheHit from "./ExecCredentialCacheHit.ts"
import { answer } from "./ExecCredentialHit.ts"

const layer: Layer.Layer<ExecCredentialCacheHit.Requirements> = Layer.mergeAll(
  NodeFileSystem.layer,
  Path.layer,
  NodePrivateFile.layer,
)

/** Whether the on-disk cache answered (and the credential was printed). */
export const cache = (flags: Flags): Promise<boolean> =>
  Effect.runPromise(answer(ExecCredentialCacheHit.fromCache(flags)).pipe(Effect.provide(layer)))
