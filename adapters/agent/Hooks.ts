/**
 * Rotation hooks, run after a new token was written: a command (argv, no shell, run in the config file's directory,
 * with `SA_TOKEN_NAME`, `SA_TOKEN_FILE` and `SA_TOKEN_FINGERPRINT` in its environment, never the token) and a signal
 * sent to the process whose PID is in a file (Vault Agent's and spiffe-helper's two mechanisms). A failing hook is
 * logged and never stops the agent.
 *
 * @example Run a rotation command (argv, no shell)
 * ```ts
 * import assert from "node:assert/strict"
 * import { tmpdir } from "node:os"
 * import { Hooks } from "@sa-token/manager/agent"
 * import * as Runtime from "@sa-token/manager/node"
 * import * as Effect from "effect/Effect"
 * import * as Either from "effect/Either"
 *
 * const run = (argv: ReadonlyArray<string>) =>
 *   Hooks.runCommand(argv, { SA_TOKEN_NAME: "vault" }, tmpdir()).pipe(
 *     Effect.either,
 *     Effect.provide(Runtime.layer),
 *     Effect.runPromise,
 *   )
 * assert.ok(Either.isRight(await run(["sh", "-c", 'test "$SA_TOKEN_NAME" = vault'])))
 * assert.deepEqual(await run(["sh", "-c", "exit 3"]), Either.left("sh exited with code 3"))
 * ```
 *
 * @module
 */
import * as Command from "@effect/platform/Command"
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { ProcessControl } from "../platform/ProcessControl.ts"
import type { TokenSpec } from "./Config.ts"

/** How long a hook command may run. */
export const commandTimeout: Duration.Duration = Duration.seconds(60)

/** Runs the command hook; fails with a log-safe description. */
export const runCommand = (
  argv: ReadonlyArray<string>,
  env: Record<string, string>,
  directory: string,
): Effect.Effect<void, string, CommandExecutor.CommandExecutor> =>
  Command.make(argv[0]!, ...argv.slice(1)).pipe(
    Command.env(env),
    Command.workingDirectory(directory),
    Command.stdin("inherit"),
    Command.exitCode,
    Effect.mapError((error) => `cannot run ${argv[0]}: ${error.message}`),
    Effect.timeoutFail({ duration: commandTimeout, onTimeout: () => `${argv[0]} timed out` }),
    Effect.flatMap((code) => code === 0 ? Effect.void : Effect.fail(`${argv[0]} exited with code ${code}`)),
    Effect.scoped,
  )

/** Sends a signal to the process whose PID is in `pidFile`. */
export const sendSignal = (
  pidFile: string,
  signal: string,
): Effect.Effect<void, string, FileSystem.FileSystem | ProcessControl> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(pidFile).pipe(Effect.mapError(() => `cannot read PID file ${pidFile}`))
    const pid = Number(text.trim())
    if (!Number.isInteger(pid) || pid <= 0) return yield* Effect.fail(`no PID in ${pidFile}`)
    yield* (yield* ProcessControl).kill(pid, signal).pipe(Effect.mapError((error) => error.message))
  })

/** Runs every hook of the spec after a rotation, logging (not failing on) errors. */
export const run = (
  spec: TokenSpec,
  fingerprint: string,
): Effect.Effect<void, never, CommandExecutor.CommandExecutor | FileSystem.FileSystem | ProcessControl> =>
  Effect.gen(function* () {
    const hooks = spec.hooks
    if (hooks === undefined) return
    if (hooks.command !== undefined) {
      const env = {
        SA_TOKEN_NAME: spec.name,
        SA_TOKEN_FILE: spec.file?.path ?? "",
        SA_TOKEN_FINGERPRINT: fingerprint,
      }
      yield* runCommand(hooks.command, env, hooks.directory).pipe(
        Effect.tap(() => Effect.logDebug("rotation command ran")),
        Effect.catchAll((error) =>
          Effect.logWarning("rotation command failed").pipe(Effect.annotateLogs("err", error))
        ),
      )
    }
    if (hooks.signal !== undefined) {
      yield* sendSignal(hooks.signal.pidFile, hooks.signal.signal).pipe(
        Effect.tap(() => Effect.logDebug("rotation signal sent")),
        Effect.catchAll((error) => Effect.logWarning("rotation signal failed").pipe(Effect.annotateLogs("err", error))),
      )
    }
  })
