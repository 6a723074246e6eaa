/**
 * A client of the agent's local endpoint (`GET /v1/tokens/NAME?format=json`) over the {@link LocalHttp} port, which
 * reaches a unix socket or a loopback port. Used by `exec-credential` to ask a running agent instead of making a
 * TokenRequest of its own. The token is decoded straight into `Redacted`.
 *
 * @example Serve an agent state on a loopback port and ask it for a token
 * ```ts
 * import assert from "node:assert/strict"
 * import { AgentState, Endpoint, EndpointClient } from "@sa-token/manager/agent"
 * import { NodeLocalHttp } from "@sa-token/manager/platform"
 * import * as Effect from "effect/Effect"
 * import * as Layer from "effect/Layer"
 * import * as Option from "effect/Option"
 * import * as Redacted from "effect/Redacted"
 *
 * const status: AgentState.TokenStatus = {
 *   name: "vault",
 *   namespace: "default",
 *   serviceAccount: "builder",
 *   key: "builder/default",
 *   phase: "valid",
 *   refreshes: 1,
 *   failures: 0,
 * }
 * const response = {
 *   spec: {},
 *   status: { token: Redacted.make("a.b.c"), expirationTimestamp: new Date(Date.now() + 3600_000) },
 * }
 * const state = Layer.succeed(AgentState.AgentState, {
 *   list: Effect.succeed([status]),
 *   token: (name) => Effect.succeed(name === "vault" ? Option.some({ response, status }) : Option.none()),
 *   ready: Effect.succeed(true),
 * })
 * const token = await Effect.gen(function* () {
 *   const bearerToken = Redacted.make("a-long-random-secret")
 *   const endpoint = yield* Endpoint.make({ _tag: "Tcp", host: "127.0.0.1", port: 0, bearerToken })
 *   assert.ok(endpoint.address._tag === "Tcp")
 *   const answer = yield* EndpointClient.token(
 *     { _tag: "Tcp", host: "127.0.0.1", port: endpoint.address.port, bearerToken },
 *     "vault",
 *   )
 *   return Redacted.value(answer.status!.token)
 * }).pipe(Effect.scoped, Effect.provide([state, NodeLocalHttp.layer]), Effect.runPromise)
 * assert.equal(token, "a.b.c")
 * ```
 *
 * @module
 */
import * as ErrorBase from "../../core/ErrorBase.ts"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { quote } from "../../core/TokenRequest.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import { LocalHttp } from "../platform/LocalHttp.ts"
import { PrivateFile } from "../platform/PrivateFile.ts"
import type { EndpointConfig } from "./Endpoint.ts"
import * as Ownership from "./Ownership.ts"
import * as SealedReply from "./SealedReply.ts"
import * as SocketTrust from "./SocketTrust.ts"
import * as TokenReply from "./TokenReply.ts"

/**
 * Why the agent did not give a token: nobody listens, the name is not declared, it has no valid token, the socket may
 * not be the agent's or the answer was not sealed by a holder of the bearer token (`Untrusted`: see {@link trustSocket}
 * and {@link token}), or other.
 */
export type EndpointClientErrorReason =
  | "Unavailable"
  | "NotDeclared"
  | "NotReady"
  | "Unauthorized"
  | "Untrusted"
  | "Protocol"

/** The fields of an {@link EndpointClientError}. */
export interface EndpointClientErrorFields {
  /** Why no token was given. */
  readonly reason: EndpointClientErrorReason
  /** The token name asked for. */
  readonly tokenName: string
  /** Where the agent was asked (`unix:PATH` or `HOST:PORT`). */
  readonly address: string
  /** What went wrong (never a token). */
  readonly detail: string
}

const EndpointClientErrorBase: ErrorBase.Constructor<"EndpointClientError", EndpointClientErrorFields> = ErrorBase.make(
  "EndpointClientError",
  (e) => `cannot get token ${quote(e.tokenName)} from the agent at ${e.address}: ${e.detail}`,
)

/** The agent did not give a token. The message never holds a token (bodies of refusals are not quoted). */
export class EndpointClientError extends EndpointClientErrorBase {}

const describe = (target: EndpointConfig): string =>
  target._tag === "Unix" ? `unix:${target.path}` : `${target.host}:${target.port}`

/**
 * Asks the agent for a token and returns it as a TokenRequest response (`status` only). Fails with `Unavailable` when
 * nothing listens at the address (the caller may then fetch the token itself).
 *
 * With a bearer token, the request only proves that it holds it and the answer must come sealed with it
 * ({@link SealedReply}): whatever listens at the address learns nothing it could ask the agent with, and an answer
 * that is not sealed with the token fails with `Untrusted`.
 */
