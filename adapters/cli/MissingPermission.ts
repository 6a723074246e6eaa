/**
 * A permission Deno refused (`NotCapable`), whatever wrapped it (a platform error, a kubeconfig or config error, a
 * defect), is reported as one line naming the flag to add, `missing Deno permission: --allow-net=127.0.0.1:6443`,
 * and the process exits with {@link permissionExitCode}.
 *
 * @module
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import type { AgentConfig } from "../agent/Config.ts"
import { exitOnUncaught } from "../platform/NodeProcessControl.ts"
import { ProcessControl } from "../platform/ProcessControl.ts"
import { missingFlag } from "./Permissions.ts"

/** The exit code of a missing permission (sysexits' EX_NOPERM), distinct from a bad config's 2. */
export const permissionExitCode = 77

/** The line printed for a missing permission, or undefined when `message` is not a Deno permission error. */
export const describe = (message: string): string | undefined => {
  const flag = missingFlag(message)
  return flag === undefined ? undefined : `missing Deno permission: ${flag}`
}

/** The messages of an error and of its causes, joined: a permission error may be wrapped. */
export const messages = (error: unknown): string => {
  const parts: Array<string> = []
  let current: unknown = error
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    if (typeof current === "object" && "message" in current) parts.push(String(current.message))
    else parts.push(String(current))
    current = typeof current === "object" && "cause" in current ? current.cause : undefined
  }
  return parts.join("\n")
}

/**
 * Prints `fallback` as it is, unless `error` is a missing permission: then prints the one line and exits with
 * {@link permissionExitCode}.
 */
export const report = (error: unknown, fallback: string): Effect.Effect<void, never, ProcessControl> => {
  const line = describe(messages(error))
  return line === undefined ? Console.error(fallback) : Console.error(line).pipe(
    Effect.zipRight(Effect.flatMap(ProcessControl, (control) => control.exit(permissionExitCode))),
  )
}

/**
 * Reports a missing permission thrown outside any effect (Deno's `node:net` throws a refused `listen` from a
 * scheduled callback) as the one line, with {@link permissionExitCode}; any other uncaught exception ends the process
 * with code 1 and its first line, as the CLI's defects do. For the bin entry, once.
 */
export const reportUncaught = (): void =>
  exitOnUncaught((error) => {
    const text = messages(error)
    const line = describe(text)
    return line !== undefined
      ? { line, code: permissionExitCode }
      : { line: `error: internal error: ${text.split("\n")[0]}`, code: 1 }
  })

/**
 * Checks at the agent's start that it may write each token file's directory: `mkdir -p` with mode 0700, which changes
 * nothing where the directory exists and creates it as the first write would otherwise. Deno checks a write when it
 * happens, so without this a missing `--allow-write` would only surface in the refresh loop, which logs it and
 * retries forever; here it is the one line and {@link permissionExitCode}. Any other failure is left to the refresh
 * loop, which logs and retries it as before.
 */
export const checkWritable = (
  config: AgentConfig,
): Effect.Effect<void, never, FileSystem.FileSystem | Path.Path | ProcessControl> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const directories = [
      ...new Set(config.tokens.flatMap((t) => t.file !== undefined ? [path.dirname(t.file.path)] : [])),
    ]
    yield* Effect.forEach(directories, (directory) =>
      fs.makeDirectory(directory, { recursive: true, mode: 0o700 }).pipe(
        Effect.catchAll((error) => describe(messages(error)) === undefined ? Effect.void : report(error, "")),
      ), { discard: true })
  })
