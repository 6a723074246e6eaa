/**
 * Whom `exec-credential` believes when it asks an agent on a unix socket. Whoever listens there decides which token
 * kubectl sends: a local user who could put their own socket at that path (a socket path under `/tmp`, or in a
 * directory they can write) could make another user's kubectl act as a service account of their choosing. So a
 * socket is asked only when it belongs to root, to the caller, or to the user named with `--socket-owner` (the agent's
 * own user, when it does not run as root), and when no other user can write the directories that lead to it, the
 * socket's own directory included (a sticky one such as `/tmp` is safe there: nobody else can remove or rename the
 * socket, and a socket they put in its place would belong to them). Every directory the path's resolution consults is
 * checked by the rules of `WriteAccess.ts`, and every symlink on the way must belong to one of those users too
 * (`Ownership.route`); the socket is then asked on its real path.
 *
 * The full command checks through the `PrivateFile` port (`EndpointClient.trustSocket`), the lean answer through its
 * own port; both with these functions, which load no Effect module.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import * as SocketTrust from "./SocketTrust.ts"
 *
 * assert.deepEqual([...SocketTrust.owners(1000, 999)], [0, 1000, 999])
 * assert.equal(SocketTrust.socketProblem(999, 1000, 999), undefined)
 * assert.equal(
 *   SocketTrust.socketProblem(1001, 1000, undefined),
 *   "the socket belongs to uid 1001; only a socket of root, of this user (uid 1000) or of --socket-owner is asked",
 * )
 * ```
 *
 * @module
 */
/** The users whose socket is asked: root, this user (`me`), and the `--socket-owner` when given. */
export const owners = (me: number, socketOwner: number | undefined): ReadonlySet<number> =>
  new Set(socketOwner === undefined ? [0, me] : [0, me, socketOwner])

/** Why a socket owned by `uid` is not asked, or `undefined` when its owner is one of {@link owners}. */
export const socketProblem = (uid: number, me: number, socketOwner: number | undefined): string | undefined =>
  owners(me, socketOwner).has(uid)
    ? undefined
    : `the socket belongs to uid ${uid}; only a socket of root, of this user (uid ${me}) or of --socket-owner is asked`

/** What follows a directory's problem in a refusal: why it matters for the socket. */
export const directoryConsequence = "so another user could put their own socket at the agent's path"
