/**
 * The lean `exec-credential` answer from a running agent, for `--name NAME --socket PATH`: its token, asked on its
 * unix socket through the `LocalHttp` port (`node:http`, which Bun and Deno run as well, as their runtime layers do).
 * No file system, no YAML, no store. Only the bin entry loads this module.
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import * as EndpointClient from "../agent/EndpointClient.ts"
import * as NodeLocalHttp from "../platform/NodeLocalHttp.ts"
import type { LocalHttp } from "../platform/LocalHttp.ts"
import type { Flags } from "./ExecCredentialCommand.ts"
import { runWith } from "./ExecCredentialLean.ts"

/**
 * The running agent's token, asked on its unix socket, for `--name NAME --socket PATH` alone (the full command refuses
 * token flags beside `--name`); none for any other flags, or when the agent does not give it.
 */
export const fromSocket = (flags: Flags): Effect.Effect<Option.Option<TokenRequest>, never, LocalHttp> =>
  Option.isSome(flags.name) && Option.isSome(flags.socket) && Option.isNone(flags.config) &&
    Option.isNone(flags.serviceAccount) && Option.isNone(flags.cacheDir) && flags.audience.length === 0 &&
    [flags.namespace, flags.duration, flags.boundObjectKind, flags.boundObjectName, flags.boundObjectUid]
      .every(Option.isNone) &&
    Option.isNone(flags.kubeconfig) && Option.isNone(flags.context)
    ? EndpointClient.token({ _tag: "Unix", path: flags.socket.value }, flags.name.value).pipe(Effect.option)
    : Effect.succeedNone

/** Runs {@link fromSocket} for the bin's command line after `exec-credential`: whether the credential was printed. */
export const run: (args: ReadonlyArray<string>) => Promise<boolean> = runWith(fromSocket, NodeLocalHttp.layer)
