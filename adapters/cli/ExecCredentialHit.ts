/**
 * The lean answers of `sa-token exec-credential`, given without loading the CLI framework, the kubeconfig loader or a
 * TLS client: kubectl runs its exec plugin on every command, so these are the paths it pays for almost every time.
 * This module holds what they share ({@link answer}: print the credential or stay silent) and the agent's socket
 * (`--name NAME --socket PATH`); the on-disk cache is `ExecCredentialCacheHit.ts`.
 *
 * Anything a lean path cannot answer, and anything that goes wrong in it, is left to the full command
 * (`ExecCredentialCommand.ts`), which reads the arguments again and answers or reports the error itself: a lean path
 * only ever prints what the full command would have printed, and prints nothing (no log line either) otherwise.
 *
 * @module
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import * as EndpointClient from "../agent/EndpointClient.ts"
import * as ExecCredential from "../agent/ExecCredential.ts"
import type { Flags } from "./ExecCredentialCommand.ts"

/**
 * Prints the ExecCredential of the token found and succeeds with true; succeeds with false, printing nothing, when none
 * was found or the search failed in any way (the full command then tries, and reports).
 */
export const answer = <E, R>(
  found: Effect.Effect<Option.Option<TokenRequest>, E, R>,
): Effect.Effect<boolean, never, R> =>
  found.pipe(
    Effect.flatMap(Option.match({
      onNone: () => Effect.succeed(false),
      onSome: (response) => Console.log(ExecCredential.render(response)).pipe(Effect.as(true)),
    })),
    Effect.catchAllCause(() => Effect.succeed(false)),
    Logger.withMinimumLogLevel(LogLevel.None),
  )

/**
 * The running agent's token, asked on its unix socket, for `--name NAME --socket PATH` alone (the full command refuses
 * token flags beside `--name`); none for any other flags, or when the agent does not give it.
 */
export const fromSocket = (flags: Flags): Effect.Effect<Option.Option<TokenRequest>> =>
  Option.isSome(flags.name) && Option.isSome(flags.socket) && Option.isNone(flags.config) &&
    Option.isNone(flags.serviceAccount) && Option.isNone(flags.cacheDir) && flags.audience.length === 0 &&
    [flags.namespace, flags.duration, flags.boundObjectKind, flags.boundObjectName, flags.boundObjectUid]
      .every(Option.isNone) &&
    Option.isNone(flags.kubeconfig) && Option.isNone(flags.context)
    ? EndpointClient.token({ _tag: "Unix", path: flags.socket.value }, flags.name.value).pipe(Effect.option)
    : Effect.succeedNone

/** {@link answer} of {@link fromSocket}, run: whether the credential was printed. */
export const socket = (flags: Flags): Promise<boolean> => Effect.runPromise(answer(fromSocket(flags)))
