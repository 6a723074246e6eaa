/**
 * The lean `exec-credential` answer from a running agent, for `--name NAME --socket PATH`: its token, asked on its
 * unix socket through the {@link LeanHost} port and read as the agent writes it (`TokenReply.ts`). No file system, no
 * YAML, no store, no Schema. Only the bin entry loads this module, and gives it the runtime's host.
 *
 * @module
 */
import * as Micro from "effect/Micro"
import * as Option from "effect/Option"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import * as TokenReply from "../agent/TokenReply.ts"
import { LeanHost } from "../platform/LeanHost.ts"
import type { Flags } from "./ExecCredentialCommand.ts"
import { runWith } from "./ExecCredentialLean.ts"

/** Whether the flags are `--name NAME --socket PATH` alone (the full command refuses token flags beside `--name`). */
const agentOnly = (
  flags: Flags,
): flags is Flags & { readonly name: Option.Some<string>; socket: Option.Some<string> } =>
  Option.isSome(flags.name) && Option.isSome(flags.socket) && flags.audience.length === 0 &&
  [
    flags.config,
    flags.serviceAccount,
    flags.cacheDir,
    flags.namespace,
    flags.duration,
    flags.boundObjectKind,
    flags.boundObjectName,
    flags.boundObjectUid,
    flags.kubeconfig,
    flags.context,
  ].every(Option.isNone)

/**
 * The running agent's token, asked on its unix socket, for `--name NAME --socket PATH` alone; none for any other
 * flags, or when the agent does not give a valid token (refused, not declared, not ready, not JSON).
 */
export const fromSocket = (flags: Flags): Micro.Micro<Option.Option<TokenRequest>, never, LeanHost> =>
  agentOnly(flags)
    ? Micro.flatMap(Micro.service(LeanHost), (host) =>
      Micro.tryPromise({
        try: () => host.unixGet(flags.socket.value, TokenReply.path(flags.name.value), TokenReply.asking),
        catch: (error) => error,
      }).pipe(
        Micro.map((reply) => reply.status === 200 ? TokenReply.decode(reply.body) : undefined),
        Micro.map((reply) => Option.map(Option.fromNullable(reply), TokenReply.toResponse)),
        Micro.orElseSucceed(() => Option.none()),
      ))
    : Micro.succeed(Option.none())

/** Runs {@link fromSocket} for the bin's command line after `exec-credential`: whether the credential was printed. */
export const run: (args: ReadonlyArray<string>, host: LeanHost) => Promise<boolean> = runWith(fromSocket)
