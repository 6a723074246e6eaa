/**
 * `sa-token agent --config FILE`: keeps the declared tokens fresh (see `Agent.ts`). A configuration that cannot be used
 * prints `error: …` (naming the field path and what is wrong) and exits with code 2; other startup failures exit
 * with code 1; SIGINT/SIGTERM stop it gracefully with code 0; SIGHUP reloads the token list.
 *
 * @module
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { ProcessControl } from "../platform/ProcessControl.ts"
import type { TlsHttpClient } from "../platform/TlsHttpClient.ts"
import * as Agent from "../agent/Agent.ts"
import * as AgentConfig from "../agent/Config.ts"
import * as MissingPermission from "./MissingPermission.ts"

/** The flags of the command. */
export interface AgentFlags {
  readonly config: string
}

/** The exit code of an unusable configuration. */
export const configExitCode = 2

/** Prints the error and exits with `code` (after the message is written). */
export const exitWith = (code: number, message: string): Effect.Effect<never, never, ProcessControl> =>
  Console.error(`error: ${message}`).pipe(
    Effect.zipRight(Effect.flatMap(ProcessControl, (control) => control.exit(code))),
  )

const handler = ({ config }: AgentFlags) =>
  AgentConfig.load(config).pipe(
    Effect.flatMap(MissingPermission.checkWritable),
    Effect.zipRight(Agent.run(config)),
    Effect.catchTag("ConfigError", (error) =>
      MissingPermission.report(error, "").pipe(Effect.zipRight(exitWith(configExitCode, error.message)))),
    Effect.tapError((error) =>
      MissingPermission.report(error, `error: ${error.message}`)
    ),
  )

/** The `agent` subcommand. */
export const command: Command.Command<
  "agent",
  Agent.Platform | TlsHttpClient,
  Exclude<Agent.AgentError, { readonly _tag: "ConfigError" }>,
  AgentFlags
> = Command.make(
  "agent",
  { config: Options.text("config").pipe(Options.withDescription("The agent's configuration file (YAML or JSON)")) },
  handler,
).pipe(Command.withDescription("Keep declared service-account tokens fresh in files and on a local endpoint"))
