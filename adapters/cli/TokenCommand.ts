/**
 * The `token` command: what `kubectl create token` does, through the token manager and the Kubernetes adapter.
 *
 * ```
 * token SERVICE_ACCOUNT [-n NAMESPACE] [--audience A]... [--duration 1h]
 *       [--bound-object-kind Pod|Secret|Node --bound-object-name N [--bound-object-uid U]]
 *       [--kubeconfig PATH] [--context NAME] [-o token|json|exec-credential]
 * ```
 *
 * It prints the bare token (with a newline only on a terminal, like kubectl), the TokenRequest as JSON (token
 * included, since that is what was asked for) or a `client.authentication.k8s.io/v1` ExecCredential. Errors go to
 * stderr as `error: …` with a non-zero exit code and never contain the token.
 *
 * @module
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Terminal from "@effect/platform/Terminal"
import * as ErrorBase from "../../core/ErrorBase.ts"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as HashSet from "effect/HashSet"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as TokenFetcher from "../../core/TokenFetcher.ts"
import * as TokenManager from "../../core/TokenManager.ts"
import { TokenRequestJson } from "../../core/TokenRequest.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import * as Validation from "../../core/Validation.ts"
import * as KubeConnection from "../kube/KubeConnection.ts"
import * as KubeTokenFetcher from "../kube/KubeTokenFetcher.ts"
import type { ProcessControl } from "../platform/ProcessControl.ts"
import type { TlsHttpClient } from "../platform/TlsHttpClient.ts"
import * as ExecCredential from "../agent/ExecCredential.ts"
import type { Output, TokenFlags } from "./TokenFlags.ts"
import { requestOptions, validate } from "./TokenFlags.ts"
import * as MissingPermission from "./MissingPermission.ts"

/** The fields of a {@link TokenCommandError}. */
export interface TokenCommandErrorFields {
  /** `Usage` for bad flags, `Connection` for kubeconfig or TLS problems, `Request` for a refused request. */
  readonly reason: "Usage" | "Connection" | "Request"
  /** What went wrong; never a token. */
  readonly detail: string
}

const TokenCommandErrorBase: ErrorBase.Constructor<"TokenCommandError", TokenCommandErrorFields> = ErrorBase.make(
  "TokenCommandError",
  (e) => e.reason === "Request" ? `failed to create token: ${e.detail}` : e.detail,
)

/** The command failed; its message is what is printed after `error: `. */
export class TokenCommandError extends TokenCommandErrorBase {}

/** Renders a response in the requested format (the token is revealed here, and only here). */
export const render = (response: TokenRequest, output: Output): string => {
  const status = response.status!
  switch (output) {
    case "token":
      return Redacted.value(status.token)
    case "json":
      return JSON.stringify(Schema.encodeSync(TokenRequestJson)(response), null, 4) + "\n"
    case "exec-credential":
      return ExecCredential.render(response, 4) + "\n"
  }
}

/** Requirements of {@link execute}. */
export type Requirements = KubeConnection.Requirements | TlsHttpClient

/** Validates the flags, loads the connection and obtains one token through the manager; returns the text to print. */
export const execute = (flags: TokenFlags): Effect.Effect<string, TokenCommandError, Requirements> =>
  Effect.gen(function* () {
    const valid = validate(flags)
    if ("error" in valid) return yield* new TokenCommandError({ reason: "Usage", detail: valid.error })
    const connection = yield* KubeConnection.load({
      kubeconfig: Option.getOrUndefined(flags.kubeconfig),
      context: Option.getOrUndefined(flags.context),
    }).pipe(Effect.mapError((e) => new TokenCommandError({ reason: "Connection", detail: e.message })))
    const namespace = Option.getOrElse(flags.namespace, () => connection.namespace)
    if (namespace === "") return yield* new TokenCommandError({ reason: "Usage", detail: "--namespace is required" })
    const fetcher = KubeTokenFetcher.layer().pipe(Layer.provide(KubeConnection.layerFrom(connection)))
    const manager = TokenManager.layerWith({ gc: false }).pipe(Layer.provide(fetcher))
    const lifetime = valid.request.spec.expirationSeconds
    // kubectl leaves the lower bound of the lifetime to the server, which may be configured with a lower one than the
    // 600 s the manager insists on before any call: such a request goes to the fetcher itself, and a server that
    // refuses it answers with its own 422 text
    const response = yield* (lifetime !== undefined && lifetime < Validation.minExpirationSeconds
      ? Effect.flatMap(TokenFetcher.TokenFetcher, (f) =>
        f.fetch(namespace, valid.name, valid.request)).pipe(
          Effect.provide(fetcher),
          Effect.mapError((e) =>
            e._tag === "TlsHttpClientError"
              ? new TokenCommandError({ reason: "Connection", detail: e.message })
              : new TokenCommandError({ reason: "Request", detail: e.message })
          ),
        )
      : Effect.flatMap(
        TokenManager.TokenManager,
        (m) => m.getServiceAccountToken(namespace, valid.name, valid.request),
      ).pipe(
        Effect.provide(manager),
        Effect.mapError((e) =>
          e._tag === "TlsHttpClientError"
            ? new TokenCommandError({ reason: "Connection", detail: e.message })
            : new TokenCommandError({
              reason: "Request",
              detail: e._tag === "InvalidTokenRequest" ? e.message : e.cause.message,
            })
        ),
      ))
    return render(response, valid.output)
  })

const flags = {
  ...requestOptions,
  output: Options.text("output").pipe(
    Options.withAlias("o"),
    Options.withDescription("token (default), json or exec-credential"),
    Options.withDefault("token"),
  ),
}

/**
 * The command's only logger, on stderr: the API server's warnings (`Warning: requested expiration of 7200 seconds
 * shortened to 3600 seconds`) as the bare lines kubectl prints, anything else in logfmt. Stdout carries nothing but the
 * result, so that `TOKEN=$(sa-token token …)` captures the token alone.
 */
export const logger: Logger.Logger<unknown, void> = Logger.withConsoleError(
  Logger.make((options) => {
    const [first, ...rest] = Array.isArray(options.message) ? options.message : [options.message]
    return typeof first === "string" && first.startsWith("Warning: ") && rest.length === 0
      ? first
      : Logger.logfmtLogger.log(options)
  }),
)

/** Runs the command: prints the result to stdout, or `error: …` to stderr and fails. */
export const handler = (
  f: TokenFlags,
): Effect.Effect<void, TokenCommandError, Requirements | Terminal.Terminal | ProcessControl> =>
  execute(f).pipe(
    // In place of every other logger, the runtime's pretty logger (which writes to stdout) included.
    Effect.locally(FiberRef.currentLoggers, HashSet.make(logger)),
    Effect.tapError((error) => MissingPermission.report(error, `error: ${error.message}`)),
    Effect.flatMap((text) =>
      Effect.gen(function* () {
        const terminal = yield* Terminal.Terminal
        const tty = yield* terminal.isTTY
        yield* terminal.display(text.endsWith("\n") || !tty ? text : `${text}\n`).pipe(Effect.orDie)
      })
    ),
  )

/** The `token` subcommand. */
export const command: Command.Command<
  "token",
  Requirements | Terminal.Terminal | ProcessControl,
  TokenCommandError,
  TokenFlags
> = Command.make("token", flags, handler).pipe(
  Command.withDescription("Request a service account token, like kubectl create token, through the token manager"),
)
