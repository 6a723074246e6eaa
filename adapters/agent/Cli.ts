/**
 * The command-line interface, declared once and run by each runtime's `main.ts`: `sa-token <command>`.
 * Each subcommand lives beside the code it drives; this file only assembles them.
 *
 * @module
 */
import * as Command from "@effect/cli/Command"
import * as Console from "effect/Console"
import * as AgentCommand from "./AgentCommand.ts"
import * as DemoCommand from "./DemoCommand.ts"
import * as ExecCredentialCommand from "./ExecCredentialCommand.ts"
import * as DevServerCommand from "../devserver/Command.ts"
import * as TokenCommand from "./TokenCommand.ts"

/** The root command. Subcommands are added with `Command.withSubcommands`. */
export const root = Command.make("sa-token").pipe(
  Command.withDescription("Kubernetes service-account token manager: agent, token command and development API server"),
  Command.withSubcommands([
    Command.make("version", {}, () => Console.log("0.1.0")).pipe(Command.withDescription("Print the version")),
    AgentCommand.command,
    DemoCommand.command,
    ExecCredentialCommand.command,
    DevServerCommand.command,
    TokenCommand.command,
  ]),
)

/** Runs the CLI on a `process.argv`-shaped array (the first two entries are skipped). */
export const run = Command.run(root, { name: "sa-token", version: "0.1.0" })
