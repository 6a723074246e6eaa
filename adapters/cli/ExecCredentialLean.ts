/**
 * The lean `exec-credential` of the bin entry: {@link ExecCredentialHit.run} with the only services it needs, files
 * (`@effect/platform-node`'s file system, which Bun's and Deno's Node compatibility run as well), paths and private
 * files. Loaded by `main.ts` as one dynamic import, so that the bundled bin keeps it apart from the full CLI.
 *
 * @module
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as NodePrivateFile from "../platform/NodePrivateFile.ts"
import * as ExecCredentialHit from "./ExecCredentialHit.ts"

const layer: Layer.Layer<ExecCredentialHit.Requirements> = Layer.mergeAll(
  NodeFileSystem.layer,
  Path.layer,
  NodePrivateFile.layer,
)

/** Whether the lean path answered `exec-credential ARGS` (and printed the credential). */
export const run = (args: ReadonlyArray<string>): Promise<boolean> =>
  Effect.runPromise(ExecCredentialHit.run(args).pipe(Effect.provide(layer)))