export const token = (
  target: EndpointConfig,
  name: string,
  options: { readonly timeoutMillis?: number | undefined } = {},
): Effect.Effect<TokenRequest, EndpointClientError, LocalHttp> => {
  const fail = (reason: EndpointClientErrorReason, detail: string) =>
    new EndpointClientError({ reason, tokenName: name, address: describe(target), detail })
  const path = TokenReply.path(name)
  const address = target._tag === "Unix"
    ? { _tag: "Unix" as const, path: target.path }
    : { _tag: "Tcp" as const, host: target.host, port: target.port }
  const secret = target.bearerToken
  return Effect.gen(function* () {
    const http = yield* LocalHttp
    const sealing = secret === undefined ? undefined : { secret, ...yield* SealedReply.ask(secret, path) }
    const headers = sealing === undefined
      ? TokenReply.asking.headers
      : { ...TokenReply.asking.headers, authorization: sealing.authorization }
    const raw = yield* http.get(address, path, {
      headers,
      timeoutMillis: options.timeoutMillis ?? TokenReply.asking.timeoutMillis,
      maxBytes: TokenReply.asking.maxBytes,
    }).pipe(
      Effect.mapError((error) =>
        error.reason === "Refused"
          ? fail("Unavailable", `no agent is listening (${error.code})`)
          : fail("Unavailable", error.detail)
      ),
    )
    if (sealing === undefined || raw.status === 401) return raw
    const body = yield* SealedReply.open(sealing.secret, sealing.nonce, path, raw.status, raw.body)
    if (Option.isNone(body)) {
      return yield* fail(
        "Untrusted",
        `the answer (HTTP ${raw.status}) is not sealed with the endpoint's bearer token: ` +
          "what listens there is not the agent, or an agent too old to seal its answers",
      )
    }
    return { status: raw.status, body: body.value }
  }).pipe(
    Effect.flatMap((raw): Effect.Effect<TokenRequest, EndpointClientError> => {
      if (raw.status === 404) return Effect.fail(fail("NotDeclared", "the agent does not declare this token"))
      if (raw.status === 503) return Effect.fail(fail("NotReady", "the agent has no valid token for it yet"))
      if (raw.status === 401) return Effect.fail(fail("Unauthorized", "the agent refused the bearer token"))
      if (raw.status !== 200) return Effect.fail(fail("Protocol", `unexpected HTTP status ${raw.status}`))
      const reply = TokenReply.decode(raw.body)
      return reply === undefined
        ? Effect.fail(fail("Protocol", "the agent's answer is not a token in JSON"))
        : Effect.succeed(TokenReply.toResponse(reply))
    }),
  )
}

/** A socket found to be the agent's: the path to ask it on, and the symlinks its path's resolution followed. */
export interface TrustedSocket {
  /** The real path, or the path as given when nothing is there. */
  readonly path: string
  /** The symlinks followed, in order, each as the path it was read at. */
  readonly links: ReadonlyArray<string>
}

/**
 * The unix socket at `path`, once it is known to be the agent's (`SocketTrust.ts`): it belongs to root, this user or
 * `socketOwner` (a uid), and no other user could change where `path` leads: none can write a directory its resolution
 * consults, nor owns a symlink on the way (`Ownership.route`). The path to ask is the real one. Fails with `Untrusted`
 * naming what is wrong, or when the socket's owner cannot be read. When nothing is there, `path` itself: asking it
 * then fails with `Unavailable`.
 */
export const checkSocket = (
  path: string,
  name: string,
  socketOwner: number | undefined,
): Effect.Effect<TrustedSocket, EndpointClientError, PrivateFile | FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const files = yield* PrivateFile
    const untrusted = (detail: string) =>
      new EndpointClientError({ reason: "Untrusted", tokenName: name, address: `unix:${path}`, detail })
    const me = (yield* files.identity).uid
    const route = yield* Ownership.route(path, { uids: [...SocketTrust.owners(me, socketOwner)], fileIsAgents: true })
    if (Option.isSome(route.problem)) {
      return yield* untrusted(`${route.problem.value}, ${SocketTrust.directoryConsequence}`)
    }
    const asGiven = { path, links: route.links }
    if (Option.isNone(route.resolved)) return asGiven
    const info = yield* files.stat(route.resolved.value).pipe(
      Effect.mapError((error) => untrusted(`cannot check who owns the socket: ${error.message}`)),
    )
    if (Option.isNone(info)) return asGiven
    const owned = SocketTrust.socketProblem(info.value.uid, me, socketOwner)
    return owned === undefined ? { path: route.resolved.value, links: route.links } : yield* untrusted(owned)
  })

/** The path to ask the unix socket at `path` on, once {@link checkSocket} found it to be the agent's. */
export const trustSocket = (
  path: string,
  name: string,
  socketOwner: number | undefined,
): Effect.Effect<string, EndpointClientError, PrivateFile | FileSystem.FileSystem | Path.Path> =>
  Effect.map(checkSocket(path, name, socketOwner), (socket) => socket.path)
