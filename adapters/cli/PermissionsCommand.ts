/**
 * `sa-token permissions`: prints the exact permission flags a command needs on Deno (or, with `--runtime node`,
 * under Node's permission model), from the agent's config (`--config FILE`) or the `token` command's kubeconfig
 * (`--kubeconfig FILE`, `--context NAME`), and the environment. `--for exec-credential` adds the token cache, or,
 * with `--name NAME --socket PATH [--socket-owner USER]` (or `--config` with a unix endpoint), what asking the agent's
 * socket needs, once the socket is checked to be the agent's.
 *
 * @module
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as AgentConfig from "../agent/Config.ts"
import type { ProcessControl } from "../platform/ProcessControl.ts"
import type * as EndpointClient from "../agent/EndpointClient.ts"
import * as ExecCredential from "../agent/ExecCredential.ts"
import { configExitCode, exitWith } from "./AgentCommand.ts"
import { ExecCredentialError } from "./ExecCredentialCommand.ts"
import type { PrivateFile } from "../platform/PrivateFile.ts"
import * as Permissions from "./Permissions.ts"
import * as PermissionsNeeds from "./PermissionsNeeds.ts"

/** The flags of the command. */
export interface PermissionsFlags {
  readonly config: Option.Option<string>
  readonly kubeconfig: Option.Option<string>
  readonly context: Option.Option<string>
  readonly cacheDir: Option.Option<string>
  /** The token name, the agent's socket and its owner, as `exec-credential --name NAME --socket PATH` takes them. */
  readonly name: Option.Option<string>
  readonly socket: Option.Option<string>
  readonly socketOwner: Option.Option<string>
  readonly for: "token" | "agent" | "exec-credential" | "auto"
  readonly runtime: Permissions.Runtime
}

/** Why no flags are printed: a config that cannot be used, a bad command line, or a socket that may not be the agent's. */
export type PermissionsError = AgentConfig.ConfigError | ExecCredentialError | EndpointClient.EndpointClientError

const usage = (detail: string) => new ExecCredentialError({ reason: "Usage", detail })

/** Computes the flags for the parsed command line. */
export const compute = (
  flags: PermissionsFlags,
): Effect.Effect<ReadonlyArray<string>, PermissionsError, FileSystem.FileSystem | Path.Path | PrivateFile> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const kind = flags.for !== "auto"
      ? flags.for
      : Option.isSome(flags.socket) || Option.isSome(flags.name)
      ? "exec-credential"
      : Option.isSome(flags.config)
      ? "agent"
      : "token"
    const socketFlags = [flags.name, flags.socket, flags.socketOwner].some(Option.isSome)
    if (socketFlags && kind !== "exec-credential") {
      return yield* usage("--name, --socket and --socket-owner are flags of --for exec-credential")
    }
    if (Option.isSome(flags.socket) && Option.isSome(flags.config)) {
      return yield* usage("--socket and --config cannot be combined: exec-credential asks one agent")
    }
    const name = Option.getOrElse(flags.name, () => "")
    let needs: Permissions.Needs
    if (Option.isSome(flags.socket)) {
      // The socket answer reads no kubeconfig and no cache.
      const socket = yield* PermissionsNeeds.socketNeeds(flags.socket.value, name, flags.socketOwner)
      return yield* rendered(flags.runtime, socket)
    }
    if (kind === "agent" || (kind === "exec-credential" && Option.isSome(flags.config))) {
      if (Option.isNone(flags.config)) {
        return yield* new AgentConfig.ConfigError({
          reason: "Invalid",
          file: "--for agent",
          issues: [{ path: "", message: "--config FILE is required" }],
        })
      }
      const file = path.resolve(flags.config.value)
      const text = yield* fs.readFileString(file).pipe(
        Effect.mapError((error) =>
          new AgentConfig.ConfigError({
            reason: error._tag === "SystemError" && error.reason === "NotFound" ? "NotFound" : "Read",
            file,
            issues: [{ path: "", message: error._tag === "SystemError" ? error.reason : "unreadable" }],
          })
        ),
      )
      const config = yield* AgentConfig.parseText(text, file).pipe(
        Effect.flatMap((doc) => AgentConfig.decode(doc, file, path)),
      )
      // Under its least-privilege flags, Deno does not let the agent look at the directories above its token
      // directories, so its check that no other user can write them sees only what it may read. This command reads
      // with the same rules and more permission: it makes that check in full (as the agent run with every permission
      // does), and refuses a configuration that fails it rather than print flags for it.
      if (kind === "agent") yield* AgentConfig.load(file)
      needs = kind === "agent"
        ? yield* PermissionsNeeds.agentNeeds(config, path)
        : yield* PermissionsNeeds.execCredentialAgentNeeds(config, name, flags.socketOwner)
    } else {
      needs = Permissions.kubeconfig(
        yield* PermissionsNeeds.kubeconfigTarget({
          kubeconfig: Option.getOrUndefined(flags.kubeconfig),
          context: Option.getOrUndefined(flags.context),
        }),
      )
    }
    if (kind === "exec-credential" && Option.isNone(flags.config)) {
      const cache = Option.isSome(flags.cacheDir)
        ? path.resolve(flags.cacheDir.value)
        : ExecCredential.defaultDirectory({
          XDG_CACHE_HOME: Option.getOrUndefined(yield* PermissionsNeeds.variable("XDG_CACHE_HOME")),
          HOME: Option.getOrUndefined(yield* PermissionsNeeds.variable("HOME")),
        }, path)
      // The cache's files are private: their owner is checked against the user and group.
      needs = Permissions.merge(needs, { ...Permissions.none, read: [cache], write: [cache], sys: ["uid", "getegid"] })
    }
    return yield* rendered(flags.runtime, needs)
  })

