/**
 * The lean `exec-credential` answer from a running agent, for `--name NAME --socket PATH [--socket-owner USER]`: its
 * token, asked on its unix socket through the {@link LeanHost} port and read as the agent writes it (`TokenReply.ts`),
 * once the socket is known to be the agent's by the rules the full command applies (`SocketTrust.ts`). No YAML, no
 * store, no Schema. Only the bin entry loads this module, and gives it the runtime's host.
 *
 * @module
 */
import * as Micro from "effect/Micro"
import * as Option from "effect/Option"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import * as SocketTrust from "../agent/SocketTrust.ts"
import * as TokenReply from "../agent/TokenReply.ts"
import * as WriteAccess from "../agent/WriteAccess.ts"
import { LeanHost } from "../platform/LeanHost.ts"
import * as PosixPath from "../platform/PosixPath.ts"
import type { Flags } from "./ExecCredentialCommand.ts"
import { runWith } from "./ExecCredentialLean.ts"

/**
 * Whether the flags are `--name NAME --socket PATH`, with `--socket-owner USER` or without, alone (the full command
 * refuses token flags beside `--name`).
 */
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

/** The largest `/etc/passwd` read to find the uid of a `--socket-owner` given as a name. */
const maxPasswdBytes = 16 << 20

/** A call of the host, whose rejection fails the answer (which then leaves the command to the full CLI). */
const call = <A>(f: () => Promise<A>): Micro.Micro<A, unknown> => Micro.tryPromise({ try: f, catch: (error) => error })

/** The uid `--socket-owner` names; `undefined` for a name `/etc/passwd` does not hold. */
const ownerId = (host: LeanHost, owner: string): Micro.Micro<number | undefined, unknown> => {
  const numeric = WriteAccess.userId(owner, WriteAccess.noAccounts)
  if (numeric !== undefined) return Micro.succeed(numeric)
  return Micro.map(
    call(() => host.readFile("/etc/passwd", maxPasswdBytes)),
    (passwd) =>
      passwd === undefined
        ? undefined
        : WriteAccess.userId(owner, WriteAccess.parseAccounts(new TextDecoder().decode(passwd.data), "")),
  )
}

const parent = (path: string): string => PosixPath.resolve(path, "..")

/**
 * The path of the socket at `socket`, to ask it on, when it can only be the agent's (`SocketTrust.ts`): it belongs to
 * root, this user or the `--socket-owner`, and no other user can write a directory above it (of those this process
 * may examine, as for the full command); `undefined` otherwise.
 * A path through a symlink, a directory its group can write and a `--socket-owner` name `/etc/passwd` does not hold are
 * left to the full command, which follows each symlink, looks up the group's members and reports.
 */
const trusted = (
  host: LeanHost,
  socket: string,
  socketOwner: Option.Option<string>,
): Micro.Micro<string | undefined, unknown> =>
  Micro.gen(function* () {
    const owner = Option.isSome(socketOwner) ? yield* ownerId(host, socketOwner.value) : undefined
    if (Option.isSome(socketOwner) && owner === undefined) return undefined
    const me = host.uid()
    const path = PosixPath.resolve(host.cwd(), socket)
    if ((yield* call(() => host.realPath(path))) !== path) return undefined
    const info = yield* call(() => host.stat(path))
    if (info === undefined || SocketTrust.socketProblem(info.uid, me, owner) !== undefined) return undefined
    const allowed = SocketTrust.owners(me, owner)
    for (const directory of WriteAccess.upward(parent(path), parent)) {
      // A directory this process may not examine (a refused stat, as under the least-privilege flags that `sa-token
      // permissions` prints, having checked every directory itself) is skipped, as the full command's check skips it.
      const directoryInfo = yield* Micro.orElseSucceed(call(() => host.stat(directory)), () => "unexamined" as const)
      if (directoryInfo === "unexamined") continue
      if (directoryInfo === undefined || WriteAccess.examine(directory, directoryInfo, allowed, true) !== undefined) {
        return undefined
      }
    }
    return path
  })

/**
 * The running agent's token, asked on its unix socket, for `--name NAME --socket PATH` alone; none for any other
 * flags, when the socket may not be the agent's, or when the agent does not give a valid token (refused, not
 * declared, not ready, not JSON).
 */
export const fromSocket = (flags: Flags): Micro.Micro<Option.Option<TokenRequest>, never, LeanHost> =>
  agentOnly(flags)
    ? Micro.gen(function* () {
      const host = yield* Micro.service(LeanHost)
      const real = yield* trusted(host, flags.socket.value, flags.socketOwner)
      if (real === undefined) return Option.none()
      const reply = yield* call(() => host.unixGet(real, TokenReply.path(flags.name.value), TokenReply.asking))
      return Option.map(
        Option.fromNullable(reply.status === 200 ? TokenReply.decode(reply.body) : undefined),
        TokenReply.toResponse,
      )
    }).pipe(Micro.orElseSucceed(() => Option.none()))
    : Micro.succeed(Option.none())

/** Runs {@link fromSocket} for the bin's command line after `exec-credential`: whether the credential was printed. */
export const run: (args: ReadonlyArray<string>, host: LeanHost) => Promise<boolean> = runWith(fromSocket)
