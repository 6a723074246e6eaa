/**
 * `sa-token demo` (what `npm start` runs): the development API server in-process, issuing tokens capped at 60 s (as
 * `--max-token-expiration 1m` would), and the agent of `examples/agent.yaml` against it. The config is copied into
 * the state directory (`.state/` by default) so that its relative token paths land in `.state/tokens/`; the server's
 * admin kubeconfig is written there too. A live status line per token shows rotations within a minute; Ctrl-C stops
 * everything.
 *
 * @module
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FileSystem from "@effect/platform/FileSystem"
import type { PlatformError } from "@effect/platform/Error"
import * as Path from "@effect/platform/Path"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as DevServer from "../devserver/mod.ts"
import { ProcessControl } from "../platform/ProcessControl.ts"
import type { TlsHttpClient } from "../platform/TlsHttpClient.ts"
import * as Agent from "../agent/Agent.ts"
import { configExitCode, exitWith } from "./AgentCommand.ts"
import * as Config from "../agent/Config.ts"
import * as Logging from "../agent/Logging.ts"
import * as StatusLine from "./StatusLine.ts"

/** The flags of the command. */
export interface DemoFlags {
  readonly config: string
  readonly stateDir: string
  readonly maxTokenExpiration: number
}

/** The lifetime the demo server caps tokens to, in seconds. */
export const demoMaxTokenExpirationSeconds = 60

const flags = {
  config: Options.text("config").pipe(
    Options.withDefault("examples/agent.yaml"),
    Options.withDescription("The agent configuration to run"),
  ),
  stateDir: Options.text("state-dir").pipe(
    Options.withDefault(".state"),
    Options.withDescription("Where the config copy, the kubeconfig and the token files go"),
  ),
  maxTokenExpiration: Options.integer("max-token-expiration").pipe(
    Options.withDefault(demoMaxTokenExpirationSeconds),
    Options.withDescription("The server's cap on token lifetimes, in seconds"),
  ),
}

const redraw = (lines: ReadonlyArray<string>, previous: number): string =>
  (previous > 0 ? `\x1b[${previous}F` : "") + lines.map((line) => `\x1b[2K${line}`).join("\n")

const demo = ({ config: configPath, stateDir, maxTokenExpiration }: DemoFlags) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dir = path.resolve(stateDir)
    yield* fs.makeDirectory(dir, { recursive: true, mode: 0o700 })
    const copy = path.join(dir, "agent.yaml")
    const source = yield* Config.load(configPath)
    yield* fs.copyFile(source.file, copy)
    const config = yield* Config.load(copy)
    const kubeconfig = path.join(dir, "kubeconfig")
    const server = yield* DevServer.start({ maxTokenExpirationSeconds: maxTokenExpiration, kubeconfigOut: kubeconfig })
    for (const token of config.tokens) {
      server.state.upsertNamespace(token.namespace)
      server.state.upsertServiceAccount(token.namespace, token.serviceAccount)
    }
    yield* Console.log(
      `development API server at ${server.url} (tokens capped at ${maxTokenExpiration} s; admin kubeconfig ${kubeconfig})`,
    )
    yield* Console.log(`agent: ${config.tokens.length} tokens from ${configPath}, files under ${dir}; Ctrl-C to stop\n`)
    const fetcher = yield* Agent.kubeFetcher({ kubeconfig, context: undefined, inCluster: false })
    const agent = yield* Agent.start(config, fetcher)
    yield* Agent.watchHangups(agent)
    const tty = yield* (yield* ProcessControl).stdoutIsTerminal
    let drawn = 0
    let last = ""
    yield* Effect.gen(function* () {
      const statuses = yield* agent.scheduler.list
      const lines = StatusLine.renderAll(statuses, yield* Clock.currentTimeMillis)
      if (tty) {
        yield* Console.log(redraw(lines, drawn))
        drawn = lines.length
        return
      }
      // not a terminal: print only when something other than the passing time changed
      const key = statuses.map((s) => `${s.name} ${s.phase} ${s.fingerprint} ${s.refreshes} ${s.failures}`).join("\n")
      if (key !== last) yield* Console.log(lines.join("\n") + "\n")
      last = key
    }).pipe(Effect.repeat(Schedule.spaced("1 second")))
  }).pipe(
    Effect.scoped,
    // the status lines show failures; the log shows only errors, so that it does not break the redraw
    Effect.provide(Logging.layer({ format: "text", level: "error" })),
    Effect.catchTag("ConfigError", (error) => exitWith(configExitCode, error.message)),
    Effect.tapError((error) => Console.error(`error: ${error.message}`)),
  )

/** The `demo` subcommand. */
export const command: Command.Command<
  "demo",
  Agent.Platform | TlsHttpClient,
  | Exclude<Agent.AgentError, { readonly _tag: "ConfigError" }>
  | DevServer.DevServerError
  | PlatformError,
  DemoFlags
> = Command.make("demo", flags, demo).pipe(
  Command.withDescription("Run the agent of examples/agent.yaml against an in-process development API server"),
)
