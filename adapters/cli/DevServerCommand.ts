/**
 * The `dev-server` command: starts the development API server, writes the admin kubeconfig (mode 0600), prints one
 * line with its `https://` URL when it is ready, and stops cleanly on SIGINT and SIGTERM.
 *
 * ```
 * dev-server [--listen 127.0.0.1:6443] [--kubeconfig-out PATH] [--state FILE] [--issuer URL] [--api-audiences a,b]
 *            [--max-token-expiration DURATION] [--extend-token-expiration true|false] [--min-token-expiration DURATION]
 * ```
 *
 * @module
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { DevServerError } from "../devserver/DevServerError.ts"
import * as KubeWire from "../kube/KubeWire.ts"
import * as DevServer from "../devserver/mod.ts"
import { parseState } from "../devserver/StateFile.ts"

/** Parses a duration in whole seconds: Go's form (`1h30m`, `1.5h`, `90s`) or a bare number of seconds. */
export const parseDuration = (flag: string, text: string): Effect.Effect<number, DevServerError> => {
  const fail = (why: string) =>
    Effect.fail(new DevServerError({ reason: "Options", description: `--${flag}: ${why}: ${JSON.stringify(text)}` }))
  if (/^\d+$/.test(text)) return Effect.succeed(Number(text))
  const nanos = KubeWire.parseGoDuration(text)
  if (nanos === undefined) return fail("expected a duration such as 10m, 1h or 3600s")
  if (nanos % 1_000_000_000n !== 0n) return fail("must be a whole number of seconds")
  return nanos > 0n ? Effect.succeed(Number(nanos / 1_000_000_000n)) : fail("must be greater than zero")
}

/** The parsed flags of `dev-server`. */
export interface DevServerFlags {
  readonly listen: string
  readonly kubeconfigOut: Option.Option<string>
  readonly state: Option.Option<string>
  readonly issuer: Option.Option<string>
  readonly apiAudiences: Option.Option<string>
  readonly maxTokenExpiration: Option.Option<string>
  readonly extendTokenExpiration: "true" | "false"
  readonly minTokenExpiration: Option.Option<string>
}

const optionalText = (name: string, description: string) =>
  Options.text(name).pipe(Options.withDescription(description), Options.optional)

const flags = {
  listen: Options.text("listen").pipe(
    Options.withDescription("HOST:PORT to listen on (port 0 picks a free port)"),
    Options.withDefault("127.0.0.1:6443"),
  ),
  kubeconfigOut: optionalText("kubeconfig-out", "write an admin kubeconfig here (mode 0600)"),
  state: optionalText("state", "a YAML or JSON state file (default: namespace default, service account default)"),
  issuer: optionalText("issuer", "the service-account token issuer"),
  apiAudiences: optionalText("api-audiences", "comma-separated API audiences (default: the issuer)"),
  maxTokenExpiration: optionalText("max-token-expiration", "cap requested lifetimes to this duration (e.g. 1m, 1h)"),
  extendTokenExpiration: Options.choice("extend-token-expiration", ["true", "false"] as const).pipe(
    Options.withDescription("extend kubelet's 3607 s pod-bound tokens to one year"),
    Options.withDefault("true" as const),
  ),
  minTokenExpiration: optionalText("min-token-expiration", "the smallest accepted lifetime (default 10m; demos only)"),
}

const seconds = (flag: string, value: Option.Option<string>): Effect.Effect<number | undefined, DevServerError> =>
  Option.match(value, { onNone: () => Effect.succeed(undefined), onSome: (text) => parseDuration(flag, text) })

/** Builds the server options from the flags (reading the state file). */
export const toOptions = (
  f: DevServerFlags,
): Effect.Effect<DevServer.Options, DevServerError, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const state = Option.isSome(f.state)
      ? yield* fs.readFileString(f.state.value).pipe(
        Effect.mapError((e) =>
          new DevServerError({
            reason: "State",
            description: `${f.state.pipe(Option.getOrElse(() => ""))}: ${e.message}`,
          })
        ),
        Effect.flatMap((text) => parseState(text, Option.getOrElse(f.state, () => "state"))),
      )
      : undefined
    const max = yield* seconds("max-token-expiration", f.maxTokenExpiration)
    const min = yield* seconds("min-token-expiration", f.minTokenExpiration)
    const audiences = Option.map(f.apiAudiences, (a) => a.split(",").map((s) => s.trim()).filter((s) => s !== ""))
    return {
      listen: f.listen,
      extendTokenExpiration: f.extendTokenExpiration === "true",
      ...(state === undefined ? {} : { state }),
      ...(Option.isSome(f.kubeconfigOut) ? { kubeconfigOut: f.kubeconfigOut.value } : {}),
      ...(Option.isSome(f.issuer) ? { issuer: f.issuer.value } : {}),
      ...(Option.isSome(audiences) ? { apiAudiences: audiences.value } : {}),
      ...(max === undefined ? {} : { maxTokenExpirationSeconds: max }),
      ...(min === undefined ? {} : { minTokenExpirationSeconds: min }),
    }
  })

/** Runs the server until interrupted (SIGINT or SIGTERM through the runtime's `runMain`). */
export const run = (f: DevServerFlags): Effect.Effect<void, DevServerError, FileSystem.FileSystem> =>
  Effect.scoped(Effect.gen(function* () {
    const options = yield* toOptions(f)
    const max = options.maxTokenExpirationSeconds
    if (options.extendTokenExpiration !== false && max !== undefined && max > 0 && max < 3607) {
      // kube-apiserver's startup warning, on stderr so that stdout keeps its single ready line
      yield* Console.error(
        `Warning: service-account-extend-token-expiration is true, in order to correctly trigger safe transition logic, service-account-max-token-expiration must be set longer than 3607 seconds (currently ${max}s)`,
      )
    }
    const server = yield* DevServer.start(options)
    const where = options.kubeconfigOut === undefined ? "" : `, kubeconfig ${options.kubeconfigOut}`
    yield* Console.log(`dev-server listening on ${server.url} (issuer ${server.issuer}${where})`)
    return yield* Effect.never
  })).pipe(Effect.tapError((e) => Console.error(e.message)))

/** `dev-server`, for the root CLI's subcommands. */
export const command: Command.Command<"dev-server", FileSystem.FileSystem, DevServerError, DevServerFlags> = Command
  .make("dev-server", flags, run).pipe(
    Command.withDescription("Run the development API server (TokenRequest, discovery, OIDC/JWKS, TokenReview)"),
  )