/** The flags of `runtime` for `needs`; on Node, with the package itself and its dependencies read. */
const rendered = (
  runtime: Permissions.Runtime,
  needs: Permissions.Needs,
): Effect.Effect<ReadonlyArray<string>, never, Path.Path> =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    if (runtime === "deno") return Permissions.render(needs, "deno")
    // Node reads the package itself: this module is two levels below its root both in the sources (adapters/cli)
    // and in the npm bin's bundle (dist/bin); and its dependencies, in the node_modules holding client-node.
    const packageRoot = yield* path.fromFileUrl(new URL("../../", import.meta.url)).pipe(Effect.option)
    const dependencies = yield* Effect.try(() => new URL(import.meta.resolve("@kubernetes/client-node"))).pipe(
      Effect.flatMap((url) => path.fromFileUrl(url)),
      Effect.map((file) => {
        const marker = `${path.sep}node_modules${path.sep}`
        const at = file.lastIndexOf(marker)
        return at < 0 ? [] : [file.slice(0, at + marker.length)]
      }),
      Effect.orElseSucceed(() => []),
    )
    return Permissions.render(
      Permissions.merge({ ...Permissions.none, read: dependencies }, needs),
      "node",
      Option.getOrUndefined(packageRoot),
    )
  })

const optional = (name: string, description: string) =>
  Options.text(name).pipe(Options.withDescription(description), Options.optional)

/** The `permissions` subcommand. */
export const command: Command.Command<
  "permissions",
  FileSystem.FileSystem | Path.Path | PrivateFile | ProcessControl,
  never,
  PermissionsFlags
> = Command.make(
  "permissions",
  {
    config: optional("config", "the agent's configuration file"),
    kubeconfig: optional("kubeconfig", "the kubeconfig of the token command"),
    context: optional("context", "the kubeconfig context of the token command"),
    cacheDir: optional("cache-dir", "the token cache directory of exec-credential"),
    name: optional("name", "the token name exec-credential asks the agent for (implies --for exec-credential)"),
    socket: optional("socket", "the agent's unix socket exec-credential asks (implies --for exec-credential)"),
    socketOwner: optional("socket-owner", "the user exec-credential trusts to own the agent's socket"),
    for: Options.choice("for", ["auto", "token", "agent", "exec-credential"]).pipe(
      Options.withDescription("the command to run (default: agent with --config, else token)"),
      Options.withDefault("auto" as const),
    ),
    runtime: Options.choice("runtime", ["deno", "node"]).pipe(
      Options.withDescription("print Deno's flags (default) or those of Node's permission model"),
      Options.withDefault("deno" as const),
    ),
  },
  (flags) =>
    compute(flags).pipe(
      Effect.flatMap((list) => Console.log(list.join(" "))),
      Effect.catchTags({
        ConfigError: (error) => exitWith(configExitCode, error.message),
        ExecCredentialError: (error) => exitWith(configExitCode, error.detail),
        EndpointClientError: (error) => exitWith(configExitCode, `${error.address}: ${error.detail}`),
      }),
    ),
).pipe(Command.withDescription("Print the least-privilege permission flags a command needs on Deno or Node"))
