/**
 * The command-line interface, declared once and run by the bin entry `adapters/cli/main.ts`: `sa-token <command>`.
 * Each subcommand lives beside the code it drives; this file only assembles them.
 *
 * @module
 */
import type { CliApp } from "@effect/cli/CliApp"
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as ValidationError from "@effect/cli/ValidationError"
import type { CommandExecutor } from "@effect/platform/CommandExecutor"
import type { PlatformError } from "@effect/platform/Error"
import type { FileSystem } from "@effect/platform/FileSystem"
import type { Path } from "@effect/platform/Path"
import type { Terminal } from "@effect/platform/Terminal"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import { version } from "../../core/Version.ts"
import type { KubeConnectionError } from "../kube/KubeConnectionError.ts"
import type { TlsHttpClient, TlsHttpClientError } from "../platform/TlsHttpClient.ts"
import type { LocalHttp } from "../platform/LocalHttp.ts"
import type { PrivateFile } from "../platform/PrivateFile.ts"
import type { ProcessControl } from "../platform/ProcessControl.ts"
import type { DevServerError } from "../devserver/DevServerError.ts"
import type { AgentFlags } from "./AgentCommand.ts"
import type { DemoFlags } from "./DemoCommand.ts"
import type { EndpointError } from "../agent/Endpoint.ts"
import type { ExecCredentialError, Flags as ExecCredentialFlags } from "./ExecCredentialCommand.ts"
import type { DevServerFlags } from "./DevServerCommand.ts"
import type { TokenCommandError } from "./TokenCommand.ts"
import type { TokenFlags } from "./TokenFlags.ts"
import type { PermissionsFlags } from "./PermissionsCommand.ts"
import * as AgentCommand from "./AgentCommand.ts"
import * as DemoCommand from "./DemoCommand.ts"
import * as ExecCredentialCommand from "./ExecCredentialCommand.ts"
import * as DevServerCommand from "./DevServerCommand.ts"
import * as TokenCommand from "./TokenCommand.ts"
import * as MissingPermission from "./MissingPermission.ts"
import * as PermissionsCommand from "./PermissionsCommand.ts"

/** The services the CLI needs: a runtime layer (`@sa-token/manager/node`, `/deno` or `/bun`) provides them all. */
export type Requirements =
  | FileSystem
  | Path
  | Terminal
  | CommandExecutor
  | TlsHttpClient
  | PrivateFile
  | LocalHttp
  | ProcessControl

/** Every error a subcommand can end with (each has already been printed by then). */
export type CliError =
  | PlatformError
  | TlsHttpClientError
  | KubeConnectionError
  | EndpointError
  | DevServerError
  | ExecCredentialError
  | TokenCommandError

/** The parsed command line: the subcommand that was chosen and its flags (`version` has none). */
export interface RootArgs {
  /** The chosen subcommand's flags, or none when only `sa-token` was given. */
  readonly subcommand: Option.Option<
    Record<never, never> | AgentFlags | DemoFlags | ExecCredentialFlags | DevServerFlags | TokenFlags | PermissionsFlags
  >
}

/**
 * The root command, `sa-token`, with its subcommands `version`, `agent`, `demo`, `exec-credential`, `dev-server`,
 * `token` and `permissions`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import { Cli } from "@sa-token/manager/cli"
 * import * as Command from "@effect/cli/Command"
 * import * as HashMap from "effect/HashMap"
 *
 * const subcommands = Command.getSubcommands(Cli.root)
 * assert.deepEqual([...HashMap.keys(subcommands)].sort(), ["agent", "demo", "dev-server", "exec-credential", "permissions", "token", "version"])
 * ```
 */
export const root: Command.Command<"sa-token", Requirements, CliError, RootArgs> = Command.make("sa-token").pipe(
  Command.withDescription("Kubernetes service-account token manager: agent, token command and development API server"),
  Command.withSubcommands([
    Command.make("version", {}, () => Console.log(version)).pipe(Command.withDescription("Print the version")),
    AgentCommand.command,
    DemoCommand.command,
    ExecCredentialCommand.command,
    DevServerCommand.command,
    TokenCommand.command,
    PermissionsCommand.command,
  ]),
)

/**
 * Runs the CLI on a `process.argv`-shaped array (the first two entries are skipped). Provide a runtime layer and run
 * it with that runtime's `runMain`, as `adapters/cli/main.ts` does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import { Cli } from "@sa-token/manager/cli"
 * import * as Node from "@sa-token/manager/node"
 * import * as Effect from "effect/Effect"
 *
 * await Effect.runPromise(Cli.run(["node", "sa-token", "version"]).pipe(Effect.provide(Node.layer)))
 * assert.ok(true)
 * ```
 */
export const run = (
  args: ReadonlyArray<string>,
): Effect.Effect<void, CliError | ValidationError.ValidationError, Requirements | CliApp.Environment> => {
  const problem = emptyAudience(args)
  const main = problem === undefined ? parseAndRun(words(args)) : Console.error(`error: ${problem}`).pipe(
    Effect.zipRight(Effect.fail(ValidationError.invalidValue(HelpDoc.p(problem)))),
  )
  // Commands print their own errors; a defect (a bug) would otherwise end the process with code 1 and no word. Only
  // the first line of its message is printed: a stack or an inspected value could carry a credential.
  return Effect.tapDefect(main, (cause) => {
    const defect = Cause.squash(cause)
    const message = (defect instanceof Error ? defect.message : String(defect)).split("\n")[0]
    return MissingPermission.report(defect, `error: internal error: ${message}`)
  })
}

const parseAndRun = Command.run(root, { name: "sa-token", version })

/**
 * The `process.argv`-shaped command line as `@effect/cli` is given it by {@link run}. kubectl takes `--audience=VALUE`
 * as it takes `--audience VALUE`, but `@effect/cli` refuses the `=` spelling of a repeatable option ("Received unknown
 * argument"), so it is split into the two words here, up to a `--` (after which every word is an argument).
 */
export const words = (args: ReadonlyArray<string>): ReadonlyArray<string> => {
  const end = args.indexOf("--")
  return args.flatMap((arg, i) =>
    i >= 2 && (end < 0 || i < end) && arg.startsWith("--audience=") ? ["--audience", arg.slice(11)] : [arg]
  )
}

/**
 * kubectl refuses `--audience ""`, but @effect/cli drops empty arguments before parsing (the token would silently be
 * issued for the API server's default audiences), so the raw arguments are checked first.
 */
const emptyAudience = (args: ReadonlyArray<string>): string | undefined =>
  args.some((arg, i) => i >= 2 && (arg === "--audience=" || (arg === "--audience" && args[i + 1] === "")))
    ? "--audience must not be an empty string"
    : undefined
